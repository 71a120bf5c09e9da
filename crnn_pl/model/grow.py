"""A trained CRNN grown into a wider one that reads exactly as it did (`pretrained=` across widths).

Training a bigger network from scratch spends its first hours on CTC's blank plateau; growing the
trained one starts the bigger network where the small one stands. Every weight of the source keeps
its place; every new unit (a convolution filter, an LSTM hidden unit) keeps its fresh init for what
flows into it, and what flows out of it into an old unit is zero. So, in eval mode, the grown
network computes the source's function exactly, and training moves the new units from there
(their outgoing weights get gradients at once, since the new units are active).

Layout of the LSTM tensors (PyTorch): the gate blocks (input, forget, cell, output) stack H rows
each, and a bidirectional layer's output concatenates H forward then H backward units, so an old
unit's position in a grown tensor is not its old index: `gate_rows` and `direction_columns` map it.
"""

from __future__ import annotations

import re

import torch

from crnn_pl.core.errors import ConfigError

GATES = 4
PAIRED_INPUTS = re.compile(r"^(classifier\.weight|sequence\.weight_ih_l[1-9]\d*(_reverse)?)$")


def gate_rows(hidden: int, grown: int) -> torch.Tensor:
    """Where the old rows of an LSTM's stacked gates sit when H grows to `grown`."""
    return torch.cat([gate * grown + torch.arange(hidden) for gate in range(GATES)])


def direction_columns(hidden: int, grown: int) -> torch.Tensor:
    """Where the old columns of a bidirectional output (forward then backward) sit when H grows."""
    return torch.cat([torch.arange(hidden), grown + torch.arange(hidden)])


def hidden_sizes(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> tuple[int, int]:
    return source["sequence.weight_hh_l0"].shape[1], target["sequence.weight_hh_l0"].shape[1]


def positions(key: str, dim: int, old: int, new: int, hidden: tuple[int, int]) -> torch.Tensor:
    """The indices in the grown tensor's dimension `dim` of the source tensor's entries."""
    if old == new:
        return torch.arange(old)
    if key.startswith("sequence.") and dim == 0:
        return gate_rows(*hidden)
    if dim == 1 and PAIRED_INPUTS.match(key):
        return direction_columns(*hidden)
    return torch.arange(old)            # a convolution's or a normalisation's channels: the first ones


def grow_state(source: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`source`'s weights inside a wider network whose fresh state dict is `fresh` (same layers,
    each at least as wide; the classifier keeps the source's rows, for the charset mapping after)."""
    if set(source) != set(fresh):
        raise ConfigError("a different network (other layers): only wider convolutions and LSTMs can grow from it")
    hidden = hidden_sizes(source, fresh)
    grown = {}
    for key, old in source.items():
        new = fresh[key]
        if key.startswith("classifier."):       # its rows are the charset's: mapped by the caller
            new = torch.zeros((old.shape[0], *new.shape[1:]), dtype=old.dtype)
        if old.shape == new.shape:
            grown[key] = old.clone()
            continue
        if old.dim() != new.dim() or old.shape[2:] != new.shape[2:] or any(
                o > n for o, n in zip(old.shape, new.shape, strict=True)):
            raise ConfigError(f"{key}: {tuple(old.shape)} cannot grow into {tuple(new.shape)} "
                              "(only more channels or hidden units, same kernels and height)")
        index = [positions(key, dim, o, n, hidden)
                 for dim, (o, n) in enumerate(zip(old.shape, new.shape, strict=True))]
        result = new.clone()
        if old.dim() >= 2:
            result[index[0]] = 0         # an old unit hears nothing from a new one
        result[broadcast(index)] = old
        grown[key] = result
    return grown


def broadcast(index: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """numpy's ix_: one index tensor per dimension, shaped to select their outer product."""
    dims = len(index)
    return tuple(positions.reshape([-1 if d == dim else 1 for d in range(dims)])
                 for dim, positions in enumerate(index))
