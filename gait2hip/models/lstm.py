"""LSTM sequence regressor (the Gait2Hip-60 LSTM baseline: 2 layers of 128 units and a linear head)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gait2hip.models.base import SequenceModelConfig, check_model_input, require_fraction, require_positive


@dataclass(kw_only=True)
class LSTMConfig(SequenceModelConfig):
    """Hyper-parameters of :class:`LSTMRegressor`; defaults are the paper's.

    Parameters
    ----------
    hidden_size
        Units per direction and layer.
    num_layers
        Stacked LSTM layers.
    dropout
        Dropout between stacked layers (PyTorch's ``nn.LSTM`` dropout; ignored for one layer).
    bidirectional
        Read the cycle both ways (the whole cycle is known offline, so future samples are fair game).
    """

    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.1
    bidirectional: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "hidden_size", "num_layers")
        require_fraction(self, "dropout")


class LSTMRegressor(nn.Module):
    """``[batch, T, d_in] -> [batch, T, d_out]``: stacked LSTM, then a linear head per time step."""

    config_class = LSTMConfig

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(
            input_size=config.d_in,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            bidirectional=config.bidirectional,
        )
        directions = 2 if config.bidirectional else 1
        self.output_proj = nn.Linear(directions * config.hidden_size, config.d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_model_input(x, d_in=self.config.d_in)
        hidden, _ = self.lstm(x)
        return self.output_proj(hidden)
