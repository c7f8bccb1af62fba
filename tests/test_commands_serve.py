"""``gait2hip serve`` / ``gait2hip bench serve`` command layer: options, token printed once, warnings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi", reason="the clinic service needs the extra: pip install 'gait2hip[serve]'")
uvicorn = pytest.importorskip(
    "uvicorn", reason="the clinic service needs the extra: pip install 'gait2hip[serve]'"
)

from gait2hip.cli import app  # noqa: E402


@pytest.fixture
def started(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kwargs: calls.append(kwargs))
    return calls


def test_token_is_made_once_and_shown_once(tmp_path: Path, started: list[dict]) -> None:
    token_file = tmp_path / "token"
    first = CliRunner().invoke(app, ["serve", "--token-file", str(token_file), "--port", "8123"])
    assert first.exit_code == 0, first.output
    token = token_file.read_text().strip()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token in first.output.replace("\n", "") and "shown once" in first.output
    second = CliRunner().invoke(app, ["serve", "--token-file", str(token_file)])
    assert second.exit_code == 0 and token not in second.output.replace("\n", "")
    assert started[0]["host"] == "127.0.0.1" and started[0]["port"] == 8123
    assert started[0]["server_header"] is False
    assert "warning" not in first.output


def test_options_are_checked(tmp_path: Path, started: list[dict]) -> None:
    token = ["--token-file", str(tmp_path / "t")]
    for options, words in (
        (["--port", "70000"], "not a TCP port"),
        (["--max-upload-mb", "0"], "must be > 0"),
        (["--ssl-certfile", "c.pem"], "both --ssl-certfile and --ssl-keyfile"),
        (["--workers", "0"], "≥ 1"),
    ):
        result = CliRunner().invoke(app, ["serve", *token, *options])
        assert result.exit_code == 2 and words in result.output, (options, result.output)
    assert started == []
    remote = CliRunner().invoke(app, ["serve", *token, "--host", "0.0.0.0"])
    assert remote.exit_code == 0 and "unencrypted" in remote.output


def test_bench_serve_refuses_unbounded_load() -> None:
    result = CliRunner().invoke(app, ["bench", "serve", "--clients", "1000", "--uploads", "1000"])
    assert result.exit_code == 2 and "at most 10 000" in result.output
