"""OpenSim's static optimisation as gait2hip runs it (reserves, outputs, errors)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)

WINDOW = (0.70, 0.85)


@pytest.fixture(scope="module")
def trial(examples):
    folder = examples / "gait2392-subject01"
    return dict(
        model=folder / "subject01_simbody.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=folder / "subject01_walk1_grf.xml",
        lowpass_hz=6.0,
    )


@pytest.fixture(scope="module")
def opensim_result(trial, tmp_path_factory):
    from gait2hip.sim.static_optimization import run_static_optimization

    out = tmp_path_factory.mktemp("so")
    return run_static_optimization(solver="opensim", time_range=WINDOW, out_dir=out, **trial), out


def test_reserves_residuals_and_outputs(opensim_result):
    result, out = opensim_result
    assert result.solver == "opensim"
    pelvis = {f"residual_pelvis_{c}": f"pelvis_{c}" for c in ("tilt", "list", "rotation", "tx", "ty", "tz")}
    assert pelvis.items() <= result.reserves.items()
    for coordinate in (
        "hip_flexion_r",
        "hip_adduction_r",
        "hip_rotation_r",
        "knee_angle_l",
        "lumbar_extension",
    ):
        assert result.reserves[f"reserve_{coordinate}"] == coordinate
    assert len(result.muscles) == 92
    # 60 Hz frames from the sample at/before 0.70 s to the one at/before 0.85 s.
    assert len(result.forces) == 10
    activations = result.activations[list(result.muscles)].to_numpy()
    assert activations.min() >= 0.01 - 1e-6 and activations.max() <= 1.0 + 1e-6
    assert (result.muscle_forces.to_numpy() > 0).all()
    # Hip reserves stay small next to the hip moments (a healthy model needs little help).
    assert result.reserve_by_coordinate()["hip_flexion_r"].abs().max() < 1.0
    written = read_storage(out / "so_force.sto").data
    np.testing.assert_array_equal(written.to_numpy(), result.forces.to_numpy())
    assert (out / "so_activation.sto").is_file()


def test_pelvis_residuals_balance_the_inverse_dynamics(opensim_result, trial):
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics

    result, _ = opensim_result
    moments = run_inverse_dynamics(time_range=WINDOW, **trial)
    # No muscle crosses the ground–pelvis joint: residuals carry the ID pelvis loads (SO's
    # accelerations come from splines of the speeds, ID's from the position spline: ~N).
    residual = result.reserve_by_coordinate()["pelvis_ty"].to_numpy()
    np.testing.assert_allclose(residual, moments["pelvis_ty_force"].to_numpy(), atol=5.0)


def test_solver_name_and_reserve_settings_are_checked(trial):
    from gait2hip.sim.static_optimization import ReserveConfig, run_static_optimization

    with pytest.raises(Gait2HipInputError, match="unknown static-optimisation solver"):
        run_static_optimization(solver="ipopt", time_range=WINDOW, **trial)
    with pytest.raises(Gait2HipInputError, match="reserve_optimal_force"):
        ReserveConfig(reserve_optimal_force=0.0)
