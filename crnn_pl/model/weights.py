"""Model files that never run code. A Lightning checkpoint is unpickled with `weights_only=True`
(tensors and plain values only; anything else is refused before it can run), and the shipped
weights are safetensors: tensors and a JSON header, nothing executable.

Both give the CRNN's weights (keys of `crnn_pl.model.CRNN`) and the hyper-parameters that rebuild
it (charset, image spec, network config).
"""

from __future__ import annotations

import contextlib
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import torch

from crnn_pl.core.errors import UserError
from crnn_pl.model.crnn import CRNN, INPUT_HEIGHT

HPARAMS_KEY = "hyper_parameters"        # safetensors metadata: CRNNModule's hyper-parameters as JSON
NETWORK_KEYS = ("conv_channels", "hidden_size", "num_lstm_layers", "dropout")


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
    """(CRNN weights, hyper-parameters) of a Lightning checkpoint or a .safetensors file."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    checkpoint = load_checkpoint(path)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "hyper_parameters" not in checkpoint:
        raise ModelFileError(f"{path}: not a crnn_pl checkpoint (no state_dict and hyper_parameters)")
    weights = {k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items() if k.startswith("model.")}
    return weights, dict(checkpoint["hyper_parameters"])


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
    return weights, json.loads(metadata[HPARAMS_KEY])


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
    """The CRNN of a checkpoint or safetensors file, in eval mode, and its hyper-parameters."""
    weights, hparams = read_weights(path)
    model = build_crnn(hparams)
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        raise ModelFileError(f"{path}: weights do not fit the network its hyper-parameters describe "
                             f"({str(error).splitlines()[0][:160]})") from None
    return model.eval(), hparams
