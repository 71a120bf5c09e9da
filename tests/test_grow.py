"""pretrained= into a wider network: the grown network reads exactly as the source did, then trains."""

from __future__ import annotations

import pytest
import torch

from crnn_pl.core.errors import ConfigError
from crnn_pl.model.crnn import CRNN
from crnn_pl.model.grow import direction_columns, gate_rows, grow_state
from crnn_pl.model.weights import write_safetensors
from crnn_pl.training.module import CRNNModule

SMALL = dict(conv_channels=[4, 4, 8, 8, 8, 8, 8], hidden_size=8)
WIDE = dict(conv_channels=[6, 6, 12, 12, 16, 16, 16], hidden_size=12)


def trained_looking(model: CRNN) -> CRNN:
    """Random weights and normalisation statistics, as training leaves them, in eval mode."""
    torch.manual_seed(0)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def test_the_lstm_layout_maps_old_units_to_their_grown_places():
    assert gate_rows(2, 3).tolist() == [0, 1, 3, 4, 6, 7, 9, 10]
    assert direction_columns(2, 3).tolist() == [0, 1, 3, 4]


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_a_grown_network_computes_the_source_function(layers):
    source = trained_looking(CRNN(11, num_lstm_layers=layers, **SMALL))
    grown = CRNN(11, num_lstm_layers=layers, **WIDE)
    grown.load_state_dict(grow_state(source.state_dict(), grown.state_dict()))
    grown.eval()
    images = torch.randn(3, 1, 32, 60)
    with torch.no_grad():
        torch.testing.assert_close(grown(images), source(images), atol=1e-5, rtol=0)
    # and the new units are alive: their outgoing weights get gradients at once
    grown.train()
    grown(images).sum().backward()
    assert grown.classifier.weight.grad[:, 8:12].abs().sum() > 0


def test_pretrained_grows_a_smaller_model_into_the_configured_one_with_a_new_charset(tmp_path):
    small = CRNNModule(charset="abc", **SMALL)
    trained_looking(small.model)
    path = tmp_path / "small.safetensors"
    write_safetensors(path, small.model.state_dict(), dict(small.hparams))
    wide = CRNNModule(charset="abcd", **WIDE)
    rows = wide.load_pretrained(str(path))
    assert rows == {"copied_rows": 4, "new_rows": 1, "grown": True}
    wide.eval()
    images = torch.randn(2, 1, 32, 100)
    with torch.no_grad():
        torch.testing.assert_close(wide.model(images)[..., :4], small.model(images), atol=1e-5, rtol=0)


def test_a_narrower_or_other_network_is_a_clear_error(tmp_path):
    wide = CRNNModule(charset="abc", **WIDE)
    path = tmp_path / "wide.safetensors"
    write_safetensors(path, wide.model.state_dict(), dict(wide.hparams))
    with pytest.raises(ConfigError, match="cannot grow into"):
        CRNNModule(charset="abc", **SMALL).load_pretrained(str(path))
    with pytest.raises(ConfigError, match="other layers"):
        CRNNModule(charset="abc", num_lstm_layers=3, **WIDE).load_pretrained(str(path))
