"""CRNN (Shi, Bai and Yao, 2015): VGG-style convolutions, two BiLSTMs, a per-frame classifier.

A plain `nn.Module`: it knows nothing of Lightning, charsets or losses. Input is a batch of
images (N, C, H, W), H a multiple of 16 from 32 (the paper's 32; 48 as PaddleOCR's recognisers read);
output is per-frame class scores (N, T, classes) with T = W // 4 + 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from crnn_pl.core.errors import ConfigError

# The paper's seven convolutions: channels of each, and the pooling after some of them.
PAPER_CHANNELS = (64, 128, 256, 256, 512, 512, 512)
INPUT_HEIGHT = 32          # the paper's; any multiple of 16 from 32 works (the last convolution spans the rest)


def conv_block(in_channels: int, out_channels: int, kernel: int | tuple[int, int] = 3,
               padding: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, padding=padding, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def remaining_height(height: int) -> int:
    """Rows left after the four pools (32 -> 2, 48 -> 3): what the last convolution collapses."""
    if height < 32 or height % 16:
        raise ConfigError(f"image.height={height}: CRNN reads heights that are multiples of 16 from 32 "
                          "(32, 48, 64)")
    return height // 16


def feature_extractor(in_channels: int, channels: Sequence[int], height: int = INPUT_HEIGHT) -> nn.Sequential:
    """The paper's layout: height H -> 1, width W -> W // 4 + 1.

    The two pools with stride (2, 1) and padding (0, 1) keep horizontal resolution for
    narrow characters; the last valid convolution, 2 wide and as high as the rows left (2 for the
    paper's 32), collapses them.
    """
    if len(channels) != 7:
        raise ValueError(f"CRNN needs 7 convolution widths, got {len(channels)}")
    rows = remaining_height(height)
    c1, c2, c3, c4, c5, c6, c7 = channels
    return nn.Sequential(
        conv_block(in_channels, c1), nn.MaxPool2d(2, 2),          # 16 x W/2
        conv_block(c1, c2), nn.MaxPool2d(2, 2),                   # 8 x W/4
        conv_block(c2, c3), conv_block(c3, c4),
        nn.MaxPool2d((2, 2), (2, 1), (0, 1)),                     # 4 x W/4 + 1
        conv_block(c4, c5), conv_block(c5, c6),
        nn.MaxPool2d((2, 2), (2, 1), (0, 1)),                     # 2 x W/4 + 2
        conv_block(c6, c7, kernel=(rows, 2), padding=0),          # 1 x W/4 + 1
    )


class CRNN(nn.Module):
    """Convolutional features -> stacked BiLSTM -> linear classifier over `num_classes`."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        conv_channels: Sequence[int] = PAPER_CHANNELS,
        hidden_size: int = 256,
        num_lstm_layers: int = 2,
        dropout: float = 0.0,
        input_height: int = INPUT_HEIGHT,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.input_height = input_height
        self.features = feature_extractor(in_channels, conv_channels, input_height)
        self.sequence = nn.LSTM(
            conv_channels[-1], hidden_size, num_layers=num_lstm_layers,
            bidirectional=True, batch_first=True,
            dropout=dropout if num_lstm_layers > 1 else 0.0,
        )
        self.classifier = nn.Linear(2 * hidden_size, num_classes)

    @staticmethod
    def num_frames(width: int) -> int:
        """Frames the network emits for an input of this width (the CTC input length)."""
        return width // 4 + 1

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing() and images.shape[-2] != self.input_height:
            raise ValueError(f"CRNN expects images {self.input_height} px high, got {images.shape[-2]}")
        features = self.features(images)                 # N, C, 1, T
        frames = features.squeeze(2).transpose(1, 2)     # N, T, C
        frames, _ = self.sequence(frames)
        return self.classifier(frames)                   # N, T, classes


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_mflops(model: CRNN, width: int = 100) -> float:
    """Multiply-adds x 2 for one image of the model's height, counted from the layers' shapes."""
    multiply_adds = 0
    x = torch.zeros(1, model.in_channels, model.input_height, width)
    with torch.no_grad():
        for layer in model.features.modules():
            if isinstance(layer, nn.Conv2d):
                y = layer(x)
                kernel = layer.kernel_size[0] * layer.kernel_size[1]
                multiply_adds += y.numel() * layer.in_channels * kernel // layer.groups
                x = y
            elif isinstance(layer, nn.MaxPool2d):
                x = layer(x)
    frames = x.shape[-1]
    lstm = model.sequence
    for layer_index in range(lstm.num_layers):
        input_size = lstm.input_size if layer_index == 0 else 2 * lstm.hidden_size
        per_step = 4 * lstm.hidden_size * (input_size + lstm.hidden_size)
        multiply_adds += 2 * frames * per_step
    multiply_adds += frames * model.classifier.in_features * model.classifier.out_features
    return 2 * multiply_adds / 1e6
