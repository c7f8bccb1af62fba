"""Transformer encoder regressor (the Gait2Hip-60 Transformer baseline).

Linear input projection to ``d_model``, a LEARNED positional embedding (``nn.Embedding`` over the
``seq_len`` positions), PyTorch's post-norm ``TransformerEncoder`` and a linear head per time step.
Attention is unmasked: every output sample sees the whole gait cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.base import (
    SequenceModelConfig,
    check_model_input,
    require_fraction,
    require_positive,
    run_in_microbatches,
)


@dataclass(kw_only=True)
class TransformerConfig(SequenceModelConfig):
    """Hyper-parameters of :class:`TransformerRegressor`; defaults are the paper's.

    Parameters
    ----------
    d_model
        Width of the token embedding.
    n_heads
        Attention heads (must divide ``d_model``).
    n_layers
        Encoder layers.
    dim_feedforward
        Hidden width of each layer's feed-forward block.
    dropout
        Dropout inside the encoder layers.
    activation
        Feed-forward activation, ``"relu"`` (PyTorch's and the paper's default) or ``"gelu"``.
    norm_first
        Pre-norm layers (``True``) instead of the paper's post-norm (``False``).
    """

    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 2
    dim_feedforward: int = 256
    dropout: float = 0.1
    activation: str = "relu"
    norm_first: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "d_model", "n_heads", "n_layers", "dim_feedforward")
        require_fraction(self, "dropout")
        if self.d_model % self.n_heads:
            raise Gait2HipInputError(
                f"TransformerConfig.d_model ({self.d_model}) is not divisible by n_heads ({self.n_heads}).",
                column="n_heads",
                fix="choose n_heads dividing d_model.",
            )
        if self.activation not in ("relu", "gelu"):
            raise Gait2HipInputError(
                f"TransformerConfig.activation must be 'relu' or 'gelu', got {self.activation!r}.",
                column="activation",
                fix="pass activation='relu' or 'gelu'.",
            )


class TransformerRegressor(nn.Module):
    """``[batch, T, d_in] -> [batch, T, d_out]`` with ``T <= seq_len``."""

    config_class = TransformerConfig

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.input_proj = nn.Linear(config.d_in, config.d_model)
        self.pos_embed = nn.Embedding(config.seq_len, config.d_model)
        layer = nn.TransformerEncoderLayer(
            d_model=config.d_model,
            nhead=config.n_heads,
            dim_feedforward=config.dim_feedforward,
            dropout=config.dropout,
            activation=config.activation,
            batch_first=True,
            norm_first=config.norm_first,
        )
        # Nested tensors only help with padding masks, which a fixed-length cycle never has.
        self.encoder = nn.TransformerEncoder(layer, num_layers=config.n_layers, enable_nested_tensor=False)
        self.output_proj = nn.Linear(config.d_model, config.d_out)
        self.register_buffer("positions", torch.arange(config.seq_len), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_model_input(x, d_in=self.config.d_in)
        return run_in_microbatches(self._forward, x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x.shape[1]
        if steps > self.config.seq_len:
            raise ValueError(
                f"sequence of {steps} samples is longer than the {self.config.seq_len} positions this "
                "Transformer learned; resample the cycle to seq_len points"
            )
        tokens = self.input_proj(x) + self.pos_embed(self.positions[:steps])
        return self.output_proj(self.encoder(tokens))
