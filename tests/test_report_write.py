"""The report rebuilt from a saved run folder alone: tables, numbers = metrics.csv, figures written."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.report.write import _wall_text, write_report


@pytest.fixture()
def saved_run(finished_run, tmp_path):
    """A copy of a finished run without its report or figures: only what the benchmark saved."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run, ignore=shutil.ignore_patterns("report.*", "figures", "models"))
    return run


def test_report_is_rebuilt_from_the_folder_alone(saved_run):
    report = write_report(saved_run)
    text = report.read_text()
    assert (saved_run / "report.html").is_file()
    for heading in (
        "Headline: test subjects",
        "Per cadence (healthy test subjects)",
        "External cohort: patients, zero-shot",
        "Ablation: what each gait2hip choice buys",
        "Paired comparisons",
        "Training details",
        "Methods",
    ):
        assert f"## {heading}" in text, heading
    assert "SIMULATED DATA" in text and "test RMSE ratio gait2hip / paper" in text
    figures = {p.name for p in (saved_run / "figures").glob("*.png")}
    assert {
        "box_forces.png",
        "cadence_moments.png",
        "curves_gait2hip_forces_test.png",
        "curves_paper_moments_external.png",
    } <= figures
    for name in figures:  # every figure written is shown, and every one shown is written
        assert f"figures/{name}" in text
    assert len(re.findall(r"!\[", text)) == len(figures)


def test_report_numbers_are_those_of_metrics_csv(saved_run):
    text = write_report(saved_run).read_text()
    metrics = pd.read_csv(saved_run / "metrics.csv", dtype={"seed": str})
    healthy = metrics[
        (metrics["cohort"] == "healthy") & (metrics["cadence"] == "overall") & (metrics["seed"] != "ensemble")
    ]
    headline = [line for line in text.splitlines() if line.startswith("|")]
    for row in healthy[~healthy["protocol"].str.startswith("ablation")].itertuples():
        cells = f"| {row.protocol} | {row.model} | 1 | {row.rmse:.3f} | {row.mae:.3f} | {row.r2_paper:.3f} |"
        assert any(line.startswith(cells) for line in headline), cells
    ratios = dict(re.findall(r"\*\*(forces|moments)\*\*: test RMSE ratio.*per model: (.*)\.", text))
    for target in ("forces", "moments"):
        rmse = healthy[healthy["target"] == target].groupby(["protocol", "model"])["rmse"].mean()
        assert f"lstm {rmse[('gait2hip', 'lstm')] / rmse[('paper', 'lstm')]:.3f}" in ratios[target]


def test_a_folder_without_a_finished_run_is_refused(tmp_path):
    with pytest.raises(Gait2HipInputError, match="not a finished benchmark run folder"):
        write_report(tmp_path)


def test_a_killed_call_is_timed_by_its_last_heartbeat():
    calls = [
        {"started": 0.0, "last_seen": 600.0},  # killed 10 min in; its last heartbeat
        {"started": 3600.0, "ended": 4800.0, "wall_seconds": 1200.0, "models_trained": 4},
    ]
    text = _wall_text({"calls": calls, "wall_seconds_this_call": 1200.0})
    assert "0.50 h over 2 calls" in text
    assert "(10 min, killed)" in text and "(20 min, 4 model(s) finished)" in text
