"""crnn_pl: CRNN scene-text word recognition on PyTorch Lightning.

The public face: `CRNNModule.from_pretrained("en").read(images)`, or `Recognizer(path).read(images)`
for any export. Importing this package loads neither torch, Lightning nor Hydra: `CRNNModule` and
`Recognizer` are imported when first used, so reading with an ONNX file never pays for training.
"""

import os

# albumentations checks PyPI for a newer version at import unless told not to.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from crnn_pl.charset import Charset  # noqa: E402
from crnn_pl.data.preprocess import ImageSpec, prepare, preprocess  # noqa: E402

__all__ = ["CRNNModule", "Charset", "ImageSpec", "Recognizer", "prepare", "preprocess"]


def __getattr__(name: str):
    if name == "CRNNModule":
        from crnn_pl.module import CRNNModule

        return CRNNModule
    if name == "Recognizer":
        from crnn_pl.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'crnn_pl' has no attribute {name!r}")
