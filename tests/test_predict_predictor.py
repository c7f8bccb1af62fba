"""Predictor: cycles, resampling, per-kg scaling, left-side mirroring, OOD flags, bad input, imports."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from gait2hip.data.angles import read_angles
from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.cycles import time_normalize
from gait2hip.errors import Gait2HipInputError
from gait2hip.models import build_model
from gait2hip.models.bundle import BundleSpec, load_bundle, save_bundle
from gait2hip.predict import Predictor, mirror_angles

torch.set_num_threads(1)
T = 101
GAIT2392_IK = "gait2392-subject01/subject01_walk1_ik.mot"
MOCO_COORDINATES = "moco-3d-walking/coordinates.sto"


def _walking_cycles(n: int, seed: int = 0) -> np.ndarray:
    """Plausible walking angle curves [n, T, 10] (deg): a common shape with subject variation."""
    rng = np.random.default_rng(seed)
    phase = np.linspace(0, 2 * np.pi, T)
    right = np.stack(
        [
            10 + 25 * np.cos(phase),  # hip flexion
            2 * np.sin(phase),  # adduction
            -3 + 4 * np.sin(phase + 1),  # rotation
            30 - 30 * np.cos(phase),  # knee flexion (positive)
            5 * np.sin(2 * phase),  # ankle
        ],
        axis=1,
    )
    left = np.roll(right, T // 2, axis=0)
    base = np.concatenate([right[:, :3], left[:, :3], right[:, 3:], left[:, 3:]], axis=1)
    gain = 1 + 0.1 * rng.standard_normal((n, 1, 10))
    shift = 3 * rng.standard_normal((n, 1, 10))
    return (base[None] * gain + shift).astype(np.float32)


def _bundle(folder, *, targets, units, d_out_seed=0, default_for=None):
    torch.manual_seed(d_out_seed)
    model = build_model("lstm", d_in=10, d_out=len(targets), seq_len=T, hidden_size=8, num_layers=1)
    X = _walking_cycles(80)
    return save_bundle(
        folder,
        BundleSpec(
            model=model,
            input_columns=INPUT_ANGLES,
            input_units=["deg"] * 10,
            target_columns=targets,
            target_units=units,
            input_mean=X.mean(axis=(0, 1)),
            input_std=X.std(axis=(0, 1)),
            train_inputs=X,
            train_targets=np.abs(np.random.default_rng(1).normal(1, 0.3, (80, T, len(targets)))),
            data_card={"simulated": True, "description": "unit-test cycles"},
            default_for=default_for,
        ),
    )


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundles")
    forces = _bundle(root / "lstm-forces", targets=MUSCLE_GROUPS_R, units=["N/kg"] * 14, default_for="forces")
    moments = _bundle(root / "lstm-moments", targets=MOMENTS_R, units=["Nm/kg"] * 3, default_for="moments")
    return forces, moments


@pytest.fixture(scope="module")
def predictor(bundles):
    return Predictor.from_bundle([str(b) for b in bundles])


def _trial(cycles: np.ndarray, *, dt: float = 0.01, stride: float = 1.1) -> pd.DataFrame:
    """Cycles [n, T, 10] laid end to end as a trial sampled every ``dt`` seconds."""
    flat = np.concatenate([c[:-1] for c in cycles] + [cycles[-1][-1:]], axis=0)
    t_src = np.linspace(0, stride * len(cycles), len(flat))
    time = np.arange(0, t_src[-1] + 1e-9, dt)
    values = np.stack([np.interp(time, t_src, flat[:, j]) for j in range(10)], axis=1)
    return pd.DataFrame(values, index=pd.Index(time, name="time"), columns=INPUT_ANGLES)


def test_user_window_equals_resample_then_bundle(predictor, bundles):
    trial = _trial(_walking_cycles(3, seed=5))
    prediction = predictor.predict_trial(trial, mass_kg=70.0, cycles=[(1.1, 2.2)])
    curves = prediction.cycle(1)
    x = time_normalize(trial.index.to_numpy(), trial.to_numpy(), 1.1, 2.2, T)
    forces = load_bundle(bundles[0]).predict_normalised(x[None])[0]
    np.testing.assert_allclose(curves[[f"{m}_per_kg" for m in MUSCLE_GROUPS_R]].to_numpy(), forces, atol=1e-5)
    # N = N/kg × mass; Nm = Nm/kg × mass
    np.testing.assert_allclose(curves["glmed_r"], 70.0 * curves["glmed_r_per_kg"], rtol=1e-6)
    np.testing.assert_allclose(
        curves["hip_flexion_r_moment"], 70.0 * curves["hip_flexion_r_moment_per_kg"], rtol=1e-6
    )
    np.testing.assert_allclose(curves["time"].iloc[[0, -1]], [1.1, 2.2])
    np.testing.assert_allclose(curves["percent"].to_numpy(), np.arange(101.0))
    units = prediction.curves.attrs["units"]
    assert units["glmed_r"] == "N" and units["glmed_r_per_kg"] == "N/kg"
    assert units["hip_flexion_r_moment"] == "Nm" and units["hip_flexion_r_moment_per_kg"] == "Nm/kg"
    assert prediction.simulated and prediction.curves.attrs["cycles"][0]["method"] == "user window"


def test_left_side_is_the_right_model_on_swapped_columns(predictor):
    trial = _trial(_walking_cycles(3, seed=6))
    left = predictor.predict(trial, mass_kg=60.0, side="left", cycles=[(0.5, 1.6)])
    swapped = trial.rename(columns=dict(zip(INPUT_ANGLES, mirror_angles(INPUT_ANGLES), strict=True)))
    right = predictor.predict(swapped, mass_kg=60.0, side="right", cycles=[(0.5, 1.6)])
    assert "glmed_l" in left and "glmed_r" not in left.dropna(axis=1, how="all")
    np.testing.assert_allclose(left["glmed_l"], right["glmed_r"], rtol=1e-6)
    np.testing.assert_allclose(left["hip_adduction_l_moment"], right["hip_adduction_r_moment"], rtol=1e-6)


def test_ood_flags_a_crouch_cycle_not_a_typical_one(predictor):
    typical = _walking_cycles(1, seed=11)
    crouch = typical.copy()
    crouch[..., [6, 8]] += 40.0  # both knees 40° more flexed throughout
    result = predictor.predict_trial(_trial(np.concatenate([typical, crouch])), mass_kg=70, cycles=[(0, 1.1)])
    assert not result.cycles["ood"].iloc[0]
    result = predictor.predict_trial(_trial(np.concatenate([crouch, typical])), mass_kg=70, cycles=[(0, 1.1)])
    row = result.cycles.iloc[0]
    assert (
        row["ood"] and row["ood_distance"] > row["ood_threshold"] and "99th percentile" in row["ood_reason"]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mass_kg": 0.0}, "body mass"),
        ({"mass_kg": 72.6, "side": "middle"}, "unknown side"),
        ({"mass_kg": 72.6, "cycles": [(2.0, 9.0)]}, "not inside the trial"),
    ],
)
def test_bad_arguments(predictor, kwargs, message):
    with pytest.raises(Gait2HipInputError, match=message):
        predictor.predict(_trial(_walking_cycles(2)), **kwargs)


def test_bad_angles(predictor):
    trial = _trial(_walking_cycles(2))
    with pytest.raises(Gait2HipInputError, match="knee_angle_r"):
        predictor.predict(trial.drop(columns="knee_angle_r"), mass_kg=70)
    broken = trial.copy()
    broken.iloc[5, 0] = np.nan
    with pytest.raises(Gait2HipInputError, match="NaN"):
        predictor.predict(broken, mass_kg=70)
    with pytest.raises(Gait2HipInputError, match="radians"):
        predictor.predict(np.radians(trial), mass_kg=70, in_degrees=True)


def test_gait2392_ik_cycles_are_found(predictor, examples):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gait2392 knee sign flip
        angles = read_angles(examples / GAIT2392_IK)
    result = predictor.predict_trial(angles, mass_kg=72.6, side="both")
    cycles = result.cycles
    assert set(cycles["side"]) == {"right", "left"}
    assert cycles["stride_s"].between(1.0, 1.4).all()  # the README's stride: 1.235 s
    assert (cycles["method"] == "heel strikes from kinematics").all()
    assert (
        len(result.curves) == T * len(cycles)
        and np.isfinite(
            result.cycle(1)["glmed_r_per_kg" if cycles.iloc[0]["side"] == "right" else "glmed_l_per_kg"]
        ).all()
    )


def test_moco_trial_without_a_full_cycle_needs_a_window(predictor, examples):
    with pytest.warns(UserWarning, match="nColumns=40"):  # the shipped file's header miscounts
        angles = read_angles(examples / MOCO_COORDINATES)  # radians, state-path names
    with pytest.raises(Gait2HipInputError, match="complete gait cycle"):
        predictor.predict(angles, mass_kg=85.27)
    curves = predictor.predict(angles, mass_kg=85.27, cycles=[(0.48, 1.624)])
    assert len(curves) == T and curves["time"].iloc[-1] == pytest.approx(1.624)


def test_importing_predict_loads_neither_opensim_nor_sim_nor_train():
    code = (
        "import sys, gait2hip.predict, gait2hip.predict.write, gait2hip.predict.export; "
        "import gait2hip.commands.predict; "
        "bad = [m for m in sys.modules "
        "if m == 'opensim' or m.startswith(('gait2hip.sim', 'gait2hip.train'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bundle_with_subject_inputs_gets_stride_mass_and_height(tmp_path):
    X = _walking_cycles(40)
    extra = np.broadcast_to(np.array([1.1, 70.0, 1.75], dtype=np.float32), (40, T, 3))
    X13 = np.concatenate([X, extra], axis=2)
    torch.manual_seed(0)
    path = save_bundle(
        tmp_path / "subject-inputs",
        BundleSpec(
            model=build_model("lstm", d_in=13, d_out=3, seq_len=T, hidden_size=4, num_layers=1),
            input_columns=(*INPUT_ANGLES, "stride_time_s", "mass_kg", "height_m"),
            input_units=["deg"] * 10 + ["s", "kg", "m"],
            target_columns=MOMENTS_R,
            target_units=["Nm/kg"] * 3,
            input_mean=X13.mean(axis=(0, 1)),
            input_std=X13.std(axis=(0, 1)) + 0.1,
            train_inputs=X13,
        ),
    )
    predictor = Predictor.from_bundle(path)
    trial = _trial(_walking_cycles(2, seed=3))
    with pytest.raises(Gait2HipInputError, match="height"):
        predictor.predict(trial, mass_kg=70, cycles=[(0.0, 1.1)])
    curves = predictor.predict(trial, mass_kg=70, height_m=1.75, cycles=[(0.0, 1.1)])
    x = time_normalize(trial.index.to_numpy(), trial.to_numpy(), 0.0, 1.1, T)
    x13 = np.concatenate([x, np.broadcast_to([1.1, 70.0, 1.75], (T, 3))], axis=1)
    expected = load_bundle(path).predict_normalised(x13[None])[0]
    np.testing.assert_allclose(curves[[f"{m}_per_kg" for m in MOMENTS_R]].to_numpy(), expected, atol=1e-5)


def test_shipped_default_bundles(examples):
    from gait2hip.models.discovery import INSTALLED_BUNDLES_DIR, default_bundle_names

    defaults = default_bundle_names()
    if set(defaults) != {"forces", "moments"}:
        pytest.skip(f"default bundles not installed in {INSTALLED_BUNDLES_DIR}")
    predictor = Predictor.from_bundle("default")
    for bundle in predictor.bundles:
        assert bundle.simulated and "SIMULATED" in bundle.manifest["description"]
        assert sum(p.stat().st_size for p in bundle.path.iterdir()) < 3e6
        assert np.isfinite(bundle.manifest["metrics"]["rmse"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        angles = read_angles(examples / GAIT2392_IK)
    curves = predictor.predict(angles, mass_kg=72.6, cycles=[(0.618, 1.853)])
    assert len(curves) == T and np.isfinite(curves["glmed_r"]).all()
    # a plausible walking pattern, not noise: peak hip flexion moment (late stance) ≈ 0.5–1.5 Nm/kg
    assert 0.3 < curves["hip_flexion_r_moment_per_kg"].max() < 2.0
    # muscle forces are physically possible: never below zero (softplus output in N/kg)
    forces = [c for c in MUSCLE_GROUPS_R if c in curves]
    assert forces and (curves[forces].to_numpy() >= -1e-4).all()


def test_ood_reasons_follow_the_detector_constants(predictor, monkeypatch):
    from gait2hip.models import ood

    typical = _walking_cycles(1, seed=11)
    crouch = typical.copy()
    crouch[..., [6, 8]] += 40.0
    trial = _trial(np.concatenate([crouch, typical]))
    monkeypatch.setattr(ood, "OOD_PERCENTILE", 95.0)
    monkeypatch.setattr(ood, "OOD_Z_LIMIT", 2.5)
    monkeypatch.setattr(ood, "OOD_OUTSIDE_FRACTION_LIMIT", 0.01)
    reason = predictor.predict_trial(trial, mass_kg=70, cycles=[(0, 1.1)]).cycles.iloc[0]["ood_reason"]
    assert "95th percentile" in reason and "99th" not in reason
    assert "beyond ±2.5 SD of the training mean" in reason and "±4 SD" not in reason


def _gait2392(examples) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_angles(examples / "gait2392-subject01/subject01_walk1_ik.mot")


def test_misleading_diagnoses_are_right(predictor, examples, tmp_path):
    angles = _gait2392(examples)
    short = angles[(angles.index >= 0.6) & (angles.index < 0.9)]
    with pytest.raises(Gait2HipInputError, match=r"lasts only 0.28 s; one gait cycle .* 0.6–2.5 s") as info:
        predictor.predict_trial(short, mass_kg=72.6)
    assert "knee" not in str(info.value)
    in_ms = angles.set_axis(angles.index * 1000)
    with pytest.raises(Gait2HipInputError, match="probably milliseconds"):
        predictor.predict_trial(in_ms, mass_kg=72.6)
    standing = angles.copy()
    standing[:] = angles.iloc[0].to_numpy() + np.random.default_rng(0).normal(0, 0.5, angles.shape)
    with pytest.raises(Gait2HipInputError, match="no walking in this trial"):
        predictor.predict_trial(standing, mass_kg=72.6)


def test_dataframe_straight_from_read_csv_uses_its_time_column(predictor, examples, tmp_path):
    angles = _gait2392(examples)
    angles.index.name = "time"
    path = tmp_path / "trial.csv"
    angles.to_csv(path)
    from_csv = pd.read_csv(path)  # RangeIndex + a 'time' column
    expected = predictor.predict_trial(angles, mass_kg=72.6).cycles
    got = predictor.predict_trial(from_csv, mass_kg=72.6).cycles
    np.testing.assert_allclose(got["start_s"], expected["start_s"])
    assert got["start_s"].iloc[0] == pytest.approx(0.605, abs=0.01)
    with pytest.raises(Gait2HipInputError, match="indexed by row number"):
        predictor.predict_trial(from_csv.drop(columns="time"), mass_kg=72.6)


def test_left_hip_contact_z_is_reported_in_opensims_sense(examples):
    """The right-hip model predicts z as lateral (+ right); the left hip's output is turned back to
    OpenSim's femur frame (+ right = medial), the sense of the left-hip labels (cohort 2.0: right z
    mean +352 N, left −329 N), with its band's ends swapped accordingly."""
    predictor = Predictor.from_bundle("default")
    if not any("hip_r_contact_z" in b.target_columns for b in predictor.bundles):
        pytest.skip("the installed default bundle predicts no contact force")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        angles = read_angles(examples / GAIT2392_IK)
    curves = predictor.predict(angles, mass_kg=72.6, side="both")
    right, left = curves[curves["side"] == "right"], curves[curves["side"] == "left"]
    assert right["hip_r_contact_z"].mean() > 0 > left["hip_l_contact_z"].mean()
    assert (left["hip_l_contact_z_lo"] <= left["hip_l_contact_z_hi"]).all()
    # the vertical component and the magnitude keep their sign on both sides
    assert right["hip_r_contact_y"].mean() < 0 and left["hip_l_contact_y"].mean() < 0
    assert (left["hip_l_contact_mag"] > 0).all()
