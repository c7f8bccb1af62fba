"""Virtual cohort: release schema and resume after a kill (tiny cohort); the plan: test_sim_cohort_plan."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gait2hip.data.columns import (
    CONTACT_L,
    CONTACT_R,
    INPUT_ANGLES,
    MOMENTS_L,
    MOMENTS_R,
    MUSCLE_GROUPS_L,
    MUSCLE_GROUPS_R,
)
from gait2hip.data.dataset import GaitDataset
from gait2hip.sim.cohort import simulate_cohort

requires_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def _arrays(path):
    data = GaitDataset.load(path)
    return data, data.meta[["subject_id", "trial_id", "cadence_label"]].to_numpy()


@requires_opensim
@pytest.mark.slow
def test_killed_run_resumes_to_the_same_dataset(tmp_path, shared):
    args = dict(n_subjects=1, n_patients=1, n_trials=1, seed=11, jobs=1)
    reference = simulate_cohort(out=tmp_path / "a.npz", **args)
    assert reference.attrs["simulated"] is True
    assert reference.input_columns == INPUT_ANGLES and set(reference.input_units) == {"deg"}
    assert reference.target_columns == (
        MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L + CONTACT_R + CONTACT_L
    )
    # The hip contact force is labelled: compressive (femur-frame y < 0) at its peak, ≥ 1 BW.
    percent = reference.contact_in_percent_bw()
    peak = percent.Y[:, :, percent.target_columns.index("hip_r_contact_mag")].max(axis=1)
    assert (peak > 100).all()
    assert (percent.Y[:, :, percent.target_columns.index("hip_r_contact_y")].min(axis=1) < -100).all()
    assert reference.X.shape[1] == 101 and reference.X.dtype == np.float32
    assert set(reference.meta["cohort"]) <= {"healthy", "patient"}
    # Hip flexion in degrees and a right-hip extensor moment in early stance (N m, not N m/kg).
    flexion = reference.X[:, :, INPUT_ANGLES.index("hip_flexion_r")]
    assert 10 < flexion.max() < 60
    assert np.abs(reference.Y[:, :, reference.target_columns.index("hip_flexion_r_moment")]).max() > 20

    out = tmp_path / "b.npz"
    command = [
        sys.executable,
        "-m",
        "gait2hip.cli",
        "simulate",
        "cohort",
        "--subjects",
        "1",
        "--patients",
        "1",
        "--trials",
        "1",
        "--seed",
        "11",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    env = dict(os.environ, GAIT2HIP_SHARED=str(shared))
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    first = tmp_path / "b.work" / "subjects" / "H01.npz"
    deadline = time.time() + 240
    while not first.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert first.exists() and not out.exists(), "the run should have been killed between subjects"
    resumed = simulate_cohort(out=out, **args)
    np.testing.assert_array_equal(resumed.X, reference.X)
    np.testing.assert_array_equal(resumed.Y, reference.Y)
    assert (_arrays(out)[1] == _arrays(tmp_path / "a.npz")[1]).all()


def test_resuming_with_other_settings_is_refused(tmp_path):
    from gait2hip.errors import Gait2HipInputError
    from gait2hip.sim.cohort import _check_plan

    _check_plan(tmp_path, {"seed": 1})
    _check_plan(tmp_path, {"seed": 1})
    with pytest.raises(Gait2HipInputError, match="different settings"):
        _check_plan(tmp_path, {"seed": 2})
