"""gait2hip.data.synthetic: release-schema files that tests (and models) can learn from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_L, MOMENTS_R, MUSCLE_GROUPS_L, MUSCLE_GROUPS_R
from gait2hip.data.synthetic import synthetic_dataset, synthetic_trials, write_synthetic_release


def test_release_schema(tmp_path: Path) -> None:
    mf, jm = write_synthetic_release(tmp_path, n_subjects=3, trials_per_cadence=2, n_timepoints=180, seed=1)
    assert (mf.name, jm.name) == ("Gait2Hip_MF60.npz", "Gait2Hip_JM60.npz")
    with np.load(mf) as a, np.load(jm) as b:
        keys = {"X", "Y", "subject_id", "height_m", "weight_kg", "speed_label", "in_cols", "out_cols"}
        assert set(a.files) == keys and set(b.files) == keys
        assert (
            a["X"].shape == (18, 180, 10) and a["Y"].shape == (18, 180, 14) and b["Y"].shape == (18, 180, 3)
        )
        assert tuple(a["in_cols"]) == INPUT_ANGLES
        assert tuple(a["out_cols"]) == MUSCLE_GROUPS_R and tuple(b["out_cols"]) == MOMENTS_R
        assert sorted(set(a["subject_id"])) == ["H01", "H02", "H03"]
        assert set(a["speed_label"]) == {"slow", "med", "fast"}
        np.testing.assert_array_equal(a["X"], b["X"])
        assert (a["Y"] >= 0).all()  # muscle forces
        assert 30 < a["X"][..., INPUT_ANGLES.index("knee_angle_r")].max() < 90  # degrees


def test_object_strings_need_pickle(tmp_path: Path) -> None:
    mf, _ = write_synthetic_release(tmp_path, n_subjects=1, trials_per_cadence=1, object_strings=True)
    with np.load(mf, allow_pickle=False) as npz, pytest.raises(ValueError):
        _ = npz["subject_id"]
    with np.load(mf, allow_pickle=True) as npz:
        assert npz["subject_id"].dtype == object


def test_deterministic_and_learnable() -> None:
    a = synthetic_trials(n_subjects=4, seed=3)
    b = synthetic_trials(n_subjects=4, seed=3)
    np.testing.assert_array_equal(a.forces, b.forces)
    assert not np.allclose(a.X, synthetic_trials(n_subjects=4, seed=4).X)
    # per-kg targets are a smooth function of the angle sequence: a linear fit on angles
    # and their rates already explains most of the variance
    X = a.X.astype(float)
    rate = np.gradient(X, axis=1)
    features = np.concatenate([X, rate, np.ones((*X.shape[:2], 1))], axis=-1).reshape(-1, 21)
    for Y in (a.forces, a.moments):
        y = (Y / a.weight_kg[:, None, None]).reshape(len(features), -1)
        fit = features @ np.linalg.lstsq(features, y, rcond=None)[0]
        r2 = 1 - ((fit - y) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
        assert r2.min() > 0.85


def test_synthetic_dataset() -> None:
    ds = synthetic_dataset(n_subjects=2, trials_per_cadence=1, n_timepoints=101)
    assert len(ds) == 6 and ds.n_timepoints == 101
    assert ds.target_units == ("N",) * 14 + ("Nm",) * 3
    assert ds.attrs["simulated"] is True
    assert ds.normalized_by_mass().mass_normalized


def test_both_hips_left_is_the_mirrored_function() -> None:
    both = synthetic_dataset(n_subjects=2, trials_per_cadence=1, n_timepoints=101, hips="both")
    assert both.target_columns[17:] == MUSCLE_GROUPS_L + MOMENTS_L and len(both.target_columns) == 34
    # a trial whose left and right angles are swapped has its hips' targets swapped too
    trials = synthetic_trials(n_subjects=1, trials_per_cadence=1, n_timepoints=101)
    assert not np.allclose(trials.forces, trials.forces_left)
    swap = [INPUT_ANGLES.index(c[:-2] + ("_l" if c.endswith("_r") else "_r")) for c in INPUT_ANGLES]
    from gait2hip.data.synthetic import _features, _mapping

    k = _mapping(21)
    mass = trials.weight_kg[:, None, None]
    f = _features(trials.X[:, :, swap].astype(float))
    np.testing.assert_allclose(
        trials.forces_left, mass * k["s"] * np.logaddexp(0, f @ k["w"] + k["b"]), rtol=1e-5
    )
