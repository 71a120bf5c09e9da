"""Model files that never run code. A Lightning checkpoint is unpickled with `weights_only=True`
(tensors and plain values only; anything else is refused before it can run), and the shipped
weights are safetensors: tensors and a JSON header, nothing executable.

Both give the CRNN's weights (keys of `crnn_pl.model.CRNN`) and the hyper-parameters that rebuild
it (charset, image spec, network config). Neither is trusted to describe itself: the hyper-parameters
are checked (the model card's schema, network sizes within bounds) and the network they describe is
laid out without memory (PyTorch's meta device) and compared, shape by shape, with the weights in
the file before anything is allocated, so a small file cannot ask for gigabytes.
"""

from __future__ import annotations

import contextlib
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import torch

from crnn_pl.core.card import CardError, ModelCard
from crnn_pl.core.errors import UserError
from crnn_pl.model.crnn import CRNN, INPUT_HEIGHT

HPARAMS_KEY = "hyper_parameters"        # safetensors metadata: CRNNModule's hyper-parameters as JSON
NETWORK_KEYS = ("conv_channels", "hidden_size", "num_lstm_layers", "dropout")
# The widest network a model file may describe: 8x the paper's widest layer, far past any CRNN.
MAX_WIDTH, MAX_LSTM_LAYERS = 4096, 8


class UnsafeModelError(UserError, ValueError):
    """A model file that is not plain data: loading it could run code, so it is refused."""


class ModelFileError(UserError, ValueError):
    """A model file that is not one this project wrote (unreadable, or missing what it needs)."""


@contextlib.contextmanager
def refusing_code(path: str | Path) -> Iterator[None]:
    """Around a `weights_only=True` load: a file holding Python objects (which unpickling would
    run) becomes one UnsafeModelError naming it."""
    try:
        yield
    except pickle.UnpicklingError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = next((line for line in lines if "global" in line.lower()), None)
        if reason is None:          # not a refused object: a damaged or foreign file
            detail = next((line for line in lines if "operand" in line.lower() or "load key" in line.lower()),
                          lines[0] if lines else "")
            raise ModelFileError(f"{path}: not a PyTorch checkpoint ({detail[:160]})") from None
        raise UnsafeModelError(
            f"{path}: refused: this file holds Python objects that would run code when loaded "
            f"({reason[:160]}). Model files are read as data only: a checkpoint written by crnn_pl "
            "training, a .safetensors or an .onnx file.") from None


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint's contents, unpickled with weights_only=True: a file holding anything but
    tensors and plain values raises UnsafeModelError and runs nothing."""
    try:
        with refusing_code(path):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError) as error:
        raise ModelFileError(f"{path}: not a PyTorch checkpoint ({str(error).splitlines()[0][:160]})") from None


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(CRNN weights, hyper-parameters) of a Lightning checkpoint or a .safetensors file, the
    hyper-parameters checked (`check_hparams`)."""
    path = Path(path)
    weights, hparams = read_safetensors(path) if path.suffix == ".safetensors" else read_checkpoint(path)
    check_hparams(hparams, path)
    return weights, hparams


def read_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    checkpoint = load_checkpoint(path)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "hyper_parameters" not in checkpoint:
        raise ModelFileError(f"{path}: not a crnn_pl checkpoint (no state_dict and hyper_parameters)")
    state, hparams = checkpoint["state_dict"], checkpoint["hyper_parameters"]
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ModelFileError(f"{path}: not a crnn_pl checkpoint (its state_dict is not a mapping of tensors)")
    if not isinstance(hparams, dict):
        raise ModelFileError(f"{path}: not a crnn_pl checkpoint (its hyper_parameters are a "
                             f"{type(hparams).__name__}, not a mapping)")
    weights = {k.removeprefix("model."): v for k, v in state.items() if isinstance(k, str) and k.startswith("model.")}
    return weights, dict(hparams)


def read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            weights = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError) as error:
        raise ModelFileError(f"{path}: not a safetensors file ({error})") from None
    if HPARAMS_KEY not in metadata:
        raise ModelFileError(f"{path}: no {HPARAMS_KEY} in its metadata; write it with crnn-export (safetensors)")
    try:
        hparams = json.loads(metadata[HPARAMS_KEY])
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path}: its {HPARAMS_KEY} metadata is not JSON ({error})") from None
    if not isinstance(hparams, dict):
        raise ModelFileError(f"{path}: its {HPARAMS_KEY} metadata is a JSON {type(hparams).__name__}, not an object")
    return weights, hparams


def check_hparams(hparams: dict, path: Path) -> None:
    """The model card's schema (charset, image spec) and network sizes within bounds, or one
    ModelFileError naming the file and the value."""
    try:
        ModelCard.from_hparams(hparams, str(path))
    except CardError as error:
        raise ModelFileError(str(error)) from None
    channels = hparams.get("conv_channels", [1] * 7)
    layers_ok = isinstance(channels, (list, tuple)) and len(channels) == 7
    if not layers_ok or not all(whole(c, 1, MAX_WIDTH) for c in channels):
        raise ModelFileError(f"{path}: conv_channels must be 7 whole numbers from 1 to {MAX_WIDTH}, "
                             f"got {str(channels)[:60]}")
    bounds = {"hidden_size": (1, MAX_WIDTH), "num_lstm_layers": (1, MAX_LSTM_LAYERS)}
    for key, (low, high) in bounds.items():
        if key in hparams and not whole(hparams[key], low, high):
            raise ModelFileError(f"{path}: {key} must be a whole number from {low} to {high}, "
                                 f"got {str(hparams[key])[:40]}")
    dropout = hparams.get("dropout", 0.0)
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout < 1:
        raise ModelFileError(f"{path}: dropout must be a number from 0 to below 1, got {str(dropout)[:40]}")


def whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def write_safetensors(path: str | Path, weights: dict[str, torch.Tensor], hparams: dict) -> None:
    from safetensors.torch import save_file

    tensors = {key: value.detach().cpu().contiguous() for key, value in weights.items()}
    save_file(tensors, str(path), metadata={HPARAMS_KEY: json.dumps(hparams, ensure_ascii=False)})


def build_crnn(hparams: dict) -> CRNN:
    """The network these hyper-parameters describe, with fresh weights."""
    network = {key: hparams[key] for key in NETWORK_KEYS if key in hparams}
    if "conv_channels" in network:
        network["conv_channels"] = list(network["conv_channels"])
    return CRNN(num_classes=len(hparams["charset"]) + 1, in_channels=hparams["channels"],
                input_height=hparams.get("height", INPUT_HEIGHT), **network)


def load_crnn(path: str | Path) -> tuple[CRNN, dict]:
    """The CRNN of a checkpoint or safetensors file, in eval mode, and its hyper-parameters. The
    weights must fit the network the hyper-parameters describe, checked before it is built."""
    weights, hparams = read_weights(path)
    check_weights_fit(weights, hparams, path)
    model = build_crnn(hparams)
    model.load_state_dict(weights)
    return model.eval(), hparams


def check_weights_fit(weights: dict[str, torch.Tensor], hparams: dict, path: str | Path) -> None:
    """ModelFileError unless `weights` are exactly the CRNN `hparams` describe, key by key and shape
    by shape, checked on the meta device: nothing is allocated, however large the sizes claimed."""
    try:
        with torch.device("meta"):
            layout = build_crnn(hparams).state_dict()
    except (ValueError, UserError) as error:
        raise ModelFileError(f"{path}: its hyper-parameters describe no CRNN ({error})") from None
    misfits = sorted(set(layout) ^ set(weights))
    misfits += [key for key in sorted(set(layout) & set(weights)) if layout[key].shape != weights[key].shape]
    if misfits:
        key = misfits[0]
        detail = (f"{key}: {tuple(weights[key].shape)} in the file, {tuple(layout[key].shape)} described"
                  if key in weights and key in layout else f"{key} {'missing' if key in layout else 'unexpected'}")
        raise ModelFileError(f"{path}: weights do not fit the network its hyper-parameters describe "
                             f"({len(misfits)} misfit{'s' if len(misfits) > 1 else ''}, e.g. {detail})")
