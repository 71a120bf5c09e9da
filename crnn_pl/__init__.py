"""crnn_pl: CRNN scene-text word recognition on PyTorch Lightning.

The public face: `CRNNModule.load_from_checkpoint(path).read(images)`. Importing this
package loads neither Hydra nor the training entry point.
"""

import os

# albumentations checks PyPI for a newer version at import unless told not to.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from crnn_pl.charset import Charset  # noqa: E402
from crnn_pl.data.preprocess import ImageSpec, preprocess  # noqa: E402
from crnn_pl.module import CRNNModule  # noqa: E402

__all__ = ["CRNNModule", "Charset", "ImageSpec", "preprocess"]
