"""A tiny end-to-end benchmark (synthetic data, tiny models): outputs, parallel = serial, resume."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_settings

from gait2hip.bench.benchmark import run_benchmark
from gait2hip.data.synthetic import synthetic_dataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.report.write import write_report
from gait2hip.train.protocols import Trainer

KEY = ["protocol", "model", "target", "cohort", "cadence", "seed"]


def test_outputs_exist_and_are_complete(finished_run):
    out = finished_run
    for name in ("metrics.csv", "subject_metrics.csv", "paired_tests.csv", "curves.npz", "run.json"):
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
    record = json.loads((out / "run.json").read_text())
    keys = [u["key"] for u in record["units"]]
    assert len(set(keys)) == 7 and all((out / "units" / k / "info.json").is_file() for k in keys)
    assert record["settings"]["runtime"]["workers"] == 2


def test_two_workers_give_the_metrics_of_one(finished_run, tiny_data, tmp_path):
    """The parallel path (spawned processes, queue progress) and the serial one train the same models."""
    serial = tmp_path / "serial"
    run_benchmark(out=serial, settings=tiny_settings(tiny_data, workers=1), shared=None)
    parallel = pd.read_csv(finished_run / "metrics.csv").sort_values(KEY).reset_index(drop=True)
    one = pd.read_csv(serial / "metrics.csv").sort_values(KEY).reset_index(drop=True)
    assert len(one) == len(parallel) > 0
    pd.testing.assert_frame_equal(one[KEY], parallel[KEY])
    numbers = [c for c in one.columns if c not in KEY and one[c].dtype.kind == "f"]
    np.testing.assert_allclose(one[numbers].to_numpy(), parallel[numbers].to_numpy(), rtol=0, atol=1e-6)


def test_resume_skips_finished_units(finished_run, tiny_data, monkeypatch):
    calls = []
    real_fit = Trainer.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(self.architecture)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "fit", counting_fit)
    before = pd.read_csv(finished_run / "metrics.csv")
    run_benchmark(out=finished_run, settings=tiny_settings(tiny_data), shared=None)
    assert calls == []  # nothing recomputed
    # A run killed during one unit: its info.json (written last) is missing → only it is retrained.
    (finished_run / "units" / "paper-tcn-moments-s2025" / "info.json").unlink()
    events = []
    run_benchmark(
        out=finished_run,
        settings=tiny_settings(tiny_data),
        shared=None,
        on_event=lambda kind, details: events.append(kind),
    )
    assert calls == ["tcn"]
    assert events == ["data", "resume", "start", "unit"]
    after = pd.read_csv(finished_run / "metrics.csv")
    pd.testing.assert_frame_equal(before, after)  # deterministic retraining: identical metrics
    calls = json.loads((finished_run / "run.json").read_text())["calls"]
    trained = [c["models_trained"] for c in calls]
    assert trained[0] > 1 and trained[1:] == [0, 1]  # all, then nothing (resume), then the one unit
    write_report(finished_run)
    assert "over 3 calls of the command" in (finished_run / "report.md").read_text()


def test_resume_refuses_other_data(finished_run, tmp_path):
    other = synthetic_dataset(n_subjects=12, trials_per_cadence=1, seed=5).save(tmp_path / "other.npz")
    settings = replace(tiny_settings(other), targets=("moments",))
    with pytest.raises(Gait2HipInputError, match="different data"):
        run_benchmark(out=finished_run, settings=settings, shared=None)


def test_resume_refuses_another_budget(finished_run, tiny_data):
    settings = tiny_settings(tiny_data)
    settings = replace(settings, budget=replace(settings.budget, fixed_epochs=2))
    with pytest.raises(Gait2HipInputError, match="another profile"):
        run_benchmark(out=finished_run, settings=settings, shared=None)
