from crnn_pl.model.crnn import CRNN, count_mflops, count_parameters

__all__ = ["CRNN", "count_mflops", "count_parameters"]
