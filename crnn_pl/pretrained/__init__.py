"""Models shipped inside the package, by name: weights and model card only, no optimiser state.

    CRNNModule.from_pretrained("en")              crnn-predict word.png          (uses "en")
    python train.py pretrained=en ...             crnn-export checkpoint=en      crnn-eval model_path=en

Each `<name>.ckpt` is a Lightning checkpoint holding `state_dict` and `hyper_parameters` (charset,
image spec, network config), so every tool that takes a checkpoint takes it; `<name>.md` is its
model card (recipe, training data, measured accuracy). This module imports nothing heavy: resolving
a name needs neither torch nor Lightning.
"""

from __future__ import annotations

from pathlib import Path

PRETRAINED_DIR = Path(__file__).parent
SHIPPED = {"en": "en.ckpt"}


class UnknownModelError(FileNotFoundError):
    pass


def shipped_model(name: str) -> Path:
    """The file of a shipped model, or a clear error listing the names there are."""
    if name not in SHIPPED:
        raise UnknownModelError(f"no pretrained model named {name!r}; shipped: {', '.join(sorted(SHIPPED))}")
    path = PRETRAINED_DIR / SHIPPED[name]
    if not path.is_file():
        raise UnknownModelError(f"pretrained model {name!r} is missing from the installed package ({path})")
    return path


def resolve_model(model: str | Path) -> Path:
    """A shipped model's name becomes its file; anything else is taken as a path."""
    return shipped_model(str(model)) if str(model) in SHIPPED else Path(model)
