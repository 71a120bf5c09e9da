"""Fonts for the renderer, never system fonts, from two sources (`dataset.render.font_sources`):

- `packages`: faces inside installed PyPI packages, the `font-*` packages (SIL Open Font License)
  and matplotlib's DejaVu (Bitstream Vera licence) and STIX (SIL OFL): 12 families.
- `shipped`: 157 families shipped in `font_files/` (Latin WOFF subsets from fontsource, OFL or
  Apache, each with its LICENSE; `font_files/FONTS.md` lists them): sans, serif, slab, monospace,
  condensed, display and handwriting faces, the variety real signs show.
"""

from __future__ import annotations

import importlib.util
import logging
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

log = logging.getLogger(__name__)

FONT_PACKAGES = (
    "font_roboto", "font_source_sans_pro", "font_source_serif_pro", "font_caladea",
    "font_fredoka_one", "font_hanken_grotesk", "font_amatic_sc", "font_intuitive", "font_manrope",
)
# matplotlib also ships symbol-only and TeX-encoded fonts (cmex10, STIXSize*): keep text faces.
MATPLOTLIB_TEXT_FONTS = ("DejaVuSans", "DejaVuSerif", "STIXGeneral")
SHIPPED_FONT_DIR = Path(__file__).parent / "font_files"
FONT_SOURCES = ("packages", "shipped")
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
    if unknown or not sources:
        raise ValueError(f"dataset.render.font_sources={list(sources)}: choose from {list(FONT_SOURCES)}")
    paths = package_font_paths() if "packages" in sources else []
    return paths + (shipped_font_paths() if "shipped" in sources else [])


def read_font(path: Path) -> FontFile:
    with TTFont(path, lazy=True) as font:
        codepoints = font.getBestCmap() or {}
    return FontFile(
        path=path,
        characters=frozenset(chr(c) for c in codepoints),
        caps_only=path.stem.startswith(CAPS_ONLY_FONTS),
    )


@lru_cache(maxsize=4)
def bundled_fonts(sources: tuple[str, ...] = ("packages",)) -> tuple[FontFile, ...]:
    # "Display" faces are DejaVu's glyph-less stubs; keep faces that can write a word.
    fonts = tuple(
        font for font in map(read_font, font_paths(tuple(sources)))
        if font.covers(string.ascii_letters + string.digits)
    )
    if not fonts:
        raise RuntimeError("no fonts found: install the project with `make install`")
    return fonts
