"""The benchmark command layer: typed choices, environment and --shared checked early, in one line."""

from __future__ import annotations

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
