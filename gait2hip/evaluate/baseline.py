"""The trivial baseline every model must beat: the training subjects' mean curve per cadence.

For each cadence label (slow / med / fast) the baseline predicts, for every cycle at that
cadence, the mean over the training cycles of each target channel at each % of the gait cycle
(in N/kg or Nm/kg). A cycle whose cadence is unknown or unseen gets the nearest trained cadence
by steps/min (from its stride time when the label is missing), else the overall mean curve.
It uses no input at all, so a model's skill over it (``1 - RMSE_model / RMSE_baseline``) is
what the model learned from the joint angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait2hip.data.dataset import CADENCE_SPM, GaitDataset


@dataclass(frozen=True)
class MeanCurveBaseline:
    """Mean target curve [T, C] per cadence label, and overall."""

    target_columns: tuple[str, ...]
    curves: dict[str, np.ndarray]
    overall: np.ndarray

    @classmethod
    def fit(cls, train: GaitDataset) -> MeanCurveBaseline:
        """Fit on training cycles whose targets are already in the scoring unit (per kg)."""
        labels = train.meta["cadence_label"].to_numpy(dtype=str)
        curves = {
            label: train.Y[labels == label].mean(axis=0)
            for label in sorted(set(labels))
            if label in CADENCE_SPM
        }
        return cls(target_columns=train.target_columns, curves=curves, overall=train.Y.mean(axis=0))

    def _curve_for(self, label: str, spm: float) -> np.ndarray:
        if label in self.curves:
            return self.curves[label]
        if np.isfinite(spm) and self.curves:
            nearest = min(self.curves, key=lambda name: abs(CADENCE_SPM[name] - spm))
            return self.curves[nearest]
        return self.overall

    def predict(self, dataset: GaitDataset) -> np.ndarray:
        """Baseline prediction [N, T, C] for the cycles of ``dataset`` (only its metadata is used)."""
        meta = dataset.meta
        spm = meta["cadence_spm"].to_numpy(dtype=float)
        stride = meta["stride_time_s"].to_numpy(dtype=float)
        spm = np.where(np.isfinite(spm), spm, 120.0 / stride)
        labels = meta["cadence_label"].to_numpy(dtype=str)
        out = np.stack([self._curve_for(label, s) for label, s in zip(labels, spm, strict=True)])
        if out.shape[1] != dataset.n_timepoints:
            raise ValueError(
                f"baseline curves have {out.shape[1]} points but the cycles have {dataset.n_timepoints}"
            )
        return out.astype(np.float32)
