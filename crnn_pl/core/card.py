"""The model card: what reading needs besides the weights (charset, input spec), carried by every
model file this project writes: in ONNX metadata, a TorchScript extra file, safetensors metadata,
a checkpoint's hyper-parameters, or a card.json beside an export."""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, fields

from crnn_pl.core.charset import BLANK, Charset, CharsetError
from crnn_pl.core.ctc import DecoderSettings
from crnn_pl.core.errors import ConfigError, UserError
from crnn_pl.core.lexicon import shipped_names
from crnn_pl.core.preprocess import MAX_READ_WIDTH, ImageSpec

CARD_KEY = "crnn_pl"            # ONNX / safetensors metadata key, TorchScript extra file name stem
CARD_FILE = "card.json"         # written beside every export
# Bounds a card is held to when a model file is opened: a stranger's file describing itself outside
# them is refused before anything is built or read. Far beyond any recogniser's (PP-OCR's dictionaries
# hold under 20,000 characters; recognisers read 32 or 48 px high).
MAX_CHARSET = 100_000
MAX_HEIGHT, MAX_WIDTH = 512, 4096


class CardError(UserError, ValueError):
    """A model file whose card is missing or malformed."""


@dataclass(frozen=True)
class ModelCard:
    """The charset and the input the model expects."""

    charset: str
    case_sensitive: bool
    blank: int
    height: int
    width: int
    channels: int
    mean: float
    std: float
    read_max_width: int | None = None      # wide crops read at natural width up to this (None: squeezed)
    decoder: dict | None = None            # how it reads by default (crnn_pl.core.ctc.DecoderSettings; None: greedy)

    def __post_init__(self) -> None:
        """Refuse a card that cannot describe a model this package reads (CardError, one line)."""
        if not isinstance(self.charset, str) or not 0 < len(self.charset) <= MAX_CHARSET:
            raise CardError(f"charset must be a text of 1 to {MAX_CHARSET:,} characters, got {clipped(self.charset)}")
        if not isinstance(self.case_sensitive, bool):
            raise CardError(f"case_sensitive must be true or false, got {clipped(self.case_sensitive)}")
        try:
            self.make_charset()
        except CharsetError as error:
            raise CardError(str(error)) from None
        if type(self.blank) is not int or self.blank != BLANK:
            raise CardError(f"blank must be {BLANK} (the CTC blank comes first), got {clipped(self.blank)}")
        check_whole(self, "height", 1, MAX_HEIGHT)
        check_whole(self, "width", 1, MAX_WIDTH)
        if type(self.channels) is not int or self.channels not in (1, 3):
            raise CardError(f"channels must be 1 (grey) or 3 (RGB), got {clipped(self.channels)}")
        for name in ("mean", "std"):
            value = getattr(self, name)
            if not is_number(value):
                raise CardError(f"{name} must be a number, got {clipped(value)}")
        if not self.std > 0:
            raise CardError(f"std must be above 0, got {self.std}")
        if self.read_max_width is not None:
            check_whole(self, "read_max_width", 1, None)
            object.__setattr__(self, "read_max_width", min(self.read_max_width, MAX_READ_WIDTH))
        try:
            self.decoder_settings()
        except ConfigError as error:
            raise CardError(str(error)) from None

    @classmethod
    def from_hparams(cls, hparams: dict, source: str = "hyper-parameters") -> ModelCard:
        if not isinstance(hparams, dict):
            raise CardError(f"{source}: hyper-parameters must be a mapping, got {type(hparams).__name__}")
        missing = [key for key in ("charset", "case_sensitive", "height", "width", "channels", "mean", "std")
                   if key not in hparams]
        if missing:
            raise CardError(f"{source}: hyper-parameters lack {', '.join(missing)}; not a crnn_pl model")
        try:
            return cls(charset=hparams["charset"], case_sensitive=hparams["case_sensitive"], blank=BLANK,
                       height=hparams["height"], width=hparams["width"], channels=hparams["channels"],
                       mean=hparams["mean"], std=hparams["std"], read_max_width=hparams.get("read_max_width"),
                       decoder=hparams.get("decoder"))
        except CardError as error:
            raise CardError(f"{source}: {error}") from None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "model card") -> ModelCard:
        try:
            values = json.loads(text)
        except (json.JSONDecodeError, TypeError) as error:
            raise CardError(f"{source}: not a crnn_pl model card ({error})") from None
        if not isinstance(values, dict):
            raise CardError(f"{source}: not a crnn_pl model card (a JSON {type(values).__name__}, not an object)")
        known = {f.name for f in fields(cls)}
        missing = sorted(f.name for f in fields(cls) if f.name not in values and f.default is MISSING)
        if missing:
            raise CardError(f"{source}: not a crnn_pl model card (no {', '.join(missing)})")
        try:
            return cls(**{k: v for k, v in values.items() if k in known})
        except CardError as error:
            raise CardError(f"{source}: {error}") from None

    @property
    def spec(self) -> ImageSpec:
        return ImageSpec(height=self.height, width=self.width, channels=self.channels,
                         mean=self.mean, std=self.std, read_max_width=self.read_max_width)

    def make_charset(self) -> Charset:
        return Charset(self.charset, self.case_sensitive)

    def decoder_settings(self) -> DecoderSettings:
        """The decoder this model reads with by default. A card names only what ships in the
        package: a model file from a stranger must not make the reader open a file of its choosing."""
        settings = DecoderSettings.from_mapping(self.decoder, "decoder")
        if settings.hot_words is not None or (settings.lexicon is not None and settings.lexicon not in shipped_names()):
            raise ConfigError(f"decoder: a model card names a shipped lexicon ({', '.join(shipped_names())}), "
                              f"not a file: got lexicon {settings.lexicon!r}, hot_words {settings.hot_words!r}")
        return settings


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_whole(card: ModelCard, name: str, low: int, high: int | None) -> None:
    value = getattr(card, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise CardError(f"{name} must be a whole number {span}, got {clipped(value)}")


def clipped(value) -> str:
    """A value for a message, cut short: a stranger's card may hold anything, at any length."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
