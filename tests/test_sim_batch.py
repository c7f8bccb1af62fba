"""Batch labelling: manifest validation, resume after an interruption, identical output."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


@pytest.fixture
def manifest(examples, tmp_path):
    """Two 'trials' of the gait2392 example: its right cycle and its left cycle (paths relative)."""
    folder = examples / "gait2392-subject01"
    table = pd.DataFrame(
        {
            "model": [str(folder / "subject01_simbody.osim")] * 2,
            "ik": [str(folder / "subject01_walk1_ik.mot")] * 2,
            "grf": [str(folder / "subject01_walk1_grf.mot")] * 2,
            "loads": [str(folder / "subject01_walk1_grf.xml")] * 2,
            "subject": ["s01", "s01"],
            "mass_kg": [72.6, 72.6],
            "height_m": [1.80, 1.80],
            "trial": ["walk_right", "walk_left"],
            "cadence": ["", "med"],
            "start": [0.5, 1.2],
            "end": [1.9, 2.5],
        }
    )
    path = tmp_path / "trials.csv"
    table.to_csv(path, index=False)
    return path


def _config():
    from gait2hip.sim.label import LabelConfig

    return LabelConfig(exclude_flagged=False)  # the raw example fails the residual-moment limit


def test_interrupted_run_resumes_to_the_same_output(manifest, tmp_path, monkeypatch):
    import gait2hip.sim.batch as batch

    reference_dataset = batch.label_manifest(
        manifest=manifest, out=tmp_path / "uninterrupted", config=_config()
    ).dataset
    assert len(reference_dataset) == 2 and list(reference_dataset.meta["trial_id"]) == [
        "walk_right_R1", "walk_left_L1",
    ]  # fmt: skip
    assert list(reference_dataset.meta["cadence_label"]) == ["", "med"]

    calls = []
    real = batch.label_trial

    def killed_during_second_trial(**kwargs):
        calls.append(kwargs["trial_id"])
        if kwargs["trial_id"] == "walk_left":
            (tmp_path / "resumed" / "trials" / ".walk_left.tmp-999").mkdir(parents=True)  # half-written
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(batch, "label_trial", killed_during_second_trial)
    with pytest.raises(KeyboardInterrupt):
        batch.label_manifest(manifest=manifest, out=tmp_path / "resumed", config=_config())
    assert (tmp_path / "resumed" / "trials" / "walk_right").is_dir()
    assert not (tmp_path / "resumed" / "trials" / "walk_left").exists()
    assert not (tmp_path / "resumed" / "dataset.npz").exists()

    calls.clear()
    monkeypatch.setattr(batch, "label_trial", lambda **kw: (calls.append(kw["trial_id"]), real(**kw))[1])
    dataset = batch.label_manifest(manifest=manifest, out=tmp_path / "resumed", config=_config()).dataset
    assert calls == ["walk_left"]  # the finished trial is not recomputed
    assert not list((tmp_path / "resumed" / "trials").glob(".*tmp*"))
    np.testing.assert_array_equal(dataset.X, reference_dataset.X)
    np.testing.assert_array_equal(dataset.Y, reference_dataset.Y)
    pd.testing.assert_frame_equal(dataset.meta, reference_dataset.meta)
    for name in ("qa.csv", "qa.json"):
        assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "uninterrupted" / name).read_bytes()
    for trial in ("walk_right", "walk_left"):
        for kind in ("id", "so_force", "hip_forces"):
            a = (tmp_path / "resumed" / "trials" / trial / f"{trial}_{kind}.sto").read_bytes()
            b = (tmp_path / "uninterrupted" / "trials" / trial / f"{trial}_{kind}.sto").read_bytes()
            assert a == b
    saved = GaitDataset.load(tmp_path / "resumed" / "dataset.npz")
    np.testing.assert_array_equal(saved.Y, reference_dataset.Y)
    manifest_out = pd.read_csv(tmp_path / "resumed" / "manifest.csv")
    assert list(manifest_out["trial"]) == ["walk_right", "walk_left"]
    assert list(manifest_out["id"]) == [
        "trials/walk_right/walk_right_id.sto",
        "trials/walk_left/walk_left_id.sto",
    ]


def test_cli_manifest_with_two_processes(manifest, tmp_path):
    from gait2hip.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["label", "--manifest", str(manifest), "--out", str(out), "--jobs", "2", "--keep-flagged"]
    )
    assert result.exit_code == 0, result.output
    assert "2 labelled now" in result.output
    assert len(GaitDataset.load(out / "dataset.npz")) == 2
    again = CliRunner().invoke(app, ["label", "--manifest", str(manifest), "--out", str(out)])
    assert again.exit_code == 0 and "2 already done" in again.output


def test_a_failing_trial_is_reported_and_the_rest_labelled(manifest, tmp_path):
    from gait2hip.sim.batch import label_manifest

    table = pd.read_csv(manifest)
    table.loc[1, "start"], table.loc[1, "end"] = 2.6, 4.0  # after the force-plate data: no cycle
    table.to_csv(manifest, index=False)
    run = label_manifest(manifest=manifest, out=tmp_path / "out", config=_config())
    dataset = run.dataset
    assert [f["trial"] for f in run.failures] == ["walk_left"] and run.labelled_now == 1
    assert list(dataset.meta["trial_id"]) == ["walk_right_R1"]
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert list(failures["trial"]) == ["walk_left"] and "heel strike" in failures["error"].iloc[0]
    assert not (tmp_path / "out" / "trials" / "walk_left").exists()  # retried on the next run


def test_manifest_errors_name_the_row_and_column(manifest, tmp_path):
    from gait2hip.sim.batch import read_label_manifest

    table = pd.read_csv(manifest)
    bad = table.assign(ik=["missing.mot", table["ik"][1]])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(Gait2HipInputError, match=r"row 2: file .missing\.mot. not found") as info:
        read_label_manifest(tmp_path / "bad.csv")
    assert info.value.column == "ik"
    table.assign(trial=["same", "same"]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="unique"):
        read_label_manifest(tmp_path / "dup.csv")
    table.rename(columns={"mass_kg": "weight"}).to_csv(tmp_path / "col.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="unknown manifest column"):
        read_label_manifest(tmp_path / "col.csv")
    table.drop(columns=["loads"]).to_csv(tmp_path / "req.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="required manifest column"):
        read_label_manifest(tmp_path / "req.csv")


def test_cli_batch_says_no_dataset_when_every_cycle_fails_qa(manifest, tmp_path):
    """The raw example fails the post-RRA residual-moment limit: no dataset.npz, and the summary says so."""
    from typer.testing import CliRunner

    from gait2hip.cli import app

    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["label", "--manifest", str(manifest), "--out", str(out)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    assert not (out / "dataset.npz").exists()
    assert "no dataset written: no cycle passed QA" in result.output and "dataset: 0" not in result.output
    assert "% BW·h > 1 %" in (out / "qa.csv").read_text()


def test_cli_exit_code_1_when_a_trial_is_skipped(manifest, tmp_path):
    from typer.testing import CliRunner

    from gait2hip.cli import app

    table = pd.read_csv(manifest)
    table.loc[1, "start"], table.loc[1, "end"] = 2.6, 4.0  # after the force-plate data: no cycle
    table.to_csv(manifest, index=False)
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app,
        ["label", "--manifest", str(manifest), "--out", str(out), "--keep-flagged"],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 1, result.output
    assert "1 trial(s) skipped: listed in" in result.output
    assert list(pd.read_csv(out / "failures.csv")["trial"]) == ["walk_left"]
