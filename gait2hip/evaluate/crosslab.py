"""Cross-lab scoring: a model trained on one lab's people, tested on another lab's people.

Pure functions of arrays and frames (the experiment that trains the models is
:mod:`gait2hip.bench.crosslab`; the report's table is :func:`gait2hip.report.tables.crosslab_table`).

Every score is POOLED over the test cycles (all cycles, time points and channels of a target
group), as the real-data figures of the issue are (fukuchi2018 carries one mean cycle per
subject, speed and leg, so pooling weights subjects equally up to a missing cycle):

* ``rmse`` in N/kg or Nm/kg; ``r2_<channel>`` the R² of each channel over the pooled cycles and
  points (``r2_flexion`` / ``r2_adduction`` / ``r2_rotation`` for hip moments); ``r2_channel``
  their mean;
* ``skill_train_mean`` = 1 − RMSE / RMSE of the TRAINING data's mean curve (per speed label,
  :class:`~gait2hip.evaluate.baseline.MeanCurveBaseline` fitted on the cycles that trained the
  model): what the angles add over what the training data already says on average;
* ``skill_lab_mean`` = 1 − RMSE / RMSE of the TEST LAB's own mean curve, leave one subject out
  (per speed label, fitted on the test lab's OTHER subjects, :func:`loso_mean`): the in-domain
  reference a lab could build without any model. For a lab with a single trial (the OpenSim
  examples) the fair proxy is the mean curve of the other real sources (the caller passes it,
  and says which).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gait2hip.data.columns import MOMENTS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.evaluate.baseline import MeanCurveBaseline
from gait2hip.evaluate.metrics import channel_r2, skill

#: Short names of the hip-moment channels in the tables.
MOMENT_SHORT = {c: c.removeprefix("hip_").removesuffix("_r_moment") for c in MOMENTS_R}


def labelled(dataset: GaitDataset, columns: Sequence[str]) -> GaitDataset:
    """The cycles of ``dataset`` whose ``columns`` are all finite (labelled), those columns only."""
    part = dataset.select_targets(list(columns))
    keep = np.isfinite(part.Y).all(axis=(1, 2))
    return part.take(keep)


def train_mean(train: GaitDataset, test: GaitDataset, columns: Sequence[str]) -> np.ndarray:
    """The training data's mean curve (per speed label) for every test cycle, [N, T, C]."""
    fitted = MeanCurveBaseline.fit(labelled(train, columns))
    return fitted.predict(test)


def loso_mean(lab: GaitDataset, columns: Sequence[str], *, test: GaitDataset | None = None) -> np.ndarray:
    """Each test cycle's leave-one-subject-out mean curve of its own lab (per speed label), [N, T, C].

    ``lab``: the whole lab (every subject, labelled cycles); ``test``: the cycles to predict
    (default: all of ``lab``). Each test cycle gets the mean over ``lab``'s OTHER subjects.
    """
    lab = labelled(lab, columns)
    test = lab if test is None else test
    subjects = lab.meta["subject_id"].to_numpy(dtype=str)
    out = np.empty((len(test), test.n_timepoints, len(columns)), dtype=np.float32)
    tested = test.meta["subject_id"].to_numpy(dtype=str)
    for subject in dict.fromkeys(tested):
        rows = tested == subject
        others = MeanCurveBaseline.fit(lab.take(subjects != subject))
        out[rows] = others.predict(test.take(rows))
    return out


def score_rows(
    truth: np.ndarray,
    prediction: np.ndarray,
    *,
    columns: Sequence[str],
    train_baseline: np.ndarray,
    lab_baseline: np.ndarray | None,
    base: Mapping[str, object],
) -> dict:
    """One table row: pooled RMSE, per-channel R², skill over both baselines.

    ``truth``, ``prediction``, ``train_baseline`` and ``lab_baseline`` are [N, T, C] in the same
    unit; ``lab_baseline`` None when the test lab has no own reference (skill NaN).
    """
    truth = np.asarray(truth, dtype=np.float64)
    prediction = np.asarray(prediction, dtype=np.float64)
    if truth.shape != prediction.shape or not np.isfinite(truth).all():
        raise ValueError(f"truth {truth.shape} and prediction {prediction.shape} must match and be finite")

    def rmse(values: np.ndarray) -> float:
        return float(np.sqrt(np.mean((truth - np.asarray(values, dtype=np.float64)) ** 2)))

    r2 = channel_r2(truth, prediction)
    row = {
        **base,
        "n_cycles": len(truth),
        "rmse": rmse(prediction),
        "r2_channel": float(np.nanmean(r2)) if np.isfinite(r2).any() else float("nan"),
        "rmse_train_mean": rmse(train_baseline),
        "skill_train_mean": skill(rmse(prediction), rmse(train_baseline)),
        "rmse_lab_mean": float("nan") if lab_baseline is None else rmse(lab_baseline),
    }
    row["skill_lab_mean"] = skill(row["rmse"], row["rmse_lab_mean"]) if lab_baseline is not None else np.nan
    if list(columns) == list(MOMENTS_R):
        for column, value in zip(columns, r2, strict=True):
            row[f"r2_{MOMENT_SHORT[column]}"] = float(value)
    return row


def negative_force_share(prediction: np.ndarray, *, tolerance: float = 1e-4) -> float:
    """Fraction of predicted force samples below ``-tolerance`` (N/kg): physically impossible."""
    values = np.asarray(prediction, dtype=np.float64)
    return float(np.mean(values < -tolerance)) if values.size else float("nan")


#: Columns that identify one cell of the cross-lab table (before averaging over fold models).
CELL = ("config", "trained_on", "tested_on", "target")


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Average fold models' rows into one per cell (``n_models`` of them), columns in table order.

    A test set every fold model predicts in full (held-out simulated subjects, the example
    trials) is scored per model and the scores averaged; held-out fukuchi2018 subjects are
    scored once on the out-of-fold predictions (one row already).
    """
    if rows.empty:
        return rows
    numeric = [c for c in rows.columns if c not in CELL and pd.api.types.is_numeric_dtype(rows[c])]
    grouped = rows.groupby(list(CELL), sort=False)
    out = grouped[numeric].mean().reset_index()
    out["n_models"] = grouped.size().to_numpy()
    return out
