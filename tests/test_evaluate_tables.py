"""Metric tables: per cohort and cadence, per subject, per real trial (available channels only), skill."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.data.columns import MOMENTS_R
from gait2hip.data.synthetic import synthetic_dataset
from gait2hip.evaluate.realtrials import RealTrial, real_trial_rows
from gait2hip.evaluate.tables import metric_tables, paired_tests


@pytest.fixture(scope="module")
def moments_set():
    return synthetic_dataset(n_subjects=3, trials_per_cadence=2, n_timepoints=11, seed=3).select_targets(
        MOMENTS_R
    )


def test_rows_per_cadence_and_subject_with_skill_against_the_baseline(moments_set):
    truth = moments_set.Y
    predictions = {
        ("baseline", "mean-curve", "moments", "-"): {"test": truth + 2.0},  # off by 2 everywhere
        ("paper", "lstm", "moments", "2025"): {"test": truth + 0.5},  # off by 0.5 everywhere
    }
    metrics, subjects, real = metric_tables(
        predictions, {"test": moments_set}, target_columns={"moments": MOMENTS_R}
    )
    assert real.empty
    assert set(metrics["cadence"]) == {"overall", "slow", "med", "fast"}
    assert set(metrics["cohort"]) == {"healthy"} and set(metrics["units"]) == {"Nm/kg"}
    lstm = metrics[metrics["model"] == "lstm"]
    np.testing.assert_allclose(lstm["rmse"], 0.5)
    np.testing.assert_allclose(lstm["mae"], 0.5)
    np.testing.assert_allclose(lstm["skill"], 0.75)  # 1 - 0.5 / 2
    np.testing.assert_allclose(metrics[metrics["model"] == "mean-curve"]["skill"], 0.0)
    overall = lstm[lstm["cadence"] == "overall"].iloc[0]
    assert overall["n_subjects"] == 3 and overall["n_trials"] == len(moments_set)
    assert len(subjects[(subjects["model"] == "lstm") & (subjects["cadence"] == "overall")]) == 3


def test_real_trials_are_scored_on_their_available_channels_only(moments_set):
    one = moments_set.take(np.arange(len(moments_set)) == 0)
    trial = RealTrial(name="walk", dataset=one, available=(MOMENTS_R[0],))
    truth = one.Y.copy()
    truth[:, :, 1:] = np.nan  # unavailable references
    prediction = one.Y.copy()
    prediction[:, :, 0] += 2.0
    prediction[:, :, 1:] += 100.0  # errors on channels the trial has no reference for: ignored
    rows = real_trial_rows([trial], truth, prediction, columns=MOMENTS_R, base={"model": "m"})
    assert len(rows) == 1 and rows[0]["n_channels"] == 1 and rows[0]["trial"] == "walk"
    assert rows[0]["rmse"] == pytest.approx(2.0) and rows[0]["mae"] == pytest.approx(2.0)
    assert rows[0]["model"] == "m"


def test_paired_tests_compare_models_within_a_protocol_and_against_the_baseline(moments_set):
    truth = moments_set.Y
    rng = np.random.default_rng(0)
    predictions = {
        ("baseline", "mean-curve", "moments", "-"): {"test": truth + 2.0},
        ("paper", "lstm", "moments", "2025"): {"test": truth + rng.normal(0, 0.5, truth.shape)},
        ("paper", "tcn", "moments", "2025"): {"test": truth + rng.normal(0, 1.0, truth.shape)},
    }
    _, subjects, _ = metric_tables(predictions, {"test": moments_set}, target_columns={"moments": MOMENTS_R})
    table = paired_tests(subjects, protocols=("paper",), models=("lstm", "tcn"))
    pairs = set(zip(table["a"], table["b"], strict=True))
    assert pairs == {
        ("paper/lstm", "paper/tcn"),
        ("paper/lstm", "baseline/mean-curve"),
        ("paper/tcn", "baseline/mean-curve"),
    }
    assert set(table["n_subjects"]) == {3}


def test_a_real_trial_without_a_contact_reference_gets_no_contact_row(moments_set):
    from gait2hip.data.columns import CONTACT_R
    from gait2hip.evaluate.tables import reference_values

    one = moments_set.take(np.arange(len(moments_set)) == 0)
    trial = RealTrial(name="walk", dataset=one, available=MOMENTS_R)
    truth = reference_values(one, CONTACT_R)  # the trial has no contact columns at all
    assert truth.shape == (1, one.n_timepoints, 7) and np.isnan(truth).all()
    predictions = {("paper", "lstm", "contact", "2025"): {"real": np.zeros((1, one.n_timepoints, 7))}}
    _, _, real = metric_tables(
        predictions, {"real": one}, target_columns={"contact": CONTACT_R}, real_trials=[trial]
    )
    assert real.empty
