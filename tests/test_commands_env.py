"""gait2hip.commands.env: environment variables parsed once, with one clear error naming the variable."""

from __future__ import annotations

import pytest

from gait2hip.commands.env import env_choice, env_int
from gait2hip.errors import Gait2HipInputError


def test_env_int_reads_whole_numbers_and_defaults_when_unset() -> None:
    assert env_int("GAIT2HIP_WORKERS", default=1, environ={"GAIT2HIP_WORKERS": " 3 "}) == 3
    assert env_int("GAIT2HIP_WORKERS", default=1, environ={}) == 1
    assert env_int("GAIT2HIP_WORKERS", default=None, environ={"GAIT2HIP_WORKERS": ""}) is None


@pytest.mark.parametrize("raw", ["two", "2.5", "0", "-1"])
def test_env_int_refuses_what_is_not_a_count(raw: str) -> None:
    with pytest.raises(Gait2HipInputError) as raised:
        env_int("GAIT2HIP_WORKERS", default=1, environ={"GAIT2HIP_WORKERS": raw})
    message = str(raised.value)
    assert f"GAIT2HIP_WORKERS='{raw}'" in message and "whole number ≥ 1" in message and "Fix:" in message


def test_env_int_reads_the_process_environment(monkeypatch) -> None:
    monkeypatch.setenv("GAIT2HIP_THREADS", "two")
    with pytest.raises(Gait2HipInputError, match="GAIT2HIP_THREADS='two'"):
        env_int("GAIT2HIP_THREADS", default=1)
    monkeypatch.setenv("GAIT2HIP_THREADS", "4")
    assert env_int("GAIT2HIP_THREADS", default=1) == 4


def test_env_choice_is_case_insensitive_and_names_the_choices() -> None:
    choices = ("cpu", "cuda", "auto")
    assert env_choice("GAIT2HIP_DEVICE", choices, environ={"GAIT2HIP_DEVICE": "CUDA"}) == "cuda"
    assert env_choice("GAIT2HIP_DEVICE", ("cpu", "cuda"), default="cpu", environ={}) == "cpu"
    with pytest.raises(Gait2HipInputError, match="GAIT2HIP_DEVICE='gpu' is not one of cpu, cuda"):
        env_choice("GAIT2HIP_DEVICE", ("cpu", "cuda"), environ={"GAIT2HIP_DEVICE": "gpu"})


def test_env_paths_splits_on_the_path_separator(tmp_path) -> None:
    import os

    from gait2hip.commands.env import env_paths

    raw = os.pathsep.join([str(tmp_path / "a"), "", str(tmp_path / "b")])
    assert env_paths("GAIT2HIP_BUNDLE_PATH", environ={"GAIT2HIP_BUNDLE_PATH": raw}) == [
        tmp_path / "a",
        tmp_path / "b",
    ]
    assert env_paths("GAIT2HIP_BUNDLE_PATH", environ={}) == []


def test_version_and_examples_in_every_help():
    from typer.testing import CliRunner

    import gait2hip
    from gait2hip.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"gait2hip {gait2hip.__version__}"
    for command in (["predict"], ["label"], ["export"], ["data", "inspect"], ["models", "list"], ["serve"]):
        text = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "300"}).output
        assert "Examples:" in text and f"gait2hip {' '.join(command)}" in text and "Exit codes: 0" in text
