import string
import sys
import zlib
from collections import Counter

import numpy as np
import pytest
import torch

from crnn_pl.core.charset import Charset
from crnn_pl.core.preprocess import ImageSpec
from crnn_pl.data.datamodule import SynthDataModule
from crnn_pl.data.synth.dataset import SynthWordDataset
from crnn_pl.data.synth.fonts import SHIPPED_FONT_DIR, bundled_fonts
from crnn_pl.data.synth.renderer import RenderSettings, WordRenderer
from crnn_pl.data.synth.settings import VARIETY_KNOBS
from crnn_pl.data.synth.typeset import neighbour_texts


def test_fonts_come_from_python_packages_not_the_system():
    fonts = bundled_fonts()
    assert len(fonts) >= 40
    assert all("site-packages" in str(f.path) for f in fonts)
    assert len({f.path.parent for f in fonts}) >= 8   # many families


def test_shipped_fonts_are_over_a_hundred_licensed_families():
    fonts = bundled_fonts(("shipped",))
    families = {f.path.parent for f in fonts}
    assert len(families) >= 100
    assert all(f.path.is_relative_to(SHIPPED_FONT_DIR) for f in fonts)
    for family in families:
        licence = (family / "LICENSE").read_text(encoding="utf-8")
        assert "Open Font License" in licence or "Apache License" in licence, family
    both = bundled_fonts(("packages", "shipped"))
    assert len(both) == len(fonts) + len(bundled_fonts())


def _glyph(font, character: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (90, 90))
    ImageDraw.Draw(canvas).text((10, 5), character, font=font, fill=255)
    ink = np.array(canvas) > 128
    rows, columns = np.nonzero(ink)
    ink = ink[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    return np.array(Image.fromarray(ink.astype(np.uint8) * 255).resize((16, 16))) > 128


def test_faces_that_draw_lower_case_as_capitals_are_marked_caps_only():
    """A case-sensitive charset must not learn 'a' from a face that draws 'A': every shipped face
    whose a-z look like its A-Z is marked. (Hand-drawn small caps such as Amatic SC score lower,
    0.84, as squarish faces such as Rajdhani Light do, 0.85: those are marked by name.)"""
    from PIL import ImageFont

    for font in bundled_fonts(("shipped",)):
        face = ImageFont.truetype(str(font.path), 48)
        alike = np.mean([(_glyph(face, c) == _glyph(face, c.upper())).mean() for c in "abdefghnqrt"])
        if alike > 0.88:
            assert font.caps_only, (font.path.name, round(float(alike), 3))
    assert any(f.caps_only for f in bundled_fonts(("shipped",)))
    case_sensitive = WordRenderer(Charset.preset("printable94"),
                                  RenderSettings.from_config({"font_sources": ["packages", "shipped"]}))
    assert not any(f.caps_only for f in case_sensitive.fonts)


def test_an_unknown_font_source_is_a_clear_error():
    with pytest.raises(ValueError, match=r"font_sources=\['google'\]: choose from"):
        WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config({"font_sources": ["google"]}))


def test_validation_set_is_fixed_per_index():
    renderer = WordRenderer(Charset.preset("alnum36"))
    first = SynthWordDataset(renderer, ImageSpec(), size=8, seed=5)
    second = SynthWordDataset(WordRenderer(Charset.preset("alnum36")), ImageSpec(), size=8, seed=5)
    for index in (0, 3, 7):
        image_a, label_a = first[index]
        image_b, label_b = second[index]
        assert label_a == label_b
        assert torch.equal(image_a, image_b)
    assert len({first[i][1] for i in range(8)}) > 4


def test_training_words_are_new_every_epoch_and_reproducible_per_key():
    dataset = SynthWordDataset(WordRenderer(Charset.preset("alnum36")), ImageSpec(), size=4, seed=1,
                               fresh_every_epoch=True)
    epochs = [dataset[epoch * 4 + 2][1] for epoch in range(6)]     # position 2 of six epochs
    assert len(set(epochs)) > 3
    assert torch.equal(dataset[6][0], dataset[6][0]) and dataset[6][1] == epochs[1]


def test_labels_are_in_the_charset_and_case_follows_it():
    for preset in ("alnum36", "printable94"):
        charset = Charset.preset(preset)
        # turned crops (labelled empty: read nothing until turned) are tests/test_text.py's
        renderer = WordRenderer(charset, RenderSettings.from_config({"turned_prob": 0.0}))
        labels = [renderer.sample(np.random.default_rng(i))[1] for i in range(200)]
        assert all(charset.can_encode(label) for label in labels)
        has_upper = any(c in string.ascii_uppercase for label in labels for c in label)
        assert has_upper == charset.case_sensitive


def test_rendered_images_vary_in_size_and_colour():
    renderer = WordRenderer(Charset.preset("alnum36"))
    images = [renderer.sample(np.random.default_rng(i))[0] for i in range(50)]
    assert all(image.dtype == np.uint8 and image.ndim == 3 for image in images)
    assert len({image.shape[0] for image in images}) > 10
    assert np.std([image.mean() for image in images]) > 20


def test_datamodule_batches_have_the_model_shape():
    datamodule = SynthDataModule(charset="0123456789abcdefghijklmnopqrstuvwxyz",
                                 train_size=16, val_size=8, batch_size=8, num_workers=0)
    datamodule.setup("fit")
    images, labels, dropped = next(iter(datamodule.train_dataloader()))
    assert images.shape == (8, 1, 32, 100)
    assert len(labels) == 8 and all(isinstance(label, str) for label in labels)
    assert dropped == 0


# The plain renderer the knob tests start from: every variety knob and stacked letters off.
PLAIN = {knob: 0.0 for knob in VARIETY_KNOBS} | {"stacked_prob": 0.0}


def render_with(**knobs) -> list[np.ndarray]:
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config(PLAIN | knobs))
    return [renderer.render("Crossroads", np.random.default_rng(i)) for i in range(12)]


def ink_columns(image: np.ndarray) -> float:
    """Share of columns whose pixels are not all alike (text, fragments, texture)."""
    return float((image.std(axis=(0, 2)) > 8).mean())


class DrawsBySite:
    """Stands in for a numpy Generator: each draw depends only on the seed, the place in the code
    that draws it and how many draws that place made before. A branch that draws numbers of its own
    (a variety knob turned on) leaves every other draw as it was, so a knob that draws and then
    changes nothing renders the very crops it renders off. (With one Generator its extra draws
    would shift every later draw: font colour, margins, noise, and the crop would differ anyway.)"""

    def __init__(self, seed: int) -> None:
        self.seed, self.draws = seed, Counter()

    def __getattr__(self, method: str):
        def draw(*args, **kwargs):
            caller = sys._getframe(1)
            site = f"{caller.f_code.co_filename}:{caller.f_code.co_name}:{caller.f_lasti}:{method}"
            self.draws[site] += 1
            generator = np.random.default_rng([self.seed, zlib.crc32(site.encode()), self.draws[site]])
            return getattr(generator, method)(*args, **kwargs)
        return draw


def render_alike(**knobs) -> list[np.ndarray]:
    """render_with's twelve crops, each knob setting drawing the same numbers (DrawsBySite)."""
    renderer = WordRenderer(Charset.preset("alnum36"), RenderSettings.from_config(PLAIN | knobs))
    return [renderer.render("Crossroads", DrawsBySite(i)) for i in range(12)]


def differing(crops: list[np.ndarray], others: list[np.ndarray]) -> int:
    return sum(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(crops, others, strict=True))


@pytest.mark.parametrize("knob", VARIETY_KNOBS)
def test_every_variety_knob_changes_the_crops_it_renders(knob):
    """Each knob alone, on against off over the same draws: crops change, and only by what the knob
    does (at least half of them: a neighbour's fragment can fall outside the crop). `variety` 0
    (dataset.render.variety) turns the knob off again."""
    plain = render_alike()
    assert differing(render_alike(), plain) == 0            # the comparison is exact: same draws, same crops
    varied = render_alike(**{knob: 1.0})
    assert all(image.dtype == np.uint8 and image.ndim == 3 and min(image.shape[:2]) >= 4 for image in varied)
    assert differing(varied, plain) >= 6, f"{knob}=1 changed {differing(varied, plain)} of 12 crops"
    assert differing(render_alike(**{knob: 1.0}, variety=0.0), plain) == 0


def test_a_knob_that_draws_but_does_nothing_changes_no_crop(monkeypatch):
    """What the knob test rests on: neighbouring words picked (numbers drawn) and then never drawn
    on the crop render exactly the crops of neighbour_prob=0, where one Generator's shifted
    draws would have changed them all the same."""
    monkeypatch.setattr("crnn_pl.data.synth.renderer.neighbour_texts",
                        lambda sample_text, rng: (neighbour_texts(sample_text, rng), None)[1])
    assert differing(render_alike(neighbour_prob=1.0), render_alike()) == 0
    assert differing(render_with(neighbour_prob=1.0), render_with()) >= 9


def test_a_word_rotated_fifteen_degrees_keeps_its_ends():
    """The warp grows its canvas: a long word at 15 degrees is not clipped to the unrotated box."""
    straight = render_with(rotation_degrees=0.0, shear=0.0, perspective=0.0)
    tilted = render_with(rotation_degrees=0.0, shear=0.0, perspective=0.0,
                         large_rotation_prob=1.0, large_rotation_degrees=15.0)
    aspect = [image.shape[1] / image.shape[0] for image in straight]
    tilted_aspect = [image.shape[1] / image.shape[0] for image in tilted]
    # A tilted crop is taller for its width; its ink still spans its width (nothing cut off).
    assert np.median(tilted_aspect) < 0.8 * np.median(aspect)
    assert min(ink_columns(image) for image in tilted) > 0.5


def test_neighbour_fragments_never_set_the_crop():
    """Neighbouring words are cut where the word's own box (plus margin) falls: the crop stays
    about the word's width, not the width of the whole line."""
    alone = render_with(rotation_degrees=0.0, perspective=0.0)
    crowded = render_with(rotation_degrees=0.0, perspective=0.0, neighbour_prob=1.0)
    widths = np.array([image.shape[1] for image in alone])
    crowded_widths = np.array([image.shape[1] for image in crowded])
    assert np.all(crowded_widths < 1.6 * widths.max())
