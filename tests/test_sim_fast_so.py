"""gait2hip's fast SO solver: agreement with OpenSim's SO (the QP alone: test_sim_so_qp)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import GAIT2392_GROUPS_R, RAJAGOPAL_GROUPS_R, mirror_mapping

needs_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def _hip_muscles(mapping) -> list[str]:
    groups = list(mapping.values()) + list(mirror_mapping(mapping).values())
    return [muscle for group in groups for muscle in group]


# ------------------------------------------------------------------------ against OpenSim
def _relative_error(fast, reference, muscles):
    f = fast.forces[muscles].to_numpy()
    r = reference.forces[muscles].to_numpy()
    return pd.Series(np.abs(f - r).max(axis=0) / np.abs(r).max(axis=0), index=muscles)


@needs_opensim
def test_fast_equals_converged_opensim_on_a_gait2392_window(examples):
    from gait2hip.sim.static_optimization import run_static_optimization

    folder = examples / "gait2392-subject01"
    trial = dict(
        model=folder / "subject01_simbody.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=folder / "subject01_walk1_grf.xml",
        lowpass_hz=6.0,
        time_range=(0.90, 1.05),
    )
    fast = run_static_optimization(solver="fast", **trial)
    reference = run_static_optimization(
        solver="opensim", convergence_criterion=1e-8, max_iterations=2000, **trial
    )
    np.testing.assert_allclose(fast.forces.index, reference.forces.index, atol=1e-9)
    assert list(fast.forces.columns) == list(reference.forces[fast.forces.columns].columns)
    assert _relative_error(fast, reference, _hip_muscles(GAIT2392_GROUPS_R)).max() < 0.01
    assert fast.info["max_constraint_violation"] < 1e-6
    default = run_static_optimization(solver="default", **trial)
    np.testing.assert_array_equal(default.forces.to_numpy(), fast.forces.to_numpy())


@needs_opensim
@pytest.mark.slow
def test_fast_matches_opensim_within_1pct_on_every_hip_muscle_of_the_examples(examples):
    """The criterion for making the fast solver the default (issue B1).

    OpenSim runs with IPOPT converged (1e-8): at its default 1e-4 its own answer moves by
    up to 7.5 % of peak on gait2392 hip muscles (tfl_r), i.e. the default-tolerance run is
    not a reference to 1 %. rajagopal-walk is not compared: it ships no scaled model or
    IK, and scaling + IK from markers is a separate pipeline.
    """
    from gait2hip.sim.opensim_env import read_coordinates
    from gait2hip.sim.static_optimization import run_static_optimization

    gait2392 = examples / "gait2392-subject01"
    moco = examples / "moco-3d-walking"
    with pytest.warns(UserWarning, match="nColumns"):
        moco_coordinates, _, _ = read_coordinates(moco / "coordinates.sto")
    moco_coordinates = moco_coordinates.iloc[::10]  # 100 Hz keeps OpenSim's run under a minute
    moco_coordinates.attrs["inDegrees"] = False
    cases = [
        (
            dict(
                model=gait2392 / "subject01_simbody.osim",
                coordinates=gait2392 / "subject01_walk1_ik.mot",
                external_loads=gait2392 / "subject01_walk1_grf.xml",
                lowpass_hz=6.0,
                time_range=(0.618, 1.853),
            ),
            _hip_muscles(GAIT2392_GROUPS_R),
        ),
        (
            dict(
                model=moco / "subject_walk_scaled.osim",
                coordinates=moco_coordinates,
                external_loads=moco / "grf_walk.xml",
                lowpass_hz=6.0,
                time_range=(0.6, 1.0),
            ),
            _hip_muscles(RAJAGOPAL_GROUPS_R),
        ),
    ]
    for trial, muscles in cases:
        fast = run_static_optimization(solver="fast", **trial)
        reference = run_static_optimization(
            solver="opensim", convergence_criterion=1e-8, max_iterations=2000, **trial
        )
        muscles = [m for m in muscles if m in fast.forces]
        assert len(muscles) >= 25
        error = _relative_error(fast, reference, muscles)
        assert error.max() < 0.01, error.sort_values().tail()


@needs_opensim
def test_cached_model_notices_a_rewritten_grf_file(examples, tmp_path):
    import os
    import shutil

    from gait2hip.io.opensim import read_storage, write_storage
    from gait2hip.sim.static_optimization import run_static_optimization

    folder = examples / "gait2392-subject01"
    for name in ("subject01_walk1_grf.mot", "subject01_walk1_grf.xml"):
        shutil.copy(folder / name, tmp_path / name)
    trial = dict(
        model=folder / "subject01_simbody.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=tmp_path / "subject01_walk1_grf.xml",
        time_range=(0.9, 1.0),
    )
    before = run_static_optimization(solver="fast", **trial).reserve_by_coordinate()["pelvis_ty"]
    grf = read_storage(tmp_path / "subject01_walk1_grf.mot")
    grf.data[["ground_force_vy", "1_ground_force_vy"]] += 100.0  # 100 N more under each foot
    write_storage(tmp_path / "subject01_walk1_grf.mot", grf)
    stat = (tmp_path / "subject01_walk1_grf.mot").stat()
    os.utime(tmp_path / "subject01_walk1_grf.mot", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = run_static_optimization(solver="fast", **trial).reserve_by_coordinate()["pelvis_ty"]
    np.testing.assert_allclose(before.to_numpy() - after.to_numpy(), 200.0, atol=1e-6)


@needs_opensim
@pytest.mark.slow
def test_fast_is_the_optimum_of_opensims_problem_on_rajagopal_walk(shared, tmp_path):
    """rajagopal-walk ships no scaled model or IK: its own scale and IK setups run first
    (≈ 15 s). On frames where OpenSim's IPOPT reaches the optimum the solvers agree within
    1 % of peak on every hip muscle; where they differ more, OpenSim's Σ activation² is the
    higher one (both satisfy the dynamics), i.e. OpenSim stopped short (measured on the
    full left cycle at IPOPT 1e-8: 0.046 % of peak on the 113 optimal frames; 2 frames
    where OpenSim is short of the optimum, up to 2.1 % of peak on addmagMid_l)."""
    from gait2hip.bench.labelling import compare_solvers, prepare_rajagopal_walk

    trial = prepare_rajagopal_walk(shared=shared, folder=tmp_path)
    trial.update(lowpass_hz=6.0, time_range=(0.84, 1.20))  # 37 frames keep OpenSim under a minute
    figures = compare_solvers(trial, muscles=_hip_muscles(RAJAGOPAL_GROUPS_R))
    assert figures["max_error_optimal_frames"] < 0.01
    assert figures["max_objective_excess_fast"] < 1e-6
    assert figures["max_constraint_violation"] < 1e-6
    assert figures["frames"] - figures["frames_opensim_suboptimal"] >= 0.8 * figures["frames"]


@needs_opensim
def test_point_and_torque_actuators_are_solved_like_opensim(examples, tmp_path):
    """Models may carry other actuators (RRA/CMC-style residuals): their generalized forces
    are measured per frame and enter the same QP."""
    from gait2hip.sim.opensim_env import import_opensim
    from gait2hip.sim.static_optimization import run_static_optimization

    osim = import_opensim()
    folder = examples / "gait2392-subject01"
    model = osim.Model(str(folder / "subject01_simbody.osim"))
    torque = osim.TorqueActuator()
    torque.setName("pelvis_torque_z")
    torque.setBodyA(model.getGround())
    torque.setBodyB(model.getBodySet().get("pelvis"))
    torque.setAxis(osim.Vec3(0, 0, 1))
    torque.setTorqueIsGlobal(True)
    torque.setOptimalForce(1000.0)  # as strong as the residuals: they share
    model.addForce(torque)
    point = osim.PointActuator("pelvis")
    point.setName("pelvis_push_x")
    point.set_direction(osim.Vec3(1, 0, 0))
    point.set_force_is_global(True)
    point.setOptimalForce(1000.0)
    model.addForce(point)
    model.finalizeConnections()
    model.printToXML(str(tmp_path / "with_actuators.osim"))
    trial = dict(
        model=tmp_path / "with_actuators.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=folder / "subject01_walk1_grf.xml",
        lowpass_hz=6.0,
        time_range=(0.90, 1.00),
    )
    fast = run_static_optimization(solver="fast", **trial)
    reference = run_static_optimization(
        solver="opensim", convergence_criterion=1e-8, max_iterations=2000, **trial
    )
    for name in ("pelvis_torque_z", "pelvis_push_x", "residual_pelvis_tilt", "residual_pelvis_tx"):
        assert np.abs(fast.forces[name]).max() > 1.0  # the new actuators do share the load
        np.testing.assert_allclose(fast.forces[name], reference.forces[name], rtol=1e-3, atol=1e-3)
    assert _relative_error(fast, reference, _hip_muscles(GAIT2392_GROUPS_R)).max() < 0.01
