"""Error metrics exactly as the Gait2Hip-60 benchmark computes them, plus per-channel R².

Every score is computed PER TEST SUBJECT (that subject's trials, all time points and all
output channels pooled) and then averaged over subjects ("subject-mean"):

* RMSE, MAE over all pooled points and channels, in the target unit (N/kg or Nm/kg);
* ``r2_paper``: ``1 - SS_res / SS_tot`` with SS_tot about ONE scalar mean of all pooled
  values — the paper's definition (inflated by offsets between channels);
* ``r2_channel``: the usual R², one per output channel (its own mean over the subject's
  pooled trials and time points), averaged over channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

METRIC_COLUMNS = ("rmse", "mae", "r2_paper", "r2_channel")


def _as_3d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        values = values[None]
    if values.ndim != 3:
        raise ValueError(f"expected [N, T, C] arrays, got shape {values.shape}")
    return values


def pooled_r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The paper's R²: all trials, time points and channels pooled, one scalar mean."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    ss_res = float(np.sum((y_true - y_pred) ** 2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    return float("nan") if ss_tot == 0.0 else 1.0 - ss_res / ss_tot


def channel_r2(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """R² of each output channel over the pooled trials and time points, shape [C].

    A channel with no variance gets NaN (it has no R²), and is skipped by ``np.nanmean``.
    """
    y_true = _as_3d(y_true)
    y_pred = _as_3d(y_pred)
    channels = y_true.shape[-1]
    t = y_true.reshape(-1, channels)
    p = y_pred.reshape(-1, channels)
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)


def channel_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """RMSE of each output channel over the pooled trials and time points, shape [C]."""
    y_true = _as_3d(y_true)
    y_pred = _as_3d(y_pred)
    return np.sqrt(np.mean((y_true - y_pred) ** 2, axis=(0, 1)))


def channel_pearson_r(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Pearson correlation of each channel over the pooled trials and time points, shape [C]."""
    y_true = _as_3d(y_true)
    y_pred = _as_3d(y_pred)
    channels = y_true.shape[-1]
    t = y_true.reshape(-1, channels)
    p = y_pred.reshape(-1, channels)
    t = t - t.mean(axis=0)
    p = p - p.mean(axis=0)
    denom = np.sqrt(np.sum(t**2, axis=0) * np.sum(p**2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, np.sum(t * p, axis=0) / denom, np.nan)


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE, paper R² and per-channel R² of one pooled group of trials."""
    y_true = _as_3d(y_true)
    y_pred = _as_3d(y_pred)
    err = y_true - y_pred
    r2c = channel_r2(y_true, y_pred)
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2_paper": pooled_r2(y_true, y_pred),
        "r2_channel": float(np.nanmean(r2c)) if np.isfinite(r2c).any() else float("nan"),
    }


def subject_scores(
    y_true: np.ndarray, y_pred: np.ndarray, subject_ids: Sequence[str] | np.ndarray
) -> pd.DataFrame:
    """One row of :func:`scores` per subject (index ``subject_id``), with ``n_trials``."""
    y_true = _as_3d(y_true)
    y_pred = _as_3d(y_pred)
    subject_ids = np.asarray(subject_ids, dtype=str)
    if not (len(y_true) == len(y_pred) == len(subject_ids)):
        raise ValueError("y_true, y_pred and subject_ids must have the same number of trials")
    rows = []
    for subject in dict.fromkeys(subject_ids):
        mask = subject_ids == subject
        rows.append(
            {"subject_id": subject, "n_trials": int(mask.sum()), **scores(y_true[mask], y_pred[mask])}
        )
    return pd.DataFrame(rows).set_index("subject_id")


def subject_mean(per_subject: pd.DataFrame) -> dict[str, float]:
    """Average the per-subject scores ("subject_mean_*" in the paper's CSVs)."""
    out: dict[str, float] = {
        "n_subjects": len(per_subject),
        "n_trials": int(per_subject["n_trials"].sum()),
    }
    for column in METRIC_COLUMNS:
        out[column] = float(per_subject[column].mean())
    return out


def skill(rmse: float, rmse_baseline: float) -> float:
    """Skill over a reference forecast: ``1 - RMSE / RMSE_baseline`` (0 = no better, 1 = perfect)."""
    return float("nan") if not rmse_baseline > 0 else 1.0 - rmse / rmse_baseline
