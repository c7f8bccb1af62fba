"""Metric arithmetic pinned on hand-computed numbers (the paper's pooled R² vs per-channel R²)."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.evaluate.metrics import (
    channel_pearson_r,
    channel_r2,
    pooled_r2,
    scores,
    skill,
    subject_mean,
    subject_scores,
)

# One trial, T=2, two channels.
TRUE_A = np.array([[[1.0, 3.0], [2.0, 5.0]]])
PRED_A = np.array([[[1.0, 4.0], [2.0, 4.0]]])


def test_scores_by_hand():
    s = scores(TRUE_A, PRED_A)
    # errors 0, -1, 0, 1
    assert s["rmse"] == pytest.approx(np.sqrt(0.5))
    assert s["mae"] == pytest.approx(0.5)
    # pooled mean 2.75; SS_tot = 1.75² + .25² + .75² + 2.25² = 8.75; SS_res = 2
    assert s["r2_paper"] == pytest.approx(1 - 2 / 8.75)
    # channel 0 perfect (R² 1); channel 1: SS_tot 2, SS_res 2 → 0; mean 0.5
    assert s["r2_channel"] == pytest.approx(0.5)
    assert channel_r2(TRUE_A, PRED_A) == pytest.approx([1.0, 0.0])


def test_paper_r2_is_inflated_by_channel_offsets():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(4, 50, 2)) + np.array([0.0, 100.0])
    pred = truth + rng.normal(scale=1.0, size=truth.shape)
    assert pooled_r2(truth, pred) > 0.99
    assert np.nanmean(channel_r2(truth, pred)) < 0.6


def test_subject_scores_and_subject_mean():
    true_b = np.array([[[0.0, 0.0], [2.0, 2.0]]])
    pred_b = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    truth = np.concatenate([TRUE_A, true_b, true_b])
    pred = np.concatenate([PRED_A, pred_b, pred_b])
    table = subject_scores(truth, pred, ["a", "b", "b"])
    assert table.loc["b", "n_trials"] == 2
    assert table.loc["b", "rmse"] == pytest.approx(1.0)
    # subject b: pooled mean 1, SS_tot = 8, SS_res = 8 → 0
    assert table.loc["b", "r2_paper"] == pytest.approx(0.0)
    summary = subject_mean(table)
    assert summary["n_subjects"] == 2 and summary["n_trials"] == 3
    assert summary["rmse"] == pytest.approx((np.sqrt(0.5) + 1.0) / 2)  # mean of subjects, not pooled
    assert summary["r2_paper"] == pytest.approx((1 - 2 / 8.75 + 0.0) / 2)


def test_pearson_and_skill():
    truth = np.array([[[0.0], [1.0], [2.0]]])
    assert channel_pearson_r(truth, 2 * truth + 5) == pytest.approx([1.0])
    assert channel_pearson_r(truth, -truth) == pytest.approx([-1.0])
    assert skill(0.5, 2.0) == pytest.approx(0.75)
    assert np.isnan(skill(1.0, 0.0))


def test_constant_channel_has_no_r2():
    truth = np.ones((1, 5, 1))
    assert np.isnan(channel_r2(truth, truth)[0])
