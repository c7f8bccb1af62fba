"""Smooth centre of mass: generated walks keep their joint angles and get a physiological fore-aft force."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

requires_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def _sign_changes(x: np.ndarray) -> int:
    return int(np.sum(np.diff(np.sign(x)) != 0))


@requires_opensim
def test_smoothed_walk_brakes_and_propels_once_per_step(shared):
    """Measured fore-aft ground reactions change sign twice per step (braking after heel strike,
    propulsion before toe-off: the summed plates of both OpenSim example walks change sign 4
    times per stride). The group-mean curves alone give the model's centre of mass extra wobbles; after
    smoothing, its fore-aft acceleration changes sign at most 4 times per stride, the pelvis
    moves by less than 1 cm and no joint angle changes."""
    from gait2hip.sim.kinematics import SubjectStyle, generate_walk, load_vanderzee, normative_at_speed
    from gait2hip.sim.mass_centre import mass_centre_offset, smooth_mass_centre
    from gait2hip.sim.opensim_env import coordinate_table, load_model

    model_path = shared / "models" / "Rajagopal2016.osim"
    table = load_vanderzee(str(shared / "reference" / "vanderzee2022"))
    walk = generate_walk(
        normative=normative_at_speed(1.43, table),
        cadence_spm=115,
        height_m=1.70,
        style=SubjectStyle.draw(np.random.default_rng(0)),
        rng=np.random.default_rng(0),
        n_strides=4,
        pelvis_height_m=0.93,
    )
    coords = coordinate_table(load_model(model_path, init=True), walk.coordinates_frame(), in_degrees=True)
    smooth = smooth_mass_centre(model_path, coords)
    pelvis = ["pelvis_tx", "pelvis_ty", "pelvis_tz"]
    joints = [c for c in coords.columns if c not in pelvis]
    np.testing.assert_array_equal(smooth[joints].to_numpy(), coords[joints].to_numpy())
    assert np.abs(smooth[pelvis].to_numpy() - coords[pelvis].to_numpy()).max() < 0.01
    time = coords.index.to_numpy()
    inner = (time >= walk.heel_strikes_r[1]) & (time < walk.heel_strikes_r[2])
    changes = {}
    for label, table_ in (("group means", coords), ("smoothed", smooth)):
        com_x = table_["pelvis_tx"].to_numpy() + mass_centre_offset(model_path, table_)[:, 0]
        accel = np.gradient(np.gradient(com_x, time), time)
        changes[label] = _sign_changes(accel[inner])
    assert changes["smoothed"] <= 4 < changes["group means"]
