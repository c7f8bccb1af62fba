"""The training loss with missing targets: MSE over the finite entries of each channel.

A mixed training set (:mod:`gait2hip.data.mixing`) marks a label a source does not have with
NaN. :func:`masked_mse` averages the squared error of every target channel over the entries
where that channel is labelled, then averages the channels that have at least one label in the
batch. So a batch of real cycles with moments only trains the moments outputs and gives the
force outputs exactly zero gradient; a batch with every label present gives the plain MSE
(every channel has the same count, so the mean of channel means is the overall mean).
"""

from __future__ import annotations

import torch


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over labelled channels of each channel's MSE over its finite entries.

    Parameters
    ----------
    pred
        Model outputs [B, T, K] (finite).
    target
        Targets [B, T, K]; NaN where a label is missing.

    Returns
    -------
    torch.Tensor
        A scalar; zero (with a graph, zero gradients) when the batch has no label at all.
    """
    labelled = torch.isfinite(target)
    safe = torch.where(labelled, target, torch.zeros_like(target))
    squared = torch.where(labelled, (pred - safe) ** 2, torch.zeros_like(pred))
    counts = labelled.sum(dim=tuple(range(target.ndim - 1)))
    sums = squared.sum(dim=tuple(range(target.ndim - 1)))
    present = counts > 0
    if not bool(present.any()):
        return (pred * 0.0).sum()
    return (sums[present] / counts[present]).mean()


def masked_sse(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel sums of squared errors and label counts over finite entries ([K], [K])."""
    labelled = torch.isfinite(target)
    safe = torch.where(labelled, target, torch.zeros_like(target))
    squared = torch.where(labelled, (pred - safe) ** 2, torch.zeros_like(pred))
    axes = tuple(range(target.ndim - 1))
    return squared.sum(dim=axes), labelled.sum(dim=axes)
