"""Benchmark scoring: the hip contact force is scored in % body weight, from the units the data declares."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gait2hip.bench.scoring import in_scoring_units, scored_set
from gait2hip.data.columns import CONTACT_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.evaluate.tables import metric_tables

T = 5


def _contact_set(values_per_kg: float, unit: str = "N/kg") -> GaitDataset:
    """Two subjects (80 and 50 kg), one cycle each, every contact channel at one constant value."""
    meta = pd.DataFrame({"subject_id": ["A", "B"], "mass_kg": [80.0, 50.0], "cadence_label": ["med", "med"]})
    return GaitDataset(
        X=np.zeros((2, T, 1), dtype=np.float32),
        Y=np.full((2, T, len(CONTACT_R)), values_per_kg, dtype=np.float32),
        input_columns=("hip_flexion_r",),
        target_columns=CONTACT_R,
        input_units=("deg",),
        target_units=(unit,) * len(CONTACT_R),
        meta=meta,
    )


def test_contact_rmse_and_skill_are_in_percent_body_weight():
    # 24.525 N/kg is 2.5 × g per kg: 250 % body weight; 26.487 N/kg = 270 %BW; 19.62 N/kg = 200 %BW.
    truth = _contact_set(24.525)
    splits = SimpleNamespace(pool=truth)
    per_kg = {
        ("paper", "lstm", "contact", "2025"): {"test": np.full((2, T, 7), 26.487, np.float32)},
        ("baseline", "mean-curve", "contact", "-"): {"test": np.full((2, T, 7), 19.62, np.float32)},
    }
    predictions = in_scoring_units(per_kg, splits)
    metrics, _, _ = metric_tables(
        predictions, {"test": scored_set(truth, ("contact",))}, target_columns={"contact": CONTACT_R}
    )
    lstm = metrics[(metrics["model"] == "lstm") & (metrics["cadence"] == "overall")].iloc[0]
    assert lstm["units"] == "%BW"
    assert lstm["rmse"] == pytest.approx(20.0, abs=1e-3)  # 270 − 250 %BW, whatever the body mass
    assert lstm["mae"] == pytest.approx(20.0, abs=1e-3)
    assert lstm["skill"] == pytest.approx(1 - 20.0 / 50.0, abs=1e-5)  # baseline off by 50 %BW


def test_contact_already_in_percent_body_weight_is_not_converted_twice():
    truth = _contact_set(250.0, unit="%BW")
    predictions = in_scoring_units(
        {("paper", "lstm", "contact", "2025"): {"test": np.full((2, T, 7), 262.0, np.float32)}},
        SimpleNamespace(pool=truth),
    )
    metrics, _, _ = metric_tables(
        predictions, {"test": scored_set(truth, ("contact",))}, target_columns={"contact": CONTACT_R}
    )
    assert metrics["rmse"].iloc[0] == pytest.approx(12.0, abs=1e-4)


def test_contact_in_newtons_is_refused_not_scored_wrong():
    truth = _contact_set(1962.0, unit="N")  # not divided by the body mass
    with pytest.raises(Gait2HipInputError, match="contact targets are in N"):
        in_scoring_units(
            {("paper", "lstm", "contact", "2025"): {"test": np.zeros((2, T, 7), np.float32)}},
            SimpleNamespace(pool=truth),
        )


def test_forces_are_left_as_they_are():
    truth = _contact_set(1.5)
    values = np.random.default_rng(0).normal(size=(2, T, 14)).astype(np.float32)
    forces = GaitDataset(
        X=truth.X,
        Y=values,
        input_columns=truth.input_columns,
        target_columns=MUSCLE_GROUPS_R,
        input_units=truth.input_units,
        target_units=("N/kg",) * 14,
        meta=truth.meta,
    )
    out = in_scoring_units({("p", "m", "forces", "1"): {"test": values}}, SimpleNamespace(pool=forces))
    np.testing.assert_array_equal(out[("p", "m", "forces", "1")]["test"], values)
    assert scored_set(truth, ("forces", "moments")) is truth
