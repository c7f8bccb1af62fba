"""Temporal convolutional network: the "fourth architecture" and a strong, cheap baseline.

Non-causal dilated residual 1-D convolutions over the gait cycle (every output sample sees past and
future samples within the receptive field). Adding it to gait2hip took this file plus one
``register_model("tcn", TCNRegressor)`` line in :mod:`gait2hip.models.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.base import (
    SequenceModelConfig,
    check_model_input,
    require_fraction,
    require_positive,
    run_in_microbatches,
)


@dataclass(kw_only=True)
class TCNConfig(SequenceModelConfig):
    """Hyper-parameters of :class:`TCNRegressor`.

    Parameters
    ----------
    channels
        Feature channels in every residual block.
    n_blocks
        Residual blocks; block ``i`` uses dilation ``2**i``.
    kernel_size
        Odd convolution kernel length (samples).
    dropout
        Dropout after each block's activation.
    padding_mode
        How the cycle is extended at its ends: ``"replicate"`` (default), ``"circular"`` (a gait cycle
        is periodic, heel strike to heel strike) or ``"zeros"``.

    Notes
    -----
    Receptive field = ``1 + (kernel_size - 1) * (2**n_blocks - 1)`` samples; the defaults give 125,
    more than one 101-sample cycle.
    """

    channels: int = 64
    n_blocks: int = 5
    kernel_size: int = 5
    dropout: float = 0.1
    padding_mode: str = "replicate"

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "channels", "n_blocks", "kernel_size")
        require_fraction(self, "dropout")
        if self.kernel_size % 2 == 0:
            raise Gait2HipInputError(
                f"TCNConfig.kernel_size must be odd, got {self.kernel_size}.",
                column="kernel_size",
                fix="pass an odd kernel_size (3, 5, 7, ...).",
            )
        if self.padding_mode not in ("replicate", "circular", "zeros"):
            raise Gait2HipInputError(
                f"TCNConfig.padding_mode {self.padding_mode!r} is not supported.",
                column="padding_mode",
                fix="pass 'replicate', 'circular' or 'zeros'.",
            )

    @property
    def receptive_field(self) -> int:
        return 1 + (self.kernel_size - 1) * (2**self.n_blocks - 1)


class ResidualConvBlock(nn.Module):
    """``x + W2 · dropout(GELU(dilated_conv(norm(x))))`` on ``[batch, channels, T]``."""

    def __init__(self, *, channels: int, kernel_size: int, dilation: int, dropout: float, padding_mode: str):
        super().__init__()
        self.pad = (kernel_size - 1) // 2 * dilation
        self.pad_mode = {"zeros": "constant"}.get(padding_mode, padding_mode)
        self.norm = nn.GroupNorm(1, channels)
        self.conv = nn.Conv1d(channels, channels, kernel_size, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.pad(self.norm(x), (self.pad, self.pad), mode=self.pad_mode)
        return x + self.mix(self.dropout(F.gelu(self.conv(h))))


class TCNRegressor(nn.Module):
    """``[batch, T, d_in] -> [batch, T, d_out]``: 1x1 input conv, dilated residual blocks, 1x1 head."""

    config_class = TCNConfig

    def __init__(self, config: TCNConfig) -> None:
        super().__init__()
        self.config = config
        self.input_proj = nn.Conv1d(config.d_in, config.channels, 1)
        self.blocks = nn.ModuleList(
            ResidualConvBlock(
                channels=config.channels,
                kernel_size=config.kernel_size,
                dilation=2**i,
                dropout=config.dropout,
                padding_mode=config.padding_mode,
            )
            for i in range(config.n_blocks)
        )
        self.output_proj = nn.Conv1d(config.channels, config.d_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_model_input(x, d_in=self.config.d_in)
        return run_in_microbatches(self._forward, x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_proj(x.transpose(1, 2))
        for block in self.blocks:
            h = block(h)
        return self.output_proj(h).transpose(1, 2)
