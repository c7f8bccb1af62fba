"""A tiny end-to-end benchmark (synthetic data, 1-2 epochs, tiny models): outputs, resume, CLI errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from gait2hip.cli import app
from gait2hip.data.columns import MOMENTS_L, MUSCLE_GROUPS_L
from gait2hip.data.dataset import GaitDataset
from gait2hip.data.synthetic import synthetic_dataset
from gait2hip.evaluate import benchmark as bench
from gait2hip.evaluate.protocols import PROFILES

torch.set_num_threads(1)

TINY_MODELS = {"lstm": {"hidden_size": 8, "num_layers": 1}, "tcn": {}}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    """14 synthetic subjects x 3 cadences, 2 of them 'patients', with left-hip twins (phase-shifted)."""
    ds = synthetic_dataset(n_subjects=14, trials_per_cadence=1, n_timepoints=101, seed=1)
    meta = ds.meta.copy()
    patients = sorted(meta["subject_id"].unique())[-2:]
    meta["cohort"] = np.where(meta["subject_id"].isin(patients), "patient", "healthy")
    idx = np.append((np.arange(100) + 50) % 100, 50)
    both = GaitDataset(
        X=ds.X,
        Y=np.concatenate([ds.Y, ds.Y[:, idx, :]], axis=2),
        input_columns=ds.input_columns,
        target_columns=ds.target_columns + MUSCLE_GROUPS_L + MOMENTS_L,
        input_units=ds.input_units,
        target_units=ds.target_units * 2,
        meta=meta,
        attrs={**ds.attrs, "name": "tiny"},
    )
    return both.save(tmp_path_factory.mktemp("data") / "tiny.npz")


def _settings(path: Path, workers: int = 1):
    settings = bench.resolve_settings(
        data=str(path), target="both", models=["lstm", "tcn"], protocol="both", profile="quick", seeds=1
    )
    profile = replace(
        PROFILES["quick"],
        folds=2,
        max_epochs=2,
        patience=1,
        fixed_epochs=1,
        ablation_models=("lstm",),
        ablation_flags=("mirror",),
        threads=1,
    )
    return replace(settings, profile=profile, model_overrides=TINY_MODELS)


@pytest.fixture(scope="module")
def finished_run(tiny_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    # Two training processes: covers the parallel path (results must not depend on it, see resume test).
    bench.run_benchmark(
        out=out, settings=_settings(tiny_data, workers=2), shared=None, console=Console(quiet=True)
    )
    return out


def test_outputs_exist_and_are_complete(finished_run):
    out = finished_run
    for name in (
        "metrics.csv",
        "subject_metrics.csv",
        "paired_tests.csv",
        "report.md",
        "report.html",
        "run.json",
    ):
        assert (out / name).is_file(), name
    metrics = pd.read_csv(out / "metrics.csv")
    expected = {
        "protocol",
        "model",
        "target",
        "cohort",
        "cadence",
        "seed",
        "n_subjects",
        "n_trials",
        "rmse",
        "mae",
        "r2_paper",
        "r2_channel",
        "skill",
        "units",
    }
    assert expected <= set(metrics.columns)
    assert set(metrics["protocol"]) == {"paper", "gait2hip", "baseline", "ablation:-mirror"}
    assert set(metrics["cohort"]) == {"healthy", "patient"}
    assert set(metrics["cadence"]) == {"overall", "slow", "med", "fast"}
    healthy = metrics[(metrics["cohort"] == "healthy") & (metrics["cadence"] == "overall")]
    assert set(healthy["n_subjects"]) == {2}  # round(0.2 * 12 healthy subjects) = 2; patients never in it
    assert (metrics[metrics["model"] == "mean-curve"]["skill"] == 0).all()
    assert set(metrics[metrics["target"] == "forces"]["units"]) == {"N/kg"}
    # One bundle per trained model: 2 models x 2 targets (paper) + 2 joint (gait2hip) + 1 ablation.
    bundles = sorted(p.name for p in (out / "models").iterdir())
    assert len(bundles) == 7 and all((out / "models" / b / "manifest.json").is_file() for b in bundles)
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {
        "box_forces.png",
        "cadence_moments.png",
        "curves_gait2hip_forces_test.png",
        "curves_paper_moments_external.png",
    } <= figures
    report = (out / "report.md").read_text()
    assert "SIMULATED DATA" in report and "Ablation" in report and "Wilcoxon" in report
    assert "test RMSE ratio gait2hip / paper" in report


def test_resume_skips_finished_units(finished_run, tiny_data, monkeypatch):
    calls = []
    real_fit = bench.fit_unit

    def counting_fit(*args, **kwargs):
        calls.append(kwargs["architecture"])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(bench, "fit_unit", counting_fit)
    before = pd.read_csv(finished_run / "metrics.csv")
    bench.run_benchmark(
        out=finished_run, settings=_settings(tiny_data), shared=None, console=Console(quiet=True)
    )
    assert calls == []  # nothing recomputed
    # A run killed during one unit: its info.json (written last) is missing → only it is retrained.
    (finished_run / "units" / "paper-tcn-moments-s2025" / "info.json").unlink()
    bench.run_benchmark(
        out=finished_run, settings=_settings(tiny_data), shared=None, console=Console(quiet=True)
    )
    assert calls == ["tcn"]
    after = pd.read_csv(finished_run / "metrics.csv")
    pd.testing.assert_frame_equal(before, after)  # deterministic retraining: identical metrics
    calls = json.loads((finished_run / "run.json").read_text())["calls"]
    trained = [c["models_trained"] for c in calls]
    assert trained[0] > 1 and trained[1:] == [0, 1]  # all, then nothing (resume), then the one unit
    assert "over 3 calls of the command" in (finished_run / "report.md").read_text()


def test_a_killed_call_is_timed_by_its_last_heartbeat():
    from gait2hip.report.report import _wall_text

    calls = [
        {"started": 0.0, "last_seen": 600.0},  # killed 10 min in; its last heartbeat
        {"started": 3600.0, "ended": 4800.0, "wall_seconds": 1200.0, "models_trained": 4},
    ]
    text = _wall_text({"calls": calls, "wall_seconds_this_call": 1200.0})
    assert "0.50 h over 2 calls" in text
    assert "(10 min, killed)" in text and "(20 min, 4 model(s) finished)" in text


class _KillInFold2:
    """Progress stand-in: the run dies in its second cross-validation fold, after one epoch."""

    def add_task(self, description, total, **fields):
        self.in_fold2 = "fold 2" in description
        return 0

    def update(self, task, advance=0, **kwargs):
        if self.in_fold2 and advance:
            raise KeyboardInterrupt


def test_a_unit_killed_mid_fold_keeps_its_finished_folds_and_epochs(tiny_data, tmp_path, monkeypatch):
    from gait2hip.evaluate import protocols

    monkeypatch.setattr(protocols, "CHECKPOINT_SECONDS", 0.0)
    settings = _settings(tiny_data)
    splits = bench.prepare_data(settings, shared=None)
    unit = {
        "architecture": "lstm",
        "recipe": protocols.PROTOCOLS["paper"],
        "target": "moments",
        "seed": 2025,
        "profile": replace(settings.profile, max_epochs=3, patience=3),
        "extra_overrides": TINY_MODELS["lstm"],
    }
    whole = protocols.fit_unit(splits.pool, **unit)
    work = tmp_path / "unit.inprogress"
    with pytest.raises(KeyboardInterrupt):
        protocols.fit_unit(splits.pool, progress=_KillInFold2(), work_dir=work, **unit)
    assert (work / "fold1.json").exists() and (work / "fold2.pt").exists()

    trained = []
    real_train = protocols.train_model
    monkeypatch.setattr(
        protocols, "train_model", lambda *a, **k: trained.append(k["label"]) or real_train(*a, **k)
    )
    resumed = protocols.fit_unit(splits.pool, work_dir=work, label="unit", **unit)
    assert trained == ["unit fold 2/2", f"unit final ({whole.final_epochs} ep)"]  # fold 1 not retrained
    drop = lambda folds: [{k: v for k, v in f.items() if "seconds" not in k} for f in folds]  # noqa: E731
    assert drop(resumed.folds) == drop(whole.folds)
    for name, data in splits.eval_sets().items():
        np.testing.assert_array_equal(resumed.predict(data), whole.predict(data), err_msg=name)


def test_resume_refuses_other_data(finished_run, tmp_path):
    other = synthetic_dataset(n_subjects=12, trials_per_cadence=1, seed=5).save(tmp_path / "other.npz")
    settings = replace(_settings(other), targets=("moments",))
    with pytest.raises(bench.Gait2HipInputError, match="different data"):
        bench.run_benchmark(out=finished_run, settings=settings, shared=None, console=Console(quiet=True))


def test_cli_reports_bad_options_in_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["benchmark", "--out", str(tmp_path), "--target", "hips"])
    assert result.exit_code == 2
    assert "unknown target" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["benchmark", "--out", str(tmp_path), "--models", "lstm,gru"])
    assert result.exit_code == 2 and "gru" in result.output
