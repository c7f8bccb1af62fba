"""The benchmark command layer: typed choices, environment and --shared checked early, in one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from gait2hip.cli import app


def test_cli_reports_bad_options_in_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["benchmark", "--out", str(tmp_path), "--target", "hips"])
    assert result.exit_code == 2
    assert "hips" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["benchmark", "--out", str(tmp_path), "--models", "lstm,gru"])
    assert result.exit_code == 2 and "gru" in result.output
    result = runner.invoke(app, ["benchmark", "--out", str(tmp_path), "--seeds", "0"])
    assert result.exit_code == 2 and "--seeds" in result.output
    assert not any(tmp_path.iterdir())  # refused before anything ran


def test_bad_worker_count_in_the_environment_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["benchmark", "--out", str(tmp_path)], env={"GAIT2HIP_WORKERS": "two"})
    assert result.exit_code == 2
    assert "GAIT2HIP_WORKERS" in result.output and "Traceback" not in result.output


def test_missing_shared_folder_is_refused(tmp_path):
    result = CliRunner().invoke(
        app, ["benchmark", "--out", str(tmp_path / "run"), "--shared", str(tmp_path / "nonexistent")]
    )
    assert result.exit_code == 2 and "nonexistent" in result.output and "--shared" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "run").exists()


def test_report_of_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "run.json" in result.output


def test_benchmark_on_fukuchi2018_runs_without_subject_inputs_and_on_moments(tmp_path):
    """REAL data without body mass or height: the gait2hip recipe drops subject inputs, 'both'
    targets become hip moments (the only ones it has)."""
    from dataclasses import replace

    from gait2hip.bench.benchmark import run_benchmark
    from gait2hip.commands.benchmark import ProfileName, ProtocolChoice, Target, resolve_settings
    from gait2hip.train.protocols import Runtime

    settings = resolve_settings(
        data="fukuchi2018", target=Target.both, models=["lstm"], protocol=ProtocolChoice.both,
        profile=ProfileName.quick, seeds=1,
    )  # fmt: skip
    assert settings.targets == ("moments",)
    budget = replace(
        settings.budget, folds=2, max_epochs=1, patience=1, fixed_epochs=1,
        ablation_flags=("subject_inputs",), crosslab_configs=(),
    )  # fmt: skip
    settings = replace(
        settings, budget=budget, runtime=Runtime(threads=1), model_overrides={"lstm": {"hidden_size": 8}}
    )
    out = run_benchmark(out=tmp_path / "run", settings=settings, shared=None)
    run = json.loads((out / "run.json").read_text())
    recipes = {u["protocol"]: u["recipe"] for u in run["units"]}
    assert set(recipes) == {"paper", "gait2hip"}  # the subject-inputs ablation is not applicable
    assert recipes["gait2hip"]["subject_inputs"] is False
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["target"]) == {"moments"} and metrics["rmse"].notna().all()


def test_contact_target_on_data_without_it_names_the_column_and_what_the_data_has(tmp_path):
    from gait2hip.bench.benchmark import run_benchmark
    from gait2hip.commands.benchmark import ProfileName, ProtocolChoice, Target, resolve_settings
    from gait2hip.errors import Gait2HipInputError

    assert Target.all.targets == ("forces", "moments", "contact")
    settings = resolve_settings(
        data="fukuchi2018", target=Target.contact, models=["lstm"], protocol=ProtocolChoice.paper,
        profile=ProfileName.quick, seeds=1,
    )  # fmt: skip
    assert settings.targets == ("contact",)
    with pytest.raises(Gait2HipInputError) as error:
        run_benchmark(out=tmp_path / "run", settings=settings, shared=None)
    message = str(error.value)
    assert "hip_r_contact_mag" in message and "(moments)" in message
