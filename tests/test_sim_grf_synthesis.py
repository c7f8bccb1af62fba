"""GRF synthesis: wrench mapping, zero-moment point, foot split, files, and a real trial."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gait2hip.sim.grf_split import (
    GaitEvents,
    project_to_foot,
    split_between_feet,
    transition_decay,
    zero_moment_point,
)
from gait2hip.sim.grf_synthesis import pelvis_rotation_axes

requires_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def test_pelvis_axes_are_unit_and_follow_the_zxy_sequence():
    axes = pelvis_rotation_axes(np.array([0.0, 0.3]), np.array([0.0, -0.2]))
    np.testing.assert_allclose(np.linalg.norm(axes, axis=1), 1.0)
    np.testing.assert_allclose(axes[0], [[0, 1, 0], [0, 0, 1], [1, 0, 0]], atol=1e-12)
    # Tilt axis is ground z whatever the angles; the list axis turns with tilt.
    np.testing.assert_allclose(axes[1][:, 0], [0, 0, 1])
    np.testing.assert_allclose(axes[1][:, 1], [np.cos(0.3), np.sin(0.3), 0], atol=1e-12)


def test_zero_moment_point_recovers_the_point_of_application():
    rng = np.random.default_rng(0)
    n = 20
    point = np.column_stack([rng.uniform(-1, 1, n), np.zeros(n), rng.uniform(-0.2, 0.2, n)])
    force = np.column_stack([rng.normal(0, 100, n), rng.uniform(400, 900, n), rng.normal(0, 30, n)])
    free = rng.normal(0, 5, n)
    origin = np.column_stack([np.zeros(n), np.full(n, 0.95), np.zeros(n)])
    moment = np.cross(point - origin, force) + np.column_stack([np.zeros(n), free, np.zeros(n)])
    zmp, free_est = zero_moment_point(force, moment, origin, 0.0)
    np.testing.assert_allclose(zmp, point, atol=1e-9)
    np.testing.assert_allclose(free_est, free, atol=1e-9)


def test_transition_decay_is_smooth_from_one_to_zero():
    tau = np.linspace(0, 1, 101)
    decay = transition_decay(tau)
    assert decay[0] == pytest.approx(1.0) and decay[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(decay) < 0)


def test_project_to_foot_keeps_points_inside_and_leaves_inner_points():
    heel = np.array([[0.0, 0.0, 0.0]] * 2)
    toe = np.array([[0.18, 0.0, 0.0]] * 2)
    points = np.array([[0.1, 0.0, 0.01], [0.6, 0.0, 0.3]])
    out = project_to_foot(points, heel, toe)
    np.testing.assert_allclose(out[0], points[0])
    assert out[1, 0] == pytest.approx(0.18 + 0.06) and out[1, 2] == pytest.approx(0.045)


def test_split_conserves_the_total_force_and_respects_contact():
    time = np.linspace(0.0, 1.2, 241)
    events = GaitEvents(
        heel_strikes_r=np.array([0.0, 1.2]),
        toe_offs_r=np.array([0.72]),
        heel_strikes_l=np.array([0.6]),
        toe_offs_l=np.array([0.12]),
    )
    force = np.column_stack([20 * np.sin(6 * time), 700 + 100 * np.cos(10 * time), 5 * np.cos(3 * time)])
    origin = np.column_stack([1.2 * time, np.full_like(time, 0.95), 0.02 * np.sin(5 * time)])
    heel_r = np.column_stack([np.full_like(time, 0.1), np.zeros_like(time), np.full_like(time, 0.09)])
    heel_l = np.column_stack([np.full_like(time, 0.8), np.zeros_like(time), np.full_like(time, -0.09)])
    landmarks = {
        "calcn_r": heel_r,
        "toes_r": heel_r + np.array([0.18, 0, 0]),
        "calcn_l": heel_l,
        "toes_l": heel_l + np.array([0.18, 0, 0]),
    }
    # A moment putting the ZMP on whichever foot is loaded (mid-foot).
    target = np.where((time < 0.6)[:, None], heel_r + np.array([0.08, 0, 0]), heel_l + np.array([0.08, 0, 0]))
    moment = np.cross(target - origin, force)
    loads = split_between_feet(
        time=time, force=force, moment=moment, origin=origin, events=events, landmarks=landmarks, floor_y=0.0
    )
    np.testing.assert_allclose(loads.force["r"] + loads.force["l"], force, atol=1e-9)
    single_r = (time > 0.13) & (time < 0.59)
    assert np.all(loads.force["l"][single_r] == 0)
    np.testing.assert_allclose(loads.point["r"][single_r], target[single_r], atol=1e-9)
    frame = loads.frame()
    assert "ground_force_r_vy" in frame and "ground_torque_l_y" in frame
    # Double support after the left heel strike: the trailing right foot unloads smoothly.
    double = (time > 0.6) & (time < 0.72)
    assert np.all(np.diff(loads.force["r"][double, 1]) < 0)


@requires_opensim
def test_synthesised_grf_matches_the_measured_example_trial(examples, tmp_path):
    from gait2hip.data.cycles import contact_events
    from gait2hip.io.opensim import read_storage
    from gait2hip.sim.grf_synthesis import synthesize_grf, write_external_loads
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.opensim_env import coordinate_table, load_model

    folder = examples / "gait2392-subject01"
    model = folder / "subject01_simbody.osim"
    coords = coordinate_table(load_model(model, init=True), folder / "subject01_walk1_ik.mot")
    grf = read_storage(folder / "subject01_walk1_grf.mot").data
    t = grf.index.to_numpy()
    events = GaitEvents(
        *contact_events(t, grf["ground_force_vy"].to_numpy()),
        *contact_events(t, grf["1_ground_force_vy"].to_numpy()),
    )
    residuals = run_inverse_dynamics(model=model, coordinates=coords, time_range=(0.618, 1.853), lowpass_hz=6)
    loads = synthesize_grf(model=model, coordinates=coords, events=events, residuals=residuals)
    measured = grf.reindex(residuals.index, method="nearest")
    weight = 72.6 * 9.81
    for side, prefix in (("r", ""), ("l", "1_")):
        err = loads.force[side][:, 1] - measured[f"{prefix}ground_force_vy"].to_numpy()
        assert np.sqrt(np.mean(err**2)) / weight < 0.06  # measured: ≈ 3–4 % BW
    _, xml = write_external_loads(loads, grf_file=tmp_path / "grf.mot", xml_file=tmp_path / "loads.xml")
    moments = run_inverse_dynamics(
        model=model, coordinates=coords, external_loads=xml, time_range=(0.618, 1.853), lowpass_hz=6
    )
    residual = moments[["pelvis_tx_force", "pelvis_ty_force", "pelvis_tz_force"]].abs().to_numpy().max()
    assert residual < 1.0  # the synthesised loads carry the whole external force


@requires_opensim
def test_new_stance_foot_at_heel_strike_behaves_like_the_force_plates(examples, tmp_path):
    """At the two heel strikes of the Rajagopal/Moco walk (real kinematics, force plates), the new
    stance foot of the synthesised GRF: carries ≥ 0.15 BW within 50 ms (plates: 0.16–0.20 BW at
    40–45 ms), has its centre of pressure at the heel for the first 50 ms (within a third of the
    heel-to-metatarsal line of the calcaneus origin, as the plates'), and carries almost no
    fore-aft shear in the first 40 ms (plates: 0 to +0.03 BW, i.e. none of the ≈ 0.05 BW braking
    a leg-aligned force would have). The hip flexion moment from the synthesised GRF over the
    first 150 ms is within 0.25 N m/kg RMS of the plates' (measured 0.18 / 0.22; 1.x: 0.31 / 0.41)."""
    from gait2hip.data.cycles import contact_events
    from gait2hip.io.opensim import read_storage
    from gait2hip.sim.grf_synthesis import foot_landmarks, synthesize_grf, write_external_loads
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.opensim_env import coordinate_table, load_model, model_mass_kg

    folder = examples / "moco-3d-walking"
    model = folder / "subject_walk_scaled.osim"
    coords = coordinate_table(load_model(model, init=True), folder / "coordinates.sto")
    grf = read_storage(folder / "grf_walk.mot").data
    t = grf.index.to_numpy()
    events = GaitEvents(
        *contact_events(t, grf["ground_force_r_vy"].to_numpy()),
        *contact_events(t, grf["ground_force_l_vy"].to_numpy()),
    )
    window = (0.45, 1.594)
    residuals = run_inverse_dynamics(model=model, coordinates=coords, time_range=window)
    loads = synthesize_grf(model=model, coordinates=coords, events=events, residuals=residuals)
    time = loads.time
    weight = model_mass_kg(model) * 9.81
    heel = foot_landmarks(model, coords.reindex(time, method="nearest"))
    _, xml = write_external_loads(loads, grf_file=tmp_path / "grf.mot", xml_file=tmp_path / "loads.xml")
    synthesised = run_inverse_dynamics(model=model, coordinates=coords, external_loads=xml, time_range=window)
    measured = run_inverse_dynamics(
        model=model, coordinates=coords, external_loads=folder / "grf_walk.xml", time_range=window
    )
    strikes = [("l", events.heel_strikes_l[0]), ("r", events.heel_strikes_r[1])]
    for side, strike in strikes:
        assert window[0] < strike < window[1] - 0.1
        early = (time >= strike) & (time <= strike + 0.05)
        force = loads.force[side] / weight
        assert force[early, 1].max() >= 0.15
        plates = grf.reindex(time, method="nearest")
        plate_cop = plates[[f"ground_force_{side}_p{a}" for a in "xyz"]].to_numpy()
        loaded = early & (plates[f"ground_force_{side}_vy"].to_numpy() > 0.05 * weight)
        foot = (heel[f"toes_{side}"] - heel[f"calcn_{side}"])[:, [0, 2]]

        def along(point, foot=foot, side=side):  # fraction of the heel → metatarsal-heads line
            rel = (point - heel[f"calcn_{side}"])[:, [0, 2]]
            return np.sum(rel * foot, axis=1) / np.sum(foot**2, axis=1)

        assert np.all(along(plate_cop)[loaded] < 0.35)  # the plates: rear third of the foot
        assert np.all(np.abs(along(loads.point[side])[early]) < 0.35)
        first = (time >= strike) & (time <= strike + 0.04)
        assert np.abs(force[first, 0]).max() < 0.03
        span = (synthesised.index >= strike) & (synthesised.index <= strike + 0.15)
        column = f"hip_flexion_{side}_moment"
        error = (synthesised[column] - measured[column].reindex(synthesised.index, method="nearest"))[span]
        assert np.sqrt(np.mean(error**2)) / model_mass_kg(model) < 0.25
