"""Models shipped inside the package, by name, in files that cannot run code:

    <name>.onnx         what reading uses (crnn-predict word.png, Recognizer("en")): the base install
                        reads it with ONNX Runtime; its model card is in the ONNX metadata
    <name>.safetensors  the same weights for PyTorch: fine-tuning (pretrained=en), crnn-export model=en,
                        CRNNModule.from_pretrained("en")
    <name>.md           the model card for people: recipe, training data, measured accuracy

This module imports nothing heavy: resolving a name needs neither torch nor onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

from crnn_pl.core.errors import UserError

PRETRAINED_DIR = Path(__file__).parent
SHIPPED = ("en",)
READ_SUFFIX, WEIGHTS_SUFFIX = ".onnx", ".safetensors"


class UnknownModelError(UserError, FileNotFoundError):
    pass


def shipped_model(name: str, weights: bool = False) -> Path:
    """The file of a shipped model (ONNX for reading; safetensors with `weights`), or a clear error
    listing the names there are."""
    if name not in SHIPPED:
        raise UnknownModelError(f"no pretrained model named {name!r}; shipped: {', '.join(SHIPPED)}")
    path = PRETRAINED_DIR / f"{name}{WEIGHTS_SUFFIX if weights else READ_SUFFIX}"
    if not path.is_file():
        raise UnknownModelError(f"pretrained model {name!r} is missing from the installed package ({path})")
    return path


def resolve_model(model: str | Path, weights: bool = False) -> Path:
    """A shipped model's name becomes its file; anything else is taken as a path."""
    return shipped_model(str(model), weights) if str(model) in SHIPPED else Path(model)
