"""Mixing datasets with different targets: NaN for absent labels, never zero."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.data.columns import MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.mixing import check_target_coverage, concat_with_missing, target_coverage
from gait2hip.data.synthetic import synthetic_dataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.train.normalize import Standardizer


@pytest.fixture(scope="module")
def two():
    sim = synthetic_dataset(n_subjects=3, trials_per_cadence=1, n_timepoints=21, seed=0)
    sim = sim.normalized_by_mass()
    real = synthetic_dataset(n_subjects=2, trials_per_cadence=1, n_timepoints=21, seed=5).normalized_by_mass()
    return sim, real.select_targets(MOMENTS_R)


def test_absent_targets_are_nan_and_present_ones_unchanged(two):
    sim, real = two
    mixed = concat_with_missing([sim, real], names=["simulated", "real"])
    assert mixed.target_columns == sim.target_columns
    n = len(sim)
    forces = [mixed.target_columns.index(c) for c in MUSCLE_GROUPS_R]
    moments = [mixed.target_columns.index(c) for c in MOMENTS_R]
    assert np.isnan(mixed.Y[n:][:, :, forces]).all()
    np.testing.assert_array_equal(mixed.Y[n:][:, :, moments], real.Y)
    np.testing.assert_array_equal(mixed.Y[:n], sim.Y)
    assert list(mixed.meta["domain"].unique()) == ["simulated", "real"]
    assert mixed.attrs["missing_targets"] == {"real": list(MUSCLE_GROUPS_R)}
    coverage = target_coverage(mixed.Y)
    assert coverage[forces] == pytest.approx([n / len(mixed)] * len(forces))
    assert coverage[moments] == pytest.approx([1.0] * 3)


def test_units_must_agree_and_an_all_nan_column_is_an_error(two):
    sim, real = two
    raw = synthetic_dataset(n_subjects=2, trials_per_cadence=1, n_timepoints=21, seed=2)  # N, N m
    with pytest.raises(Gait2HipInputError, match="per kg"):
        concat_with_missing([sim, raw])
    mixed = concat_with_missing([sim, real])
    with pytest.raises(Gait2HipInputError, match="no value"):
        check_target_coverage(mixed.Y[len(sim) :], mixed.target_columns)


def test_target_statistics_come_from_labelled_entries_only(two):
    sim, real = two
    mixed = concat_with_missing([sim, real])
    j = mixed.target_columns.index(MUSCLE_GROUPS_R[0])
    fitted = Standardizer.fit(mixed.Y, allow_missing=True)
    column = sim.Y[:, :, sim.target_columns.index(MUSCLE_GROUPS_R[0])].astype(np.float64)
    assert fitted.mean[j] == pytest.approx(column.mean()) and fitted.std[j] == pytest.approx(column.std())
    with pytest.raises(ValueError):
        Standardizer.fit(mixed.Y)  # without allow_missing, NaN is refused
    with pytest.raises(ValueError):
        Standardizer.fit(mixed.Y[len(sim) :], allow_missing=True)
    assert np.isnan(fitted.transform(mixed.Y)[len(sim) :, :, j]).all()
