"""Paired Wilcoxon comparisons with Holm correction, and seed summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gait2hip.evaluate.stats import format_mean_sd, holm, paired_wilcoxon


def test_holm_by_hand():
    # sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1 = 0.04)
    np.testing.assert_allclose(holm(np.array([0.04, 0.01, 0.02])), [0.04, 0.03, 0.04])
    assert holm(np.array([0.9, 0.8]))[0] == 1.0
    assert np.isnan(holm(np.array([np.nan, 0.01]))[0])


def test_paired_wilcoxon_matches_scipy_and_counts_wins():
    subjects = [f"S{i}" for i in range(12)]
    rng = np.random.default_rng(1)
    a = pd.Series(rng.uniform(1, 2, 12), index=subjects)
    b = a + 0.1 + rng.uniform(0, 0.05, 12)  # b worse on every subject
    table = paired_wilcoxon({"A": a, "B": b})
    row = table.iloc[0]
    assert row["a_better"] == 12 and row["n_subjects"] == 12
    assert row["p"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert row["p"] < 0.001 and row["median_diff"] < 0


def test_paired_wilcoxon_uses_shared_subjects_only():
    a = pd.Series([1.0, 2.0, 3.0], index=["x", "y", "z"])
    b = pd.Series([1.5, 2.5], index=["y", "z"])
    row = paired_wilcoxon({"A": a, "B": b}).iloc[0]
    assert row["n_subjects"] == 2 and row["a_better"] == 0  # A = 2, 3 vs B = 1.5, 2.5 on y, z


def test_format_mean_sd():
    assert format_mean_sd(pd.Series([1.0, 2.0, 3.0])) == "2.000 ± 1.000"
    assert format_mean_sd(pd.Series([0.5])) == "0.500"
    assert format_mean_sd(pd.Series([], dtype=float)) == "–"
