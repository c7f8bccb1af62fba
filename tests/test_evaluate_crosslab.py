"""Cross-lab scoring: leave-one-subject-out mean curves and skill over both baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.evaluate.crosslab import loso_mean, score_rows, summarise


def _lab(values: list[float]) -> GaitDataset:
    """One cycle per subject, every moment channel constant at the subject's value."""
    n = len(values)
    Y = np.repeat(np.asarray(values, dtype=np.float32)[:, None, None], 5, axis=1).repeat(3, axis=2)
    meta = pd.DataFrame(
        {"subject_id": [f"s{i}" for i in range(n)], "mass_kg": np.nan, "cadence_label": "med"}
    )
    return GaitDataset(
        X=np.zeros((n, 5, 10)), Y=Y, input_columns=INPUT_ANGLES, target_columns=MOMENTS_R,
        input_units=("deg",) * 10, target_units=("Nm/kg",) * 3, meta=meta,
    )  # fmt: skip


def test_a_subject_never_enters_its_own_mean_curve():
    lab = _lab([0.0, 1.0, 2.0, 9.0])
    means = loso_mean(lab, MOMENTS_R)
    assert means[:, 0, 0] == pytest.approx([4.0, 11 / 3, 10 / 3, 1.0])


def test_skill_is_measured_against_each_baseline():
    truth = np.ones((2, 5, 3))
    row = score_rows(
        truth, truth * 0.5, columns=MOMENTS_R, train_baseline=np.zeros_like(truth),
        lab_baseline=truth * 0.75, base={"config": "x"},
    )  # fmt: skip
    assert row["rmse"] == pytest.approx(0.5)
    assert row["skill_train_mean"] == pytest.approx(0.5)  # 1 - 0.5 / 1
    assert row["skill_lab_mean"] == pytest.approx(-1.0)  # 1 - 0.5 / 0.25: worse than the lab's mean
    assert np.isnan(row["r2_flexion"])  # a constant reference has no R²
    none = score_rows(truth, truth, columns=MOMENTS_R, train_baseline=truth * 0, lab_baseline=None, base={})
    assert np.isnan(none["skill_lab_mean"]) and none["skill_train_mean"] == pytest.approx(1.0)


def test_fold_models_are_averaged_per_cell():
    rows = pd.DataFrame(
        {
            "config": ["a", "a", "b"], "trained_on": "both", "tested_on": "t", "target": "moments",
            "fold": [1, 2, 1], "rmse": [0.1, 0.3, 0.5],
        }
    )  # fmt: skip
    table = summarise(rows)
    assert table["rmse"].tolist() == pytest.approx([0.2, 0.5]) and table["n_models"].tolist() == [2, 1]
