"""Real OpenSim example trials as one-cycle datasets (IK in, reference moments / CMC forces out)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gait2hip.bench.realtrials import gait2392_trial, load_real_trials, moco_trial
from gait2hip.data.columns import CONTACT_R, MOMENTS_R, MUSCLE_GROUPS_R

requires_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def test_moco_trial_is_one_right_cycle(examples):
    trial = moco_trial(examples / "moco-3d-walking")
    data = trial.dataset
    assert data.X.shape == (1, 101, 10) and trial.available[:3] == MOMENTS_R
    has_opensim = importlib.util.find_spec("opensim") is not None
    assert trial.available[3:] == (CONTACT_R if has_opensim else ())
    assert abs(data.meta["stride_time_s"][0] - 1.144) < 0.01
    hip = data.X[0, :, 0]
    assert hip[0] > 15 and hip.min() < -5  # flexed at heel strike, extended in late stance
    assert np.all(np.isnan(data.select_targets(MUSCLE_GROUPS_R).Y))
    moments = data.select_targets(MOMENTS_R).Y[0]
    assert np.all(np.abs(moments) < 2.5)  # Nm/kg, not Nm


@requires_opensim
def test_gait2392_trial_has_forces_and_recomputed_moments(examples):
    trial = gait2392_trial(examples / "gait2392-subject01")
    data = trial.dataset
    assert data.meta["mass_kg"][0] == 72.6 or abs(data.meta["mass_kg"][0] - 72.6) < 0.01
    assert abs(data.meta["stride_time_s"][0] - 1.235) < 0.01
    assert set(trial.available) == set(MUSCLE_GROUPS_R + MOMENTS_R + CONTACT_R)
    forces = data.select_targets(MUSCLE_GROUPS_R).Y[0]
    assert np.all(forces >= 0) and forces.max() < 30  # N/kg
    assert data.X[0, :, 6].max() > 50  # knee flexion positive after the gait2392 sign flip


@requires_opensim
def test_example_contact_force_is_labelled_per_kg_with_its_walking_peaks(examples):
    """The right hip's contact force by our pipeline: the peak the README's realism table reports
    for these examples (gait2392 347 %BW, Moco walk 442 %BW, `python -m gait2hip.sim.contact_realism
    --realism`, over slightly different windows), late in stance."""
    for trial, peak in (
        (gait2392_trial(examples / "gait2392-subject01"), 347.0),
        (moco_trial(examples / "moco-3d-walking"), 442.0),
    ):
        contact = trial.dataset.select_targets(CONTACT_R)
        assert set(contact.target_units) == {"N/kg"}
        magnitude = contact.contact_in_percent_bw().Y[0, :, 0]
        assert np.all(magnitude > 0)
        assert abs(magnitude.max() - peak) < 0.02 * peak, trial.name
        assert 35 <= int(np.argmax(magnitude)) <= 60  # the second (late-stance) peak
        components = contact.Y[0, :, 1:4]  # femur frame: |F| is their norm (up to the resampling)
        np.testing.assert_allclose(np.linalg.norm(components, axis=1), contact.Y[0, :, 0], atol=0.1)


def test_without_shared_folder_nothing_is_built():
    trials, problems = load_real_trials(None)
    assert trials == [] and "shared" in problems[0]
