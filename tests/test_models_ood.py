"""gait2hip.models.ood: every user-facing sentence about the OOD limits comes from its constants."""

from __future__ import annotations

import math

import pytest

from gait2hip.models import ood


def test_messages_state_the_default_limits() -> None:
    assert ood.distance_rule() == "99th percentile of training cycles, out of fold"
    assert ood.outside_label() == "> ±4 SD" and ood.outside_limit_text() == "5%"
    legend = ood.ood_legend()
    assert "99th percentile" in legend and "> 5 % of samples are beyond ±4 SD" in legend


def test_changing_a_constant_changes_every_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ood, "OOD_PERCENTILE", 97.5)
    monkeypatch.setattr(ood, "OOD_Z_LIMIT", 3.0)
    monkeypatch.setattr(ood, "OOD_OUTSIDE_FRACTION_LIMIT", 0.1)
    legend = ood.ood_legend()
    assert "97.5th percentile" in legend and "> 10 % of samples are beyond ±3 SD" in legend
    assert "99th" not in legend and "±4 SD" not in legend and "5 %" not in legend
    assert ood.outside_label() == "> ±3 SD" and ood.outside_limit_text() == "10%"
    assert ood.ood_reasons(distance=7.0, threshold=6.0, outside=0.2) == [
        "distance 7.0 > 6.0 (97.5th percentile of training cycles, out of fold)",
        "20% of samples beyond ±3 SD of the training mean",
    ]
    # 8 % outside: flagged under the default 5 % limit, not under the patched 10 %
    assert ood.ood_reasons(distance=1.0, threshold=6.0, outside=0.08) == []
    assert ood.ood_reasons(distance=math.nan, threshold=math.nan, outside=0.0) == []


def test_ordinals() -> None:
    assert [ood._ordinal(v) for v in (99.0, 95.0, 91.0, 92.0, 93.0, 11.0, 97.5)] == [
        "99th", "95th", "91st", "92nd", "93rd", "11th", "97.5th",
    ]  # fmt: skip


def test_graded_levels_follow_the_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ood.ood_level(distance=5.0, threshold=6.0, outside=0.01) == "ok"
    assert ood.ood_level(distance=15.0, threshold=6.0, outside=0.10) == "caution"  # a real walker (2.5 ×)
    assert ood.ood_level(distance=39.0, threshold=6.0, outside=0.25) == "unreliable"  # negated hip flexion
    assert ood.ood_level(distance=5.0, threshold=6.0, outside=0.21) == "unreliable"
    assert ood.ood_level(distance=math.nan, threshold=math.nan, outside=0.0) == "ok"  # no reference
    monkeypatch.setattr(ood, "OOD_UNRELIABLE_DISTANCE_FACTOR", 2.0)
    assert ood.ood_level(distance=15.0, threshold=6.0, outside=0.10) == "unreliable"
    assert "up to 2 × the threshold" in ood.ood_legend()


def test_held_out_real_people_are_not_flagged_wholesale_while_far_inputs_are() -> None:
    """REAL data: the simulated cohort's training pool + fukuchi2018 minus a fold of its subjects;
    the fold's people are new. A threshold from subject-wise out-of-fold distances flags ≤ 10 % of
    them (cycle-wise ones, where a person's other cycles sit in the PCA, flag more); a shifted or
    sign-inverted cycle is always flagged."""
    import numpy as np

    from gait2hip.data import load_dataset
    from gait2hip.data.columns import INPUT_ANGLES
    from gait2hip.evaluate.splits import subject_holdout
    from gait2hip.train.folds import group_kfold

    def angles(dataset):
        return dataset.inputs_in_degrees().select_inputs(INPUT_ANGLES).X

    sim = load_dataset("default")
    sim = sim.take(sim.meta["cohort"].to_numpy(dtype=str) != "patient")
    pool = sim.select(subjects=subject_holdout(sim.meta["subject_id"].to_numpy(dtype=str)).pool)
    real = load_dataset("fukuchi2018")
    subjects = real.meta["subject_id"].to_numpy(dtype=str)
    flagged = {"cycle": [], "subject": [], "shifted": [], "inverted": []}
    for held_out in group_kfold(subjects, n_splits=5):
        new = np.zeros(len(real), dtype=bool)
        new[held_out] = True
        train = np.concatenate([angles(pool), angles(real)[~new]])
        groups = list(pool.meta["subject_id"]) + list(subjects[~new])
        for kind, reference in (
            ("cycle", ood.fit_reference(train_inputs=train)),
            ("subject", ood.fit_reference(train_inputs=train, groups=groups)),
        ):
            far = ood.ood_distance(angles(real)[new], reference) > reference["ood_threshold"][0]
            flagged[kind] += list(far)
        flagged["shifted"] += list(
            ood.ood_distance(angles(real)[new] + 40.0, reference) > reference["ood_threshold"][0]
        )
        flagged["inverted"] += list(
            ood.ood_distance(-angles(real)[new], reference) > reference["ood_threshold"][0]
        )
    rate = {kind: float(np.mean(values)) for kind, values in flagged.items()}
    assert rate["subject"] <= 0.10 < rate["cycle"]
    assert rate["shifted"] == rate["inverted"] == 1.0
