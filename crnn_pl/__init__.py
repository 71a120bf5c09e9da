"""crnn_pl: CRNN scene-text word recognition on PyTorch Lightning.

The public face: `Recognizer("en").read(images)` reads with the shipped model or any model file
(the base install: numpy, OpenCV, Pillow, ONNX Runtime); `CRNNModule.from_pretrained("en")` trains
and reads with PyTorch (`pip install 'crnn_pl[train]'`). Importing this package loads neither
torch, Lightning nor Hydra: `CRNNModule` and `Recognizer` are imported when first used.
"""

import os

# albumentations checks PyPI for a newer version at import unless told not to.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from crnn_pl.core.charset import Charset  # noqa: E402
from crnn_pl.core.ctc import DecoderSettings  # noqa: E402
from crnn_pl.core.preprocess import ImageSpec, prepare  # noqa: E402

__all__ = ["CRNNModule", "Charset", "DecoderSettings", "ImageSpec", "Recognizer", "prepare"]


def __getattr__(name: str):
    if name == "CRNNModule":
        from crnn_pl.training.module import CRNNModule

        return CRNNModule
    if name == "Recognizer":
        from crnn_pl.runtime.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'crnn_pl' has no attribute {name!r}")
