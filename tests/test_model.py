import re
import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

from conftest import REPO
from crnn_pl import CRNNModule
from crnn_pl.model import CRNN, count_mflops, count_parameters


def model_from_config(name: str, in_channels: int = 1) -> CRNN:
    node = OmegaConf.load(REPO / "conf" / "model" / f"{name}.yaml")
    return CRNN(num_classes=37, in_channels=in_channels, conv_channels=list(node.conv_channels),
                hidden_size=node.hidden_size, num_lstm_layers=node.num_lstm_layers)


@pytest.mark.parametrize("width", [16, 17, 32, 100, 128, 257])
def test_frame_count_follows_width(width):
    model = model_from_config("crnn_small").eval()
    with torch.no_grad():
        logits = model(torch.zeros(2, 1, 32, width))
    assert logits.shape == (2, CRNN.num_frames(width), 37)
    assert CRNN.num_frames(width) == width // 4 + 1


def test_paper_model_size_and_small_variant_cost():
    paper, small = model_from_config("crnn"), model_from_config("crnn_small")
    assert 8.0e6 < count_parameters(paper) < 9.0e6
    assert count_mflops(paper) >= 4 * count_mflops(small)


README_ROW = re.compile(r"^\| `(?P<name>\w+)` .*?\| (?P<params>[\d.]+)M \| (?P<mflops>\d+) \|", re.MULTILINE)


@pytest.mark.parametrize(("name", "params", "mflops"), [("crnn", "8.72", 1431), ("crnn_small", "1.54", 236)])
def test_preset_parameters_and_mflops_are_the_readme_figures(name, params, mflops):
    """Each preset built as train.py builds it (conf/model/<name>.yaml into CRNNModule), counted
    as CRNNModule.describe() counts: the figures the README's model table quotes."""
    readme = {m["name"]: (m["params"], int(m["mflops"])) for m in README_ROW.finditer((REPO / "README.md").read_text())}
    assert readme[name] == (params, mflops)
    node = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "model" / f"{name}.yaml"))
    node.pop("_target_")
    module = CRNNModule(**node)                 # alnum36 (37 classes), 1 x 32 x 100
    assert f"{count_parameters(module.model) / 1e6:.2f}" == params
    assert round(count_mflops(module.model, width=100)) == mflops
    assert module.describe() == f"CRNN: {params}M parameters, {mflops} MFLOPs per 32x100 image"


def test_rgb_input_by_config():
    model = model_from_config("crnn_small", in_channels=3).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 32, 100)).shape == (1, 26, 37)


def test_wrong_height_is_a_clear_error():
    with pytest.raises(ValueError, match="32 px"):
        model_from_config("crnn_small")(torch.zeros(1, 1, 48, 100))


@pytest.mark.parametrize(("height", "width"), [(48, 150), (64, 100)])
def test_taller_inputs_collapse_to_one_row_of_frames(height, width):
    """image.height=48 (PaddleOCR's recognisers' height): the last convolution spans the rows the
    pools leave, so the frames and the classifier are those of the 32 px model."""
    module = CRNNModule(conv_channels=[32, 64, 96, 96, 192, 192, 192], hidden_size=128, height=height,
                        width=width)
    with torch.no_grad():
        logits = module.eval()(torch.zeros(2, 1, height, width))
    assert logits.shape == (2, CRNN.num_frames(width), 37)
    assert module.model.features[-1][0].kernel_size == (height // 16, 2)
    assert module.describe().endswith(f"MFLOPs per {height}x{width} image")


def test_a_height_the_network_cannot_collapse_is_a_config_error():
    from crnn_pl.core.errors import ConfigError
    with pytest.raises(ConfigError, match=r"image.height=40: .*multiples of 16"):
        CRNNModule(height=40)


def test_model_and_package_import_no_lightning_or_hydra():
    # Load the model file on its own: importing it through the package would run __init__.
    code = (
        "import sys, importlib.util;"
        "spec = importlib.util.spec_from_file_location('crnn', 'crnn_pl/model/crnn.py');"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec));"
        "assert 'lightning' not in sys.modules, 'the model imports lightning';"
        "import crnn_pl;"
        "assert 'hydra' not in sys.modules, 'crnn_pl imports hydra';"
        "assert 'crnn_pl.cli.train' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
