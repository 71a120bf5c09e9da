"""Fonts for the renderer, never system fonts, from two sources (`dataset.render.font_sources`):

- `packages`: faces inside installed PyPI packages, the `font-*` packages (SIL Open Font License)
  and matplotlib's DejaVu (Bitstream Vera licence) and STIX (SIL OFL): 12 families.
- `shipped`: 157 families shipped in `font_files/` (Latin WOFF subsets from fontsource, OFL or
  Apache, each with its LICENSE; `font_files/FONTS.md` lists them): sans, serif, slab, monospace,
  condensed, display and handwriting faces, the variety real signs show.

and the user's own folders beside them (`dataset.render.font_dirs`: TTF, OTF, WOFF, WOFF2).

Which characters a face draws is checked once per charset (`check_coverage`): a character counts
only if the font maps it to a glyph that is not `.notdef` (drawn as a box), that has ink, and, for
a letter with diacritics, that is not its base letter's glyph (drawn as another letter).
"""

from __future__ import annotations

import importlib.util
import logging
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.ttLib import TTFont, TTLibError

from crnn_pl.core.errors import ConfigError

log = logging.getLogger(__name__)

FONT_PACKAGES = (
    "font_roboto", "font_source_sans_pro", "font_source_serif_pro", "font_caladea",
    "font_fredoka_one", "font_hanken_grotesk", "font_amatic_sc", "font_intuitive", "font_manrope",
)
# matplotlib also ships symbol-only and TeX-encoded fonts (cmex10, STIXSize*): keep text faces.
MATPLOTLIB_TEXT_FONTS = ("DejaVuSans", "DejaVuSerif", "STIXGeneral")
SHIPPED_FONT_DIR = Path(__file__).parent / "font_files"
FONT_SOURCES = ("packages", "shipped")
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
TRUSTED_CHARACTERS = frozenset(string.ascii_letters + string.digits)
# Faces that draw lower case as capitals (found by comparing the glyphs of a-z and A-Z): fine when
# case is folded, wrong otherwise.
CAPS_ONLY_FONTS = ("AmaticSC", "amatic-sc", "bangers", "bebas-neue", "bungee", "cinzel",
                   "permanent-marker", "staatliches")


@dataclass(frozen=True)
class FontFile:
    path: Path
    characters: frozenset[str]
    caps_only: bool

    @property
    def family(self) -> str:
        """Shipped faces live in a folder per family; a package face's family leads its file name."""
        if self.path.parent.parent == SHIPPED_FONT_DIR:
            return self.path.parent.name
        return self.path.stem.split("-")[0]

    def covers(self, text: str) -> bool:
        return all(c in self.characters or c == " " for c in text)

    @property
    def name(self) -> str:
        return self.path.name


def package_font_paths() -> list[Path]:
    paths: list[Path] = []
    for package in FONT_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            log.warning("font package %s is not installed; rendering without it", package)
            continue
        folder = Path(next(iter(spec.submodule_search_locations)))
        by_stem: dict[str, Path] = {}
        for path in sorted(folder.rglob("*")):
            # Some packages ship each face as both .otf and .ttf: one copy is enough.
            if path.suffix.lower() in (".ttf", ".otf") and "Variable" not in path.stem:
                by_stem.setdefault(path.stem, path)
        paths.extend(by_stem.values())
    matplotlib_spec = importlib.util.find_spec("matplotlib")
    if matplotlib_spec is not None and matplotlib_spec.origin:
        folder = Path(matplotlib_spec.origin).parent / "mpl-data" / "fonts" / "ttf"
        paths.extend(p for p in sorted(folder.glob("*.ttf")) if p.stem.startswith(MATPLOTLIB_TEXT_FONTS))
    return paths


def shipped_font_paths() -> list[Path]:
    return sorted(SHIPPED_FONT_DIR.glob("*/*.woff"))


def font_paths(sources: tuple[str, ...]) -> list[Path]:
    unknown = set(sources) - set(FONT_SOURCES)
    if unknown:
        raise ConfigError(f"dataset.render.font_sources={list(sources)}: choose from {list(FONT_SOURCES)} "
                          "(or none, with your own dataset.render.font_dirs)")
    paths = package_font_paths() if "packages" in sources else []
    return paths + (shipped_font_paths() if "shipped" in sources else [])


def user_font_paths(folders: Iterable[str]) -> list[Path]:
    """Every TTF, OTF, WOFF and WOFF2 file under each of the user's `folders`."""
    paths = []
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise ConfigError(f"dataset.render.font_dirs: {root}: no such folder")
        found = sorted(p for p in root.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
        if not found:
            raise ConfigError(f"dataset.render.font_dirs: {root}: no font file ({', '.join(FONT_SUFFIXES)}) in it")
        paths.extend(found)
    return paths


def read_font(path: Path) -> FontFile:
    with TTFont(path, lazy=True) as font:
        codepoints = font.getBestCmap() or {}
    return FontFile(
        path=path,
        characters=frozenset(chr(c) for c, glyph in codepoints.items() if glyph != ".notdef"),
        caps_only=path.stem.startswith(CAPS_ONLY_FONTS),
    )


def read_user_fonts(folders: Iterable[str]) -> tuple[tuple[FontFile, ...], list[str]]:
    """The user's fonts, and a line for each file that could not be read (skipped, not fatal)."""
    fonts, unreadable = [], []
    for path in user_font_paths(folders):
        try:
            fonts.append(read_font(path))
        except (TTLibError, OSError, AssertionError, KeyError, ValueError) as error:
            unreadable.append(f"{path}: not a readable font ({type(error).__name__}: {error})")
    return tuple(fonts), unreadable


def check_coverage(font: FontFile, alphabet: str) -> FontFile:
    """`font` with the characters of `alphabet` it would draw wrongly removed (module docstring).
    ASCII letters and digits are taken as drawn: every bundled face is chosen for drawing them, and
    skipping them spares reopening the font at all for an alnum36 run."""
    suspects = "".join(sorted(set(alphabet) & font.characters - TRUSTED_CHARACTERS))
    if not suspects:
        return font
    return replace(font, characters=font.characters - wrongly_drawn(str(font.path), suspects))


@lru_cache(maxsize=4096)
def wrongly_drawn(path: str, alphabet: str) -> frozenset[str]:
    """Characters of `alphabet` the font maps but draws without ink or as their base letter."""
    with TTFont(path, lazy=True) as font:
        cmap = font.getBestCmap() or {}
        has_ink = ink_test(font)
        wrong = set()
        for character in alphabet:
            glyph = cmap.get(ord(character))
            if glyph is None or character.isspace():
                continue
            base = unicodedata.normalize("NFD", character)[0]
            if (base != character and cmap.get(ord(base)) == glyph) or not has_ink(glyph):
                wrong.add(character)
    return frozenset(wrong)


def ink_test(font: TTFont) -> Callable[[str], bool]:
    """Whether a glyph draws anything: TrueType outlines say so in their contour count (composites
    count -1), which is fast; CFF outlines are drawn into a bounds pen."""
    if "glyf" in font:
        table = font["glyf"]
        return lambda name: table[name].numberOfContours != 0
    glyphs = font.getGlyphSet()

    def drawn(name: str) -> bool:
        pen = ControlBoundsPen(glyphs)
        glyphs[name].draw(pen)
        return pen.bounds is not None
    return drawn


def coverage_report(fonts: tuple[FontFile, ...], alphabet: str) -> list[str]:
    """The start-up report: how many fonts draw how much of the charset, naming fonts that draw
    none of its letters and characters no font draws."""
    wanted = set(alphabet) - {" "}
    shares = [len(wanted & f.characters) / len(wanted) for f in fonts]
    bands = ((1.0, 1.01, "all"), (0.9, 1.0, "90-99%"), (0.5, 0.9, "50-89%"), (1e-9, 0.5, "under 50%"),
             (0.0, 1e-9, "none"))
    counts = [f"{sum(low <= s < high for s in shares)} {name}" for low, high, name in bands]
    lines = [f"fonts: {len(fonts)} files for {len(wanted)} characters; they draw " + ", ".join(counts)]
    letters = {c for c in wanted if c.isalpha()}
    blind = [f.name for f in fonts if letters and not letters & f.characters]
    if blind:
        lines.append(f"fonts that draw none of the charset's letters (never used): {', '.join(blind)}")
    undrawn = sorted(wanted - set().union(*(f.characters for f in fonts)))
    if undrawn:
        lines.append(f"characters no font draws (never rendered, so never learnt): {''.join(undrawn)!r}")
    return lines


@lru_cache(maxsize=4)
def bundled_fonts(sources: tuple[str, ...] = ("packages",)) -> tuple[FontFile, ...]:
    # "Display" faces are DejaVu's glyph-less stubs; keep faces that can write a word.
    fonts = tuple(
        font for font in map(read_font, font_paths(tuple(sources)))
        if font.covers(string.ascii_letters + string.digits)
    )
    if sources and not fonts:
        raise RuntimeError("no fonts found: install the project with `make install`")
    return fonts
