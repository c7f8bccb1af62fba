"""gait2hip.data.inspect and `gait2hip data inspect` on a release pair, a gait2hip NPZ and a lab folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gait2hip.cli import app
from gait2hip.data import default_dataset_path
from gait2hip.data.inspect import inspect_dataset, summarize
from gait2hip.data.release import load_release
from gait2hip.data.synthetic import synthetic_dataset, write_synthetic_release
from gait2hip.io.npz import PickleRiskWarning

runner = CliRunner()


class _Payload:
    """An object that calls ``call(*args)`` when unpickled (pickling it runs nothing)."""

    def __init__(self, call, *args) -> None:
        self.call, self.args = call, args

    def __reduce__(self):
        return (self.call, self.args)


def _plant(marker: str, value: str) -> str:
    """A harmless payload: leaves a marker file, then returns the string it stands for."""
    Path(marker).write_text("unpickled")
    return value


def _with_payload(mf: Path, payload: _Payload) -> None:
    """Replace ``mf``'s out_cols by an object array whose first name is ``payload``."""
    with np.load(mf, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["out_cols"] = arrays["out_cols"].astype(object)
    arrays["out_cols"][0] = payload
    np.savez(mf, **arrays)


def test_cli_refuses_pickled_release(tmp_path: Path) -> None:
    mf, _ = write_synthetic_release(tmp_path, n_subjects=3, trials_per_cadence=1)
    marker = tmp_path / "pwned"
    _with_payload(mf, _Payload(os.system, f"touch '{marker}'"))
    for args in (
        ["data", "inspect", str(mf)],
        ["benchmark", "--data", str(mf), "--out", str(tmp_path / "b")],
    ):
        result = runner.invoke(app, args, env={"COLUMNS": "400"})
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and result.output.count("error:") == 1
        assert str(mf) in result.output and "--trust-pickle" in result.output
        assert "out_cols" in result.output and "pickled" in result.output
    assert not marker.exists()


def test_cli_trust_pickle(tmp_path: Path) -> None:
    mf, _ = write_synthetic_release(tmp_path, n_subjects=3, trials_per_cadence=1)
    marker = tmp_path / "unpickled"
    _with_payload(mf, _Payload(_plant, str(marker), "addbrev_r"))
    with pytest.warns(PickleRiskWarning, match="out_cols"):
        result = runner.invoke(app, ["data", "inspect", str(mf), "--trust-pickle"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert marker.exists() and "addbrev_r" in result.output and "9 × 180 time points" in result.output


def test_cli_on_release_pair(tmp_path: Path) -> None:
    mf, _ = write_synthetic_release(tmp_path, n_subjects=3, trials_per_cadence=2)
    result = runner.invoke(app, ["data", "inspect", str(mf)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Gait2Hip-60 release NPZ" in out and "18 × 180 time points" in out
    assert "3: H01, H02, H03" in out and "fast: 6, med: 6, slow: 6" in out
    assert "hip_flexion_r_moment" in out and "glmax_r" in out and "Nm" in out
    assert "merged Gait2Hip_MF60.npz + Gait2Hip_JM60.npz" in out
    assert "no warnings" in out


def test_cli_on_lab_folder(examples: Path, tmp_path: Path) -> None:
    src = examples / "gait2392-subject01"
    names = {}
    for key, rel in dict(
        ik="subject01_walk1_ik.mot",
        forces="OutputReference/ResultsCMC/subject01_walk1_Actuation_force.sto",
        grf="subject01_walk1_grf.mot",
        loads="subject01_walk1_grf.xml",
    ).items():
        os.symlink(src / rel, tmp_path / Path(rel).name)
        names[key] = Path(rel).name
    pd.DataFrame(
        [dict(subject="subject01", mass_kg=72.6, height_m=1.8034, cohort="healthy", **names)]
    ).to_csv(tmp_path / "manifest.csv", index=False)
    result = runner.invoke(app, ["data", "inspect", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "lab folder" in out and "1 × 101 time points" in out and "1: subject01" in out
    assert "right: 1" in out and "healthy: 1" in out and "72.6–72.6 kg" in out
    assert "gait2392 convention" in out  # the knee flip is reported
    assert "1 subject(s) with a single trial: subject01" in out
    result = runner.invoke(app, ["data", "inspect", str(tmp_path), "--hips", "both"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "glmax_l" in result.output and "glmax_r" in result.output
    result = runner.invoke(
        app, ["data", "inspect", str(tmp_path), "--side", "middle"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2 and "'middle' is not one of 'right', 'left'" in result.output


def test_cli_bad_input_is_one_red_line(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("subject,mass_kg,ik,id\ns1,0,a.mot,b.sto\n")
    result = runner.invoke(app, ["data", "inspect", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    if not default_dataset_path(required=False).exists():
        result = runner.invoke(app, ["data", "inspect", "default"])
        assert result.exit_code == 2 and "not been generated" in result.output


def test_warnings(tmp_path: Path) -> None:
    ds = synthetic_dataset(n_subjects=3, trials_per_cadence=1)
    meta = ds.meta.copy()
    meta.loc[meta["subject_id"] == "H02", "mass_kg"] = 250.0
    meta.loc[meta["subject_id"] == "H03", "height_m"] = 172.0
    X = ds.X.copy()
    X[0, 3, 0] = np.nan
    odd = ds._replace(X=np.radians(X), meta=meta)
    odd.take([0, 3, 6]).save(tmp_path / "odd.npz")
    ins = inspect_dataset(tmp_path / "odd.npz")
    text = "\n".join(ins.warnings)
    assert "labelled 'deg' but their values look like radians" in text
    assert "hip_flexion_r: 1 NaN/inf" in text
    assert "body mass outside 30–200 kg for subject(s) H02" in text
    assert "height outside 1.2–2.2 m for subject(s) H03" in text
    assert "3 subject(s) with a single trial" in text
    assert "SYNTHETIC" in text
    assert ins.kind == "gait2hip NPZ" and ins.n_samples == 3


def test_summary_counts(tmp_path: Path) -> None:
    mf, jm = write_synthetic_release(tmp_path, n_subjects=2, trials_per_cadence=2)
    ins = summarize(load_release(mf_path=mf, jm_path=jm))
    assert ins.trials_per_subject == {"H01": 6, "H02": 6} and ins.n_trials == 12
    assert [c.name for c in ins.targets][-3:] == [
        "hip_flexion_r_moment",
        "hip_adduction_r_moment",
        "hip_rotation_r_moment",
    ]
    assert not ins.simulated and not ins.mass_normalized


def test_truncated_npz_is_one_red_line(tmp_path: Path) -> None:
    data = default_dataset_path().read_bytes()
    truncated = tmp_path / "half.npz"
    truncated.write_bytes(data[: len(data) // 2])  # an interrupted copy
    result = CliRunner().invoke(app, ["data", "inspect", str(truncated)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "damaged, truncated" in result.output and "half.npz" in result.output


def test_cli_on_labelled_folder_respects_qa_csv(examples: Path, tmp_path: Path) -> None:
    """A folder `gait2hip label` wrote: cycles its qa.csv flags are left out, and the count is said."""
    src = examples / "gait2392-subject01"
    for name in ("subject01_walk1_ik.mot", "subject01_walk1_grf.mot", "subject01_walk1_grf.xml"):
        os.symlink(src / name, tmp_path / name)
    os.symlink(src / "OutputReference/ResultsCMC/subject01_walk1_Actuation_force.sto", tmp_path / "so.sto")
    pd.DataFrame(
        [dict(subject="s01", mass_kg=72.6, height_m=1.80, trial="subject01_walk1",
              ik="subject01_walk1_ik.mot", forces="so.sto", grf="subject01_walk1_grf.mot",
              loads="subject01_walk1_grf.xml")]
    ).to_csv(tmp_path / "manifest.csv", index=False)  # fmt: skip
    qa = dict(subject_id="s01", side="right", start_s=0.618, end_s=1.852, reasons="")
    pd.DataFrame([dict(trial_id="subject01_walk1_R1", flagged=False, **qa)]).to_csv(tmp_path / "qa.csv")
    result = runner.invoke(app, ["data", "inspect", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "1 × 101 time points" in result.output
    assert "flagged in qa.csv" not in result.output
    pd.DataFrame([dict(trial_id="subject01_walk1_R1", flagged=True, **qa)]).to_csv(tmp_path / "qa.csv")
    result = runner.invoke(app, ["data", "inspect", str(tmp_path)], env={"COLUMNS": "300"})
    assert (
        result.exit_code == 2
        and "failed the labelling's quality checks (1 flagged in qa.csv)" in result.output
    )
    from gait2hip.data.lab import load_lab_folder

    assert len(load_lab_folder(tmp_path, respect_qa=False)) == 1
    two = pd.read_csv(tmp_path / "manifest.csv")
    two = pd.concat([two.assign(trial="a"), two.assign(trial="b")])
    two.to_csv(tmp_path / "manifest.csv", index=False)
    pd.DataFrame(
        [dict(trial_id="a_R1", flagged=True, **qa), dict(trial_id="b_R1", flagged=False, **qa)]
    ).to_csv(tmp_path / "qa.csv")
    result = runner.invoke(app, ["data", "inspect", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "1 × 101 time points" in result.output
    assert "1 cycle(s) left out: flagged in qa.csv" in result.output
