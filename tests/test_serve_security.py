"""Token file, token comparison and file-name sanitising of the clinic service."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.serve.security import ensure_token_file, presented_token, safe_filename, token_matches


def test_token_file_is_made_private_once(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "token"
    token, created = ensure_token_file(path)
    assert created and len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = ensure_token_file(path)
    assert again == token and not created_again
    other, _ = ensure_token_file(tmp_path / "other")
    assert other != token


def test_token_file_readable_by_others_or_short_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("a-long-enough-token-for-the-test\n")
    path.chmod(0o644)
    with pytest.raises(Gait2HipInputError, match="chmod 600"):
        ensure_token_file(path)
    path.chmod(0o600)
    assert ensure_token_file(path) == ("a-long-enough-token-for-the-test", False)
    path.write_text("short")
    with pytest.raises(Gait2HipInputError, match="characters"):
        ensure_token_file(path)


def test_token_matching() -> None:
    assert token_matches("abc" * 10, "abc" * 10)
    assert not token_matches("abc" * 10 + "d", "abc" * 10)
    assert not token_matches("", "abc" * 10) and not token_matches(None, "abc" * 10)
    assert not token_matches("ä" * 5, "abc" * 10)  # non-ASCII does not raise
    assert presented_token({"authorization": "Bearer  xyz "}) == "xyz"
    assert presented_token({"authorization": "bearer xyz"}) == "xyz"
    assert presented_token({"x-gait2hip-token": "t"}) == "t"
    assert presented_token({"authorization": "Basic Zm9v"}) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("subject01_walk1_ik.mot", "subject01_walk1_ik.mot"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/trial.c3d", "trial.c3d"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("Müller walk #3.csv", "M_ller_walk_3.csv"),
        (".hidden.mot", "hidden.mot"),
        ("a" * 300 + ".mot", "a" * 96 + ".mot"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected
