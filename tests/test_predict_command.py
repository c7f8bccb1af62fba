"""`gait2hip predict`, `gait2hip export` and `gait2hip models list` from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

import gait2hip
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
REAL_CYCLES = Path(gait2hip.__file__).parent / "resources" / "real" / "fukuchi2018.npz"


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
    assert any(line.startswith("ood_level=") for line in storage.header.extra_lines)
    assert any("INTERNAL joint moments, OpenSim" in line for line in storage.header.extra_lines)
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
    assert result.exit_code == 1, result.output  # one input skipped
    assert "skipped" in result.output and "broken.csv" in result.output
    summary = pd.read_csv(out / "summary.csv")
    skipped = summary[summary["status"] == "skipped"]
    assert skipped["file"].str.endswith("broken.csv").all() and len(skipped) == 1
    assert "knee" in skipped["reason"].iloc[0] or "column" in skipped["reason"].iloc[0]
    assert (out / "walk" / "walk_right_618ms.png").is_file()
    data = read_storage(out / "walk" / "walk_right_618ms.sto").data
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
    X = np.load(REAL_CYCLES)["X"][:2]  # real walking: synthetic cosines fail the convention checks
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


def _manipulated(examples, tmp_path, how: str) -> Path:
    """The gait2392 example with a convention error a user might make, as a CSV."""
    import warnings

    from gait2hip.data.angles import read_angles

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        angles = read_angles(examples / GAIT2392_IK)
    bad = angles.copy()
    if how == "negated hip flexion":
        bad[["hip_flexion_r", "hip_flexion_l"]] *= -1
    elif how == "swapped hips":  # hip columns of one leg under the other leg's names
        for name in ("hip_flexion", "hip_adduction", "hip_rotation"):
            bad[name + "_r"], bad[name + "_l"] = angles[name + "_l"], angles[name + "_r"]
    bad.index.name = "time"
    path = tmp_path / f"{how.replace(' ', '_')}.csv"
    bad.to_csv(path)
    return path


@pytest.mark.parametrize(
    ("how", "cause"),
    [("negated hip flexion", "hip flexion sign looks inverted"), ("swapped hips", "OTHER leg's knee")],
)
def test_convention_error_is_unreliable_named_and_withheld_unless_forced(
    installed, examples, tmp_path, how, cause
):
    trial = _manipulated(examples, tmp_path, how)
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["predict", str(trial), "--mass", "72.6", "--out", str(out)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1, result.output  # cycles withheld
    assert "UNRELIABLE" in result.output and cause in result.output and "NOT written" in result.output
    folder = out / trial.stem
    assert not list(folder.glob("*.sto")) and not list(folder.glob("*.png"))
    cycles = pd.read_csv(folder / "cycles.csv")
    assert (cycles["ood_level"] == "unreliable").all() and not cycles["curves_written"].any()
    assert cycles["convention"].str.contains(cause, regex=False).all()
    forced = CliRunner().invoke(
        app, ["predict", str(trial), "--mass", "72.6", "--out", str(out), "--overwrite", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    sto = read_storage(next(folder.glob("*.sto")))
    assert any(line.startswith("ood_level=unreliable") for line in sto.header.extra_lines)
    assert any(cause in line for line in sto.header.extra_lines)


def test_real_trial_is_not_called_a_convention_error(examples):
    """gait2392's own example, read as it is, passes every convention check (both legs)."""
    import warnings

    from gait2hip.data.angles import read_angles
    from gait2hip.data.checks import convention_problems
    from gait2hip.data.cycles import time_normalize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        angles = read_angles(examples / GAIT2392_IK)
    for start, end in ((0.605, 1.831), (1.219, 2.439)):
        cycle = time_normalize(angles.index.to_numpy(), angles.to_numpy(), start, end, 101)
        assert convention_problems(dict(zip(angles.columns, cycle.T, strict=True))) == []


def test_outputs_are_named_by_side_and_start_and_reruns_refused(installed, examples, tmp_path):
    out = tmp_path / "o"
    args = ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--out", str(out), "--force"]
    assert CliRunner().invoke(app, [*args, "--side", "right"]).exit_code == 0
    right_only = sorted(p.name for p in (out / "subject01_walk1_ik").glob("*.sto"))
    again = CliRunner().invoke(app, [*args, "--side", "both"], env={"COLUMNS": "300"})
    assert again.exit_code == 2 and "not empty" in again.output and "--overwrite" in again.output
    (out / "subject01_walk1_ik" / "subject01_walk1_ik_right_9999ms.sto").write_text("stale")
    assert CliRunner().invoke(app, [*args, "--side", "both", "--overwrite"]).exit_code == 0
    both = sorted(p.name for p in (out / "subject01_walk1_ik").glob("*.sto"))
    assert set(right_only) < set(both) and "subject01_walk1_ik_right_9999ms.sto" not in both
    assert right_only == ["subject01_walk1_ik_right_1831ms.sto", "subject01_walk1_ik_right_605ms.sto"]


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_output_path_that_cannot_be_written(installed, examples, tmp_path, kind):
    out = tmp_path / "o"
    if kind == "file":
        out.write_text("not a folder")
    else:
        out.mkdir()
        out.chmod(0o500)
    import os

    if kind == "read-only" and os.access(out, os.W_OK):  # root ignores permissions
        out.chmod(0o700)
        out = out / "sub"
        out.parent.joinpath("sub").write_text("a file in the way")
    result = CliRunner().invoke(
        app,
        ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--out", str(out)],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert str(out) in result.output and "Fix:" in result.output


def test_moment_convention_and_units_stated_and_applied(installed, examples, tmp_path):
    import json

    base = ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--force", "--cycle", "0.618", "1.853"]
    internal = tmp_path / "i"
    assert CliRunner().invoke(app, [*base, "--out", str(internal)]).exit_code == 0
    external = tmp_path / "e"
    result = CliRunner().invoke(
        app,
        [*base, "--out", str(external), "--moment-convention", "external", "--moment-units", "%BWh",
         "--height", "1.80"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    name = "subject01_walk1_ik/subject01_walk1_ik_right_618ms"
    a, b = read_storage(internal / f"{name}.sto"), read_storage(external / f"{name}.sto")
    m = "hip_flexion_r_moment"
    np.testing.assert_allclose(b.data[m], -a.data[m], atol=2e-6)
    # forces keep their sign (a bundle with non-negative force outputs stays non-negative)
    np.testing.assert_array_equal(b.data["glmed_r"], a.data["glmed_r"])
    # 1 Nm/kg for a 1.80 m subject is 100 / (9.81 · 1.80) = 5.663 %BW·h
    np.testing.assert_allclose(b.data[m + "_pct_bwh"], -a.data[m + "_per_kg"] * 5.6631, rtol=1e-3, atol=1e-5)
    assert any("EXTERNAL joint moments" in line for line in b.header.extra_lines)
    meta = json.loads((external / f"{name}.json").read_text())
    assert meta["moment_convention"] == "external" and meta["units"][m + "_pct_bwh"] == "%BWh"
    csv = pd.read_csv(external / f"{name}.csv")
    assert f"{m}_pct_bwh [%BWh]" in csv.columns
    no_height = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "x"), "--moment-units", "%BWh"])
    assert no_height.exit_code == 2 and "--height" in no_height.output


def test_per_file_mass_table(installed, examples, tmp_path):
    batch = tmp_path / "trials"
    batch.mkdir()
    for name in ("a.mot", "b.mot"):
        shutil.copy(examples / GAIT2392_IK, batch / name)
    table = tmp_path / "masses.csv"
    table.write_text("file,mass_kg\na.mot,60\nb,90\n")
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app,
        [
            "predict",
            str(batch),
            "--masses",
            str(table),
            "--out",
            str(out),
            "--force",
            "--cycle",
            "0.618",
            "1.853",
        ],
    )
    assert result.exit_code == 0, result.output
    a = read_storage(out / "a" / "a_right_618ms.sto").data
    b = read_storage(out / "b" / "b_right_618ms.sto").data
    np.testing.assert_allclose(a["glmed_r"] / 60, b["glmed_r"] / 90, atol=1e-5)
    table.write_text("file,mass_kg\na.mot,60\n")
    result = CliRunner().invoke(
        app,
        ["predict", str(batch), "--masses", str(table), "--out", str(out), "--overwrite"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 1 and "no body mass for b.mot" in result.output


def test_truncated_npz_input_and_unwritable_export(installed, tmp_path):
    path = tmp_path / "cycles.npz"
    np.savez(path, X=np.load(REAL_CYCLES)["X"][:2], in_cols=np.array(INPUT_ANGLES))
    path.write_bytes(path.read_bytes()[:3000])
    result = CliRunner().invoke(
        app, ["predict", str(path), "--mass", "60", "--out", str(tmp_path / "o")], env={"COLUMNS": "300"}
    )
    assert (
        result.exit_code == 2 and "damaged or truncated" in result.output and "Traceback" not in result.output
    )
    blocker = tmp_path / "afile"
    blocker.write_text("")
    result = CliRunner().invoke(
        app, ["export", "lstm-forces-test", "--out", str(blocker / "x.onnx")], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2 and "is a file" in result.output and "Traceback" not in result.output


PIG_C3D = Path(__file__).parent / "data" / "pig_walk.c3d"


def test_predict_plugin_gait_c3d_uses_its_foot_strike_events(installed, tmp_path):
    pytest.importorskip("ezc3d", reason="ezc3d is not installed (pip install 'gait2hip[c3d]')")
    from gait2hip.io.c3d import c3d_heel_strikes

    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["predict", str(PIG_C3D), "--mass", "70", "--out", str(out), "--side", "both", "--force"]
    )
    assert result.exit_code == 0, result.output
    cycles = pd.read_csv(out / "pig_walk" / "cycles.csv")
    assert (cycles["method"] == "heel strikes from lab events").all() and len(cycles) >= 2
    strikes = c3d_heel_strikes(PIG_C3D)
    for side in ("right", "left"):
        starts = cycles.loc[cycles["side"] == side, "start_s"].to_numpy()
        assert len(starts) and all(np.min(np.abs(strikes[side] - s)) < 1e-6 for s in starts)


def test_events_csv_defines_cycles_and_swapped_sides_are_named(installed, examples, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("side,time_s\nright,0.62\nright,1.84\nleft,1.22\nleft,2.44\n")
    out = tmp_path / "o"
    args = ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--side", "both", "--force"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--events", str(events)])
    assert result.exit_code == 0, result.output
    cycles = pd.read_csv(out / "subject01_walk1_ik" / "cycles.csv")
    assert cycles[["side", "start_s", "end_s"]].values.tolist() == [
        ["right", 0.62, 1.84],
        ["left", 1.22, 2.44],
    ]
    events.write_text("side,time_s\nleft,0.62\nleft,1.84\nright,1.22\nright,2.44\n")  # sides swapped
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "s"), "--events", str(events)],
                                env={"COLUMNS": "300"})  # fmt: skip
    assert result.exit_code == 2 and "left and right are swapped" in result.output


def test_predict_imports_no_serve():
    import subprocess
    import sys

    code = "import sys, gait2hip.commands.predict, gait2hip.predict.write, gait2hip.data.plugin_gait; " \
        "print(any(m.startswith('gait2hip.serve') for m in sys.modules))"  # fmt: skip
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_summary_long_mean_sd_and_symmetry(installed, examples, tmp_path):
    out = tmp_path / "o"
    args = [
        "predict",
        str(examples / GAIT2392_IK),
        "--mass",
        "72.6",
        "--side",
        "both",
        "--force",
        "--out",
        str(out),
    ]
    assert CliRunner().invoke(app, args).exit_code == 0
    long = pd.read_csv(out / "summary_long.csv")
    assert set(long.columns) == {"file", "variable", "unit", "side", "measure", "statistic", "value", "label"}
    assert set(long.loc[long["variable"] == "glmed", "label"]) == {"Gluteus medius"}
    peaks = {}
    for side, code in (("right", "r"), ("left", "l")):
        stos = sorted((out / "subject01_walk1_ik").glob(f"*_{side}_*.sto"))
        values = [read_storage(p).data[f"glmed_{code}_per_kg"].max() for p in stos]
        peaks[side] = np.mean(values)
        row = long.query("variable == 'glmed' and side == @side and measure == 'peak_max'").set_index(
            "statistic"
        )
        assert row.loc["mean", "value"] == pytest.approx(peaks[side], abs=1e-5)
        assert row.loc["sd", "value"] == pytest.approx(np.std(values, ddof=1), abs=1e-5)
        assert row.loc["n_cycles", "value"] == len(stos) == 2
    si = long.query("variable == 'glmed' and measure == 'peak_max' and statistic == 'symmetry_index_pct'")
    expected = 100 * (peaks["right"] - peaks["left"]) / (0.5 * (abs(peaks["right"]) + abs(peaks["left"])))
    assert si["value"].iloc[0] == pytest.approx(expected, abs=1e-3)
    assert set(long.loc[long["variable"] == "hip_flexion_moment", "unit"]) == {"Nm/kg"}


def test_lowpass_option_filters_and_is_recorded(installed, examples, tmp_path):
    base = ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--force", "--cycle", "0.618", "1.853"]
    assert CliRunner().invoke(app, [*base, "--out", str(tmp_path / "raw")]).exit_code == 0
    assert CliRunner().invoke(app, [*base, "--out", str(tmp_path / "lp"), "--lowpass", "3"]).exit_code == 0
    name = "subject01_walk1_ik/subject01_walk1_ik_right_618ms.sto"
    raw, lp = read_storage(tmp_path / "raw" / name), read_storage(tmp_path / "lp" / name)
    assert (
        "angles_lowpass_hz=3.0" in lp.header.extra_lines
        and "angles_lowpass_hz=none" in raw.header.extra_lines
    )
    assert not np.allclose(raw.data["glmed_r"], lp.data["glmed_r"])
    bad = CliRunner().invoke(
        app, [*base, "--out", str(tmp_path / "x"), "--lowpass", "500"], env={"COLUMNS": "300"}
    )
    assert bad.exit_code == 2 and "below half the sampling rate" in bad.output


def test_short_raw_gait2392_trial_is_called_short_not_a_knee_convention(installed, examples, tmp_path):
    """0.3 s of OpenSim's own IK: one knee in swing (clearly negative), the other in stance."""
    storage = read_storage(examples / GAIT2392_IK)
    from gait2hip.io.opensim import write_storage

    data = storage.data
    short = write_storage(
        tmp_path / "short.mot", data[(data.index >= 0.6) & (data.index < 0.9)], in_degrees=True
    )
    result = CliRunner().invoke(
        app, ["predict", str(short), "--mass", "72.6", "--out", str(tmp_path / "o")], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2 and "lasts only 0.28 s" in result.output
    assert "knee" not in result.output.split("error:")[1] and "knee_flexion_sign" not in result.output


def test_predict_writes_the_contact_force_in_percent_body_weight(examples, tmp_path):
    """The shipped joint default predicts the hip contact force: N, N/kg and %BW in every output."""
    out = tmp_path / "o"
    args = ["predict", str(examples / GAIT2392_IK), "--mass", "72.6", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    if "hip contact force |F|" not in result.output:
        pytest.skip("the installed default bundle predicts no contact force")
    assert "Bergmann et al. 2016" in result.output and "1st peak" in result.output
    folder = out / "subject01_walk1_ik"
    csv_path = sorted(folder.glob("*_right_*.csv"))[0]
    csv = pd.read_csv(csv_path)
    for column in ("hip_r_contact_mag [N]", "hip_r_contact_mag_per_kg [N/kg]", "glmed_r [N]"):
        assert column in csv  # the outputs that were there before stay
    weight_n = 72.6 * 9.81
    np.testing.assert_allclose(
        csv["hip_r_contact_mag_pct_bw [%BW]"], 100 * csv["hip_r_contact_mag [N]"] / weight_n, rtol=1e-4
    )
    assert "hip_r_contact_pelvis_y_pct_bw_lo [%BW]" in csv
    units = json.loads(csv_path.with_suffix(".json").read_text())["units"]
    assert units["hip_r_contact_pelvis_z_pct_bw"] == "%BW" and units["hip_r_contact_mag"] == "N"
    storage = read_storage(csv_path.with_suffix(".sto"))
    assert "hip_r_contact_mag_pct_bw" in storage.data
    # what the joint default learned from: simulated forces, real moments too
    assert any(
        "SIMULATED data (+ REAL fukuchi2018 hip moments)" in line for line in storage.header.extra_lines
    )
    assert any(
        "contact_*_pct_bw (hip contact force) in % body weight" in line for line in storage.header.extra_lines
    )
    long = pd.read_csv(out / "summary_long.csv")
    peaks = long.query("variable == 'hip_contact_mag' and statistic == 'mean'").set_index("measure")["value"]
    first, second = peaks["peak1_at"], peaks["peak2_at"]
    assert 0 < first < second < 65  # both load peaks in stance
    top = csv["hip_r_contact_mag_pct_bw [%BW]"].max()
    assert peaks["peak_max"] >= peaks["peak2"] - 1e-6 and top <= peaks["peak_max"] * 1.2
