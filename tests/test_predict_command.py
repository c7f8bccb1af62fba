"""`gait2hip predict`, `gait2hip export` and `gait2hip models list` from the command line."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gait2hip.cli import app
from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.io.opensim import read_storage
from gait2hip.models import build_model
from gait2hip.models import discovery as bundle_module
from gait2hip.models.bundle import BundleSpec, save_bundle
from gait2hip.models.onnx import onnx_metadata

torch.set_num_threads(1)
T = 101
GAIT2392_IK = "gait2392-subject01/subject01_walk1_ik.mot"


def _cycles(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    phase = np.linspace(0, 2 * np.pi, T)[None, :, None]
    amplitude = np.array([25, 5, 5, 25, 5, 5, 30, 10, 30, 10])
    return (amplitude * np.cos(phase + rng.uniform(0, 6, (n, 1, 10))) + rng.normal(0, 3, (n, 1, 10))).astype(
        np.float32
    )


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("installed")
    X = _cycles(60)
    for name, targets, unit, kind in (
        ("lstm-forces-test", MUSCLE_GROUPS_R, "N/kg", "forces"),
        ("lstm-moments-test", MOMENTS_R, "Nm/kg", "moments"),
    ):
        torch.manual_seed(0)
        save_bundle(
            root / name,
            BundleSpec(
                model=build_model(
                    "lstm", d_in=10, d_out=len(targets), seq_len=T, hidden_size=8, num_layers=1
                ),
                input_columns=INPUT_ANGLES,
                input_units=["deg"] * 10,
                target_columns=targets,
                target_units=[unit] * len(targets),
                input_mean=X.mean(axis=(0, 1)),
                input_std=X.std(axis=(0, 1)),
                train_inputs=X,
                train_targets=np.ones((60, T, len(targets))),
                data_card={"simulated": True, "name": "unit-test cohort"},
                metrics={"rmse": 0.5, "r2": 0.9, "units": unit},
                default_for=kind,
                description=f"test {kind}",
            ),
        )
    return root


@pytest.fixture
def installed(bundle_dir, monkeypatch):
    monkeypatch.setenv("GAIT2HIP_BUNDLE_PATH", str(bundle_dir))
    monkeypatch.setattr(bundle_module, "INSTALLED_BUNDLES_DIR", bundle_dir / "nothing-shipped")
    return bundle_dir


def test_models_list(installed):
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "lstm-forces-test" in result.output and "lstm-moments-test" in result.output
    assert "SIMULATED" in result.output


def test_predict_gait2392_ik_as_a_user_would(installed, examples, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--out", str(out), "--side", "both"]
    )
    assert result.exit_code == 0, result.output
    assert "SIMULATED" in result.output and "knee flexion is negative" in result.output
    folder = out / "subject01_walk1_ik"
    stos = sorted(folder.glob("*.sto"))
    assert stos and len(stos) == len(list(folder.glob("*.csv"))) - 1 == len(list(folder.glob("*.png")))
    storage = read_storage(stos[0])
    side = "r" if "_right_" in stos[0].name else "l"
    data = storage.data
    assert len(data) == T and data.index[0] > 1.0  # trial time in s, not % of cycle
    np.testing.assert_allclose(data[f"glmed_{side}"], 72.6 * data[f"glmed_{side}_per_kg"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(
        data[f"hip_flexion_{side}_moment"],
        72.6 * data[f"hip_flexion_{side}_moment_per_kg"],
        rtol=0,
        atol=1e-4,
    )
    assert any("ood=" in line for line in storage.header.extra_lines)
    csv = (folder / "cycles.csv").read_text()
    assert "ood_distance" in csv and "heel strikes from kinematics" in csv


def test_predict_window_and_batch_folder(installed, examples, tmp_path):
    batch = tmp_path / "trials"
    batch.mkdir()
    shutil.copy(examples / GAIT2392_IK, batch / "walk.mot")
    (batch / "broken.csv").write_text("time,hip_flexion_r\n0,1\n0.1,2\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["predict", str(batch), "--mass", "72.6", "--out", str(out), "--cycle", "0.618", "1.853"]
    )
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "broken.csv" in result.output
    assert (out / "summary.csv").is_file() and (out / "walk" / "walk_right_cycle1.png").is_file()
    data = read_storage(out / "walk" / "walk_right_cycle1.sto").data
    assert data.index[0] == pytest.approx(0.618) and data.index[-1] == pytest.approx(1.853)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--side", "middle"], "'middle' is not one of 'right', 'left', 'both'"),
        (["--mass", "0"], "body mass"),
        (["--model", "no-such-bundle"], "not found"),
    ],
)
def test_predict_bad_options_give_one_clear_line(installed, examples, tmp_path, args, message):
    base = ["predict", str(examples / GAIT2392_IK), "--out", str(tmp_path)]
    if "--mass" not in args:
        base += ["--mass", "70"]
    result = CliRunner().invoke(app, base + args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_predict_radians_declared_as_degrees(installed, examples, tmp_path):
    text = (examples / "moco-3d-walking/coordinates.sto").read_text().replace("inDegrees=no", "inDegrees=yes")
    bad = tmp_path / "coordinates.sto"
    bad.write_text(text)
    result = CliRunner().invoke(app, ["predict", str(bad), "--mass", "85.27", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "look like radians" in result.output


def test_export_onnx(installed, tmp_path):
    out = tmp_path / "forces.onnx"
    result = CliRunner().invoke(app, ["export", "lstm-forces-test", "--format", "onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ONNX Runtime vs PyTorch" in result.output
    assert onnx_metadata(out)["target_units"].split(",") == ["N/kg"] * 14
    result = CliRunner().invoke(
        app, ["export", "lstm-forces-test", "--format", "tflite", "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2 and "'tflite' is not one of 'onnx', 'zip'" in result.output


def test_predict_npz_of_cut_cycles(installed, tmp_path):
    X = _cycles(2)
    path = tmp_path / "cycles.npz"
    np.savez(path, X=X, in_cols=np.array(INPUT_ANGLES), x_units=np.array(["deg"] * 10))
    result = CliRunner().invoke(app, ["predict", str(path), "--mass", "60", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    storage = read_storage(tmp_path / "o" / "cycles" / "cycles_right_cycle2.sto")
    assert storage.data.index[-1] == pytest.approx(1.0) and len(storage.data) == T
    assert any("pre-cut" in line for line in storage.header.extra_lines)


def test_export_zip_and_predict_with_it(installed, examples, tmp_path):
    archive = tmp_path / "forces.zip"
    result = CliRunner().invoke(app, ["export", "lstm-forces-test", "--format", "zip", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app,
        [
            "predict",
            str(examples / GAIT2392_IK),
            "--mass",
            "72.6",
            "--out",
            str(out),
            "--model",
            str(archive),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Model: forces (lstm, forces)" in result.output
    assert list((out / "subject01_walk1_ik").glob("*.sto"))
