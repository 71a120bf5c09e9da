"""The model card: what reading needs besides the weights (charset, input spec), carried by every
model file this project writes: in ONNX metadata, a TorchScript extra file, safetensors metadata,
a checkpoint's hyper-parameters, or a card.json beside an export."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from crnn_pl.core.charset import BLANK, Charset
from crnn_pl.core.errors import UserError
from crnn_pl.core.preprocess import ImageSpec

CARD_KEY = "crnn_pl"            # ONNX / safetensors metadata key, TorchScript extra file name stem
CARD_FILE = "card.json"         # written beside every export


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

    @classmethod
    def from_hparams(cls, hparams: dict) -> ModelCard:
        return cls(charset=hparams["charset"], case_sensitive=hparams["case_sensitive"], blank=BLANK,
                   height=hparams["height"], width=hparams["width"], channels=hparams["channels"],
                   mean=hparams["mean"], std=hparams["std"], read_max_width=hparams.get("read_max_width"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "model card") -> ModelCard:
        try:
            values = json.loads(text)
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in values.items() if k in known})
        except (json.JSONDecodeError, TypeError, AttributeError) as error:
            raise CardError(f"{source}: not a crnn_pl model card ({error})") from None

    @property
    def spec(self) -> ImageSpec:
        return ImageSpec(height=self.height, width=self.width, channels=self.channels,
                         mean=self.mean, std=self.std, read_max_width=self.read_max_width)

    def make_charset(self) -> Charset:
        return Charset(self.charset, self.case_sensitive)
