"""The labelling benchmark's building blocks (the timings themselves are printed, not tested)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gait2hip.data.columns import MUSCLE_GROUPS_R

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def test_so_versus_reference_cmc_figures(shared):
    from gait2hip.bench.labelling import compare_with_cmc

    figures = compare_with_cmc(shared=shared)
    assert list(figures.index) == list(MUSCLE_GROUPS_R)
    assert np.isfinite(figures["rmse_N"]).all() and (figures["rmse_N"] > 0).all()
    # Same subject, same muscles, different method: the big hip muscles follow the same pattern.
    for group in ("glmax_r", "glmed_r", "iliopsoas_r"):
        assert figures.loc[group, "pearson_r"] > 0.8


def test_timing_worker_counts_cycles(shared):
    from gait2hip.bench.labelling import _time_method

    cycles, seconds, cpu = _time_method("id", str(shared), 1)
    assert cycles == 1 and seconds > 0 and cpu > 0
