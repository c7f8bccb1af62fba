"""GRF synthesis: wrench mapping, files, and a real trial (the split between the feet: test_sim_grf_split)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gait2hip.sim.grf_split import GaitEvents
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
