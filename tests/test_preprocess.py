import numpy as np
import pytest
import torch
from PIL import Image

from crnn_pl.core.decode import to_array
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.words import preprocess

SPEC = ImageSpec(height=32, width=100, channels=1, mean=0.5, std=0.5)


def test_narrow_word_keeps_aspect_and_pads_right():
    image = np.full((16, 20), 255, np.uint8)       # aspect 1.25 -> 40 px wide at height 32
    tensor = preprocess(image, SPEC)
    assert tensor.shape == (1, 32, 100)
    assert torch.allclose(tensor[:, :, :40], torch.ones(1, 32, 40))   # white -> +1
    assert torch.all(tensor[:, :, 40:] == 0)                          # padding = the mean


def test_wide_word_is_squeezed_to_width():
    # A left-to-right gradient, 400 px wide at height 10: 1280 px at height 32, so the whole
    # width must be squeezed into 100 columns (not cropped to the first 100, nor padded).
    gradient = np.linspace(0, 255, 400).round().astype(np.uint8)
    tensor = preprocess(gradient[None].repeat(10, 0), SPEC)
    assert tensor.shape == (1, 32, 100)
    assert torch.equal(tensor, tensor[:, :1].expand(1, 32, 100))      # every row alike
    columns = tensor[0, 0]
    assert columns[0] < -0.95 and columns[-1] > 0.95                  # both ends of the input are in
    assert torch.all(columns[1:] > columns[:-1])                      # in order, nothing repeated
    # Output column j shows input columns 4j..4j+3 (centre 4j + 1.5): a uniform 4:1 squeeze.
    centres = (np.arange(100) * 4 + 1.5) * 255 / 399
    expected = torch.from_numpy((centres / 255 - 0.5) / 0.5).float()
    torch.testing.assert_close(columns, expected, atol=0.02, rtol=0)


@pytest.mark.parametrize(("natural_width", "canvas"), [(40, 100), (100, 100), (101, 116), (150, 160),
                                                     (160, 160), (400, 160)])
def test_reading_keeps_a_wide_word_at_its_natural_width_up_to_the_models_limit(natural_width, canvas):
    """Training squeezes to 100 px; reading with a model whose read_max_width is 160 pads to 100
    and keeps a wider word's own width, in steps of 16 px, up to 160 (squeezed beyond that)."""
    image = np.linspace(0, 255, natural_width).round().astype(np.uint8)[None].repeat(32, 0)
    spec = ImageSpec(read_max_width=160)
    tensor = preprocess(image, spec.for_reading())
    assert tensor.shape == (1, 32, canvas)
    assert preprocess(image, spec).shape == (1, 32, 100)                   # training: the fixed width
    assert preprocess(image, SPEC.for_reading()).shape == (1, 32, 100)     # no limit set: squeezed
    columns = tensor[0, 0]
    drawn = min(natural_width, canvas)
    assert columns[drawn - 1] > 0.95 and torch.all(columns[drawn:] == 0)   # the word, then padding


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "I;16", "LA", "1"])
def test_every_pil_mode_reads_from_a_file(tmp_path, mode):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 60, 3), dtype=np.uint8))
    image = rgb.convert("L").convert(mode) if mode in ("I;16", "1", "LA") else rgb.convert(mode)
    path = tmp_path / f"word_{mode.replace(';', '')}.png"
    image.save(path)
    for channels in (1, 3):
        tensor = preprocess(path, ImageSpec(channels=channels))
        assert tensor.shape == (channels, 32, 100)
        assert torch.isfinite(tensor).all()


def test_sixteen_bit_image_uses_its_full_range():
    array = np.linspace(0, 65535, 60, dtype=np.uint16)[None].repeat(20, 0)
    converted = to_array(Image.fromarray(array), channels=1)
    assert converted.min() == 0 and converted.max() == 255


def test_transparent_pixels_become_white():
    rgba = np.zeros((10, 10, 4), np.uint8)                 # fully transparent black
    assert to_array(Image.fromarray(rgba, "RGBA"), channels=1).min() == 255


def test_corrupt_file_error_names_the_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(ValueError, match="broken.png"):
        preprocess(path, SPEC)


def test_missing_file_error_names_the_file(tmp_path):
    with pytest.raises(ValueError, match="absent.png"):
        preprocess(tmp_path / "absent.png", SPEC)
