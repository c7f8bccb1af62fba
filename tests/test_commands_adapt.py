"""The command line of fine-tuning and bands: finetune → predict with the band, refusals, the
learning curve's resume."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gait2hip.cli import app


def test_finetune_on_fukuchi_then_predict_writes_the_band(tmp_path, examples):
    runner = CliRunner()
    out = tmp_path / "adapted"
    result = runner.invoke(app, ["finetune", "--data", "fukuchi2018", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "transformer-joint-default" in result.output and "out-of-fold RMSE" in result.output
    ik = examples / "gait2392-subject01" / "subject01_walk1_ik.mot"
    predicted = tmp_path / "predicted"
    result = runner.invoke(
        app, ["predict", str(ik), "--out", str(predicted), "--mass", "72.6", "--model", str(out)]
    )
    assert result.exit_code == 0, result.output
    csv = sorted((predicted / "subject01_walk1_ik").glob("*_*ms.csv"))[0]
    table = pd.read_csv(csv)
    value, lo, hi = (table[f"hip_flexion_r_moment{s} [Nm]"] for s in ("", "_lo", "_hi"))
    assert (lo <= value).all() and (value <= hi).all() and (hi - lo).min() > 0
    assert csv.with_suffix(".png").is_file()
    sto = csv.with_suffix(".sto").read_text()
    assert "hip_flexion_r_moment_per_kg_hi" in sto and "90 % prediction interval" in sto


def test_finetune_refuses_one_subject_in_one_line(tmp_path):
    from gait2hip.data import load_dataset

    one = load_dataset("fukuchi2018").select(subjects=["WBDS01"])
    one.save(tmp_path / "one.npz")
    result = CliRunner().invoke(
        app, ["finetune", "--data", str(tmp_path / "one.npz"), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2
    assert "1 subject(s)" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(importlib.util.find_spec("opensim") is None, reason="opensim is not installed")
def test_a_lab_folder_made_by_label_is_read_and_one_subject_refused(tmp_path, examples):
    """`gait2hip label` on the gait2392 example gives a lab folder of ONE subject: both its
    cycles are read (left mirrored into the right-leg frame), and fine-tuning refuses it."""
    from gait2hip.train.labdata import load_lab_data

    folder = examples / "gait2392-subject01"
    lab = tmp_path / "lab"
    arguments = [
        "label",
        "--out",
        str(lab),
        "--keep-flagged",
        "--model",
        str(folder / "subject01_simbody.osim"),
    ]
    for key, name in (("ik", "ik.mot"), ("grf", "grf.mot"), ("loads", "grf.xml")):
        arguments += [f"--{key}", str(folder / f"subject01_walk1_{name}")]
    assert CliRunner().invoke(app, arguments).exit_code == 0
    data = load_lab_data(lab)
    assert len(data) == 2 and list(data.meta["side"]) == ["right", "left"]
    assert "hip_flexion_r_moment" in data.target_columns and "glmed_r" in data.target_columns
    # the mirrored left cycle's contact z in the right hip's lateral sense, as the right cycle's
    z = data.target_columns.index("hip_r_contact_z")
    assert (np.nanmean(data.Y[:, :, z], axis=1) > 0).all()
    result = CliRunner().invoke(app, ["finetune", "--data", str(lab), "--out", str(tmp_path / "x"),
                                      "--target", "moments"])  # fmt: skip
    assert result.exit_code == 2 and "1 subject(s)" in result.output
    assert "--one-person" in result.output
    # knowingly: one person gives a fixed refit, written without a band or a held-out score
    out = tmp_path / "one-person"
    result = CliRunner().invoke(app, ["finetune", "--data", str(lab), "--out", str(out),
                                      "--target", "moments", "--one-person"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "NO prediction band" in result.output
    _check_one_person_bundle(out, data)


def _check_one_person_bundle(out, data) -> None:
    """The adapted bundle records the fixed refit, carries no band, and moves towards the lab."""
    import json

    from gait2hip.models.bundle import load_bundle
    from gait2hip.train.labdata import lab_arrays

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["protocol"].startswith("none")
    assert manifest["extra"]["finetune"]["fixed"] == ["zero", 1000.0]
    adapted = load_bundle(out)
    assert not adapted.has_band
    parent = load_bundle(manifest["parent"]["name"])
    X, Y, _ = lab_arrays(adapted, data)
    columns = [adapted.target_columns.index(c) for c in ("hip_flexion_r_moment",)]
    before = np.nanmean((parent.predict_members(X).mean(axis=0)[..., columns] - Y[..., columns]) ** 2)
    after = np.nanmean((adapted.predict_members(X).mean(axis=0)[..., columns] - Y[..., columns]) ** 2)
    assert after < before  # fitted to that person's cycles (in-sample: nothing held out)


def test_finetune_on_one_fukuchi_subject_with_one_person(tmp_path):
    from gait2hip.data import load_dataset

    one = load_dataset("fukuchi2018").select(subjects=["WBDS01"])
    one.save(tmp_path / "one.npz")
    out = tmp_path / "x"
    result = CliRunner().invoke(
        app, ["finetune", "--data", str(tmp_path / "one.npz"), "--out", str(out), "--one-person"]
    )
    assert result.exit_code == 0, result.output
    _check_one_person_bundle(out, one)


def test_learning_curve_resumes_without_recomputing(tmp_path):
    from gait2hip.bench.learning_curve import LearningCurveSettings, run_learning_curve, summarise
    from gait2hip.data import load_dataset
    from gait2hip.models.bundle import load_bundle

    bundle = load_bundle("transformer-joint-default")
    held_out = bundle.manifest["metrics"]["real_test_subjects"]  # people the default never saw
    data = load_dataset("fukuchi2018").select(subjects=held_out)
    settings = LearningCurveSettings(ks=(2,), draws=2, methods=("zero-shot", "fine-tuned", "lab mean"))
    first = run_learning_curve(bundle, data, out=tmp_path, settings=settings)
    assert len(first) == 6 and set(first["test_subjects"]) == {4}
    events = []
    again = run_learning_curve(bundle, data, out=tmp_path, settings=settings, on_event=events.append)
    assert events == [] and np.allclose(again["rmse"], first["rmse"])
    summary = summarise(again, loo_rmse=0.1)
    assert set(summary.columns) >= {"zero-shot", "fine-tuned", "lab mean"} and len(summary) == 1
    with pytest.raises(ValueError, match="other settings"):
        run_learning_curve(bundle, data, out=tmp_path, settings=LearningCurveSettings(ks=(2,), draws=3))
