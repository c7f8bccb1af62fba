"""The selective scan of Mamba (S6), fast on CPU, identical to mambapy's.

Computes, for every batch item and inner channel ``d`` with state size ``N``::

    h_t = exp(delta_t[d] * A[d, :]) * h_{t-1} + delta_t[d] * x_t[d] * B_t[:]      (h_0 = 0)
    y_t[d] = <h_t, C_t> + D[d] * x_t[d]

with the tensor layout of ``mambapy.mamba.MambaBlock.selective_scan``: ``x, delta [batch, L, ED]``
(``delta`` already through softplus), ``A [ED, N]``, ``B, C [batch, L, N]``, ``D [ED]``.
"""

from __future__ import annotations

import torch


def selective_scan_sequential(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """Plain autograd-friendly sequential scan (the definition, one time step at a time)."""
    batch, steps, inner = x.shape
    drive = delta * x
    state = x.new_zeros(batch, inner, A.shape[1])
    outputs = []
    for t in range(steps):
        decay = torch.exp(delta[:, t].unsqueeze(-1) * A)
        state = decay * state + drive[:, t].unsqueeze(-1) * B[:, t].unsqueeze(1)
        outputs.append(torch.bmm(state, C[:, t].unsqueeze(-1)).squeeze(-1))
    return torch.stack(outputs, dim=1) + D * x


def selective_scan(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """Selective scan ``y [batch, L, ED]`` (see the module docstring for the recurrence)."""
    return selective_scan_sequential(x, delta, A, B, C, D)
