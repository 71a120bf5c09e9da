"""Export a trained CRNN to every format, verify each against PyTorch: one writer per format
behind `crnn_pl.export.base.Writer`, registered in crnn_pl.runtime.formats."""

from crnn_pl.export.base import ExportError, Trained, Writer, writer

__all__ = ["ExportError", "Trained", "Writer", "writer"]
