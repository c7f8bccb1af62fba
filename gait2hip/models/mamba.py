"""Mamba (selective state-space) regressor, trainable and fast on CPU.

The Gait2Hip-60 Mamba baseline: linear input projection to ``d_model``, ``n_layers`` Mamba blocks each
added residually (``x + dropout(block(x))``), a final LayerNorm and a linear head per time step.

Each block (:class:`MambaMixer`) has exactly the parameters, names and shapes of ``mamba_ssm.Mamba`` and
of ``mambapy.mamba.MambaBlock`` (``in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj``), so a
mambapy block's ``state_dict`` loads into ours unchanged and gives the same outputs; the scan itself
is :func:`gait2hip.models.selective_scan.selective_scan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from gait2hip.models.base import (
    SequenceModelConfig,
    check_model_input,
    require_fraction,
    require_positive,
    run_in_microbatches,
)
from gait2hip.models.selective_scan import selective_scan


@dataclass(kw_only=True)
class MambaConfig(SequenceModelConfig):
    """Hyper-parameters of :class:`MambaRegressor`; defaults are the paper's.

    Parameters
    ----------
    d_model
        Residual stream width.
    n_layers
        Mamba blocks.
    d_state
        SSM state size ``N`` per inner channel.
    d_conv
        Causal depthwise convolution length.
    expand
        Inner width ``ED = expand * d_model``.
    dt_rank
        Rank of the ``delta`` projection; 0 means ``ceil(d_model / 16)`` (Mamba's "auto").
    dropout
        Dropout on each block's output before the residual add.
    bidirectional
        Also run every block on the time-reversed cycle (separate weights, outputs summed), so each
        sample sees the whole cycle as the Transformer does.
    block_norm
        RMS-normalise each block's input (mambapy's ``ResidualBlock``) instead of the paper's
        un-normalised residual blocks.
    """

    d_model: int = 128
    n_layers: int = 2
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    dt_rank: int = 0
    dropout: float = 0.1
    bidirectional: bool = False
    block_norm: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "d_model", "n_layers", "d_state", "d_conv", "expand")
        require_fraction(self, "dropout")
        if self.dt_rank < 0:
            require_positive(self, "dt_rank")

    @property
    def d_inner(self) -> int:
        return self.expand * self.d_model

    @property
    def resolved_dt_rank(self) -> int:
        return self.dt_rank or math.ceil(self.d_model / 16)


class RMSNorm(nn.Module):
    """Root-mean-square normalisation with a gain (mambapy's, same parameter name ``weight``)."""

    def __init__(self, d_model: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MambaMixer(nn.Module):
    """One Mamba block ``[batch, L, d_model] -> [batch, L, d_model]`` (Gu & Dao 2023, Fig. 3).

    Initialisation follows ``mamba_ssm``/mambapy: S4D-real ``A``, ``delta`` bias drawn log-uniformly
    in [1e-3, 1e-1] through the inverse softplus, ``D = 1``.
    """

    def __init__(
        self,
        *,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        dt_init_floor: float = 1e-4,
    ) -> None:
        super().__init__()
        d_inner = expand * d_model
        self.d_inner = d_inner
        self.d_state = d_state
        self.dt_rank = dt_rank or math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv1d = nn.Conv1d(
            d_inner, d_inner, kernel_size=d_conv, groups=d_inner, padding=d_conv - 1, bias=True
        )
        self.x_proj = nn.Linear(d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, d_inner, bias=True)
        dt_std = self.dt_rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -dt_std, dt_std)
        dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.A_log = nn.Parameter(
            torch.log(torch.arange(1, d_state + 1, dtype=torch.float32).repeat(d_inner, 1))
        )
        self.A_log._no_weight_decay = True
        self.D = nn.Parameter(torch.ones(d_inner))
        self.D._no_weight_decay = True
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[batch, L, d_model] -> [batch, L, d_model]`` (mambapy's and mamba_ssm's layout)."""
        return self.forward_time_major(x.transpose(0, 1)).transpose(0, 1)

    def forward_time_major(self, x: torch.Tensor) -> torch.Tensor:
        """``[L, batch, d_model] -> [L, batch, d_model]``, the fast layout on CPU.

        Time-major, every tensor the selective scan reads is contiguous as produced by the linear
        layers, and the short causal convolution is ``d_conv`` shifted multiply-adds.
        """
        inner, gate = self.in_proj(x).chunk(2, dim=-1)
        inner = F.silu(self._causal_conv_time_major(inner))
        delta, B, C = torch.split(self.x_proj(inner), [self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = F.softplus(self.dt_proj(delta))
        A = -torch.exp(self.A_log.float())
        y = selective_scan(inner, delta, A, B, C, self.D.float(), time_major=True)
        return self.out_proj(y * F.silu(gate))

    def _causal_conv_time_major(self, x: torch.Tensor) -> torch.Tensor:
        """Depthwise causal conv of ``conv1d`` on ``[L, b, ED]``: out_t = bias + sum_k w_k x_{t-K+1+k}."""
        # Taps as contiguous [K, ED] rows: a column of the [ED, K] weight has stride K, which
        # sends every broadcast multiply-add down PyTorch's slow strided path (measured 10 times
        # slower at batch 40, T = 101). Taps are added in place: ``out[s:] = out[s:] + x * w`` made
        # two temporaries and a copy per tap.
        taps = self.conv1d.weight[:, 0, :].t().contiguous()  # [K, ED]
        width = taps.shape[0]
        out = torch.addcmul(self.conv1d.bias, x, taps[width - 1])
        for k in range(width - 1):
            shift = width - 1 - k
            if shift < x.shape[0]:
                out[shift:].addcmul_(x[:-shift], taps[k])
        return out


class MambaLayer(nn.Module):
    """A mixer with optional RMS pre-norm; ``mixer``/``norm`` names match mambapy's ``ResidualBlock``."""

    def __init__(self, config: MambaConfig) -> None:
        super().__init__()
        self.mixer = MambaMixer(
            d_model=config.d_model,
            d_state=config.d_state,
            d_conv=config.d_conv,
            expand=config.expand,
            dt_rank=config.resolved_dt_rank,
        )
        self.norm = RMSNorm(config.d_model) if config.block_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Time-major ``[T, batch, d_model]``; the update to add to the residual stream."""
        return self.mixer.forward_time_major(self.norm(x))


class MambaRegressor(nn.Module):
    """``[batch, T, d_in] -> [batch, T, d_out]`` for any ``T``.

    ``layers`` has mambapy's ``Mamba.layers`` layout (``layers.{i}.mixer.*``, ``layers.{i}.norm.weight``
    when ``block_norm``), so ``model.load_state_dict(mambapy_mamba.state_dict(), strict=False)``
    fills the blocks of a model built with the same sizes.
    """

    config_class = MambaConfig

    def __init__(self, config: MambaConfig) -> None:
        super().__init__()
        self.config = config
        self.input_proj = nn.Linear(config.d_in, config.d_model)
        self.layers = nn.ModuleList(MambaLayer(config) for _ in range(config.n_layers))
        self.layers_reverse = (
            nn.ModuleList(MambaLayer(config) for _ in range(config.n_layers))
            if config.bidirectional
            else None
        )
        self.dropout = nn.Dropout(config.dropout)
        self.norm = nn.LayerNorm(config.d_model)
        self.output_proj = nn.Linear(config.d_model, config.d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_model_input(x, d_in=self.config.d_in)
        return run_in_microbatches(self._forward, x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_proj(x.transpose(0, 1))  # time-major [T, batch, d_model] inside
        for i, layer in enumerate(self.layers):
            update = layer(h)
            if self.layers_reverse is not None:
                update = update + self.layers_reverse[i](h.flip(0)).flip(0)
            h = h + self.dropout(update)
        return self.output_proj(self.norm(h)).transpose(0, 1)
