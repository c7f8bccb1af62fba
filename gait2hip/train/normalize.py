"""Per-channel z-scoring fitted on training data only.

Inputs are always z-scored (mean and std of every channel over all training trials and
time points, ``std + 1e-8`` — the Gait2Hip-60 scripts' convention). Targets are z-scored only
when a recipe asks for it (``standardize_targets``), so that large muscles do not dominate
the MSE (over the finite entries of each channel when labels are missing, NaN); predictions
are mapped back to N/kg or Nm/kg before any metric is computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-8


@dataclass(frozen=True)
class Standardizer:
    """Channel-wise affine map ``(x - mean) / (std + eps)``.

    Attributes
    ----------
    mean, std
        One value per channel, shape [C] (float64).
    eps
        Added to ``std`` before dividing (1e-8, as in the paper's scripts).
    """

    mean: np.ndarray
    std: np.ndarray
    eps: float = EPS

    @classmethod
    def fit(cls, values: np.ndarray, *, eps: float = EPS, allow_missing: bool = False) -> Standardizer:
        """Fit on ``values`` [N, T, C] (or [M, C]): statistics over every axis but the last.

        With ``allow_missing`` (targets of a mixed dataset, see :mod:`gait2hip.data.mixing`) NaN
        marks a missing label and each channel's mean and std are computed over its finite entries
        only; a channel with none is an error. Without it, any NaN is an error. inf always is.
        """
        values = np.asarray(values, dtype=np.float64)
        flat = values.reshape(-1, values.shape[-1])
        if np.isinf(flat).any() or (not allow_missing and np.isnan(flat).any()):
            raise ValueError("cannot fit a standardizer on NaN/inf values")
        if not allow_missing:
            return cls(mean=flat.mean(axis=0), std=flat.std(axis=0), eps=eps)
        counts = np.isfinite(flat).sum(axis=0)
        if (counts == 0).any():
            raise ValueError(f"channel(s) {np.flatnonzero(counts == 0).tolist()} have no finite value")
        return cls(mean=np.nanmean(flat, axis=0), std=np.nanstd(flat, axis=0), eps=eps)

    @classmethod
    def identity(cls, channels: int) -> Standardizer:
        """The no-op map (mean 0, std 1, eps 0) for targets that are not standardised."""
        return cls(mean=np.zeros(channels), std=np.ones(channels), eps=0.0)

    @property
    def scale(self) -> np.ndarray:
        return self.std + self.eps

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Standardised values (float32); NaN (a missing label) stays NaN."""
        return ((np.asarray(values, dtype=np.float64) - self.mean) / self.scale).astype(np.float32)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) * self.scale + self.mean).astype(np.float32)

    def to_dict(self) -> dict[str, list[float] | float]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "eps": self.eps}
