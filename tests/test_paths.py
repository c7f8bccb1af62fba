"""gait2hip.paths: where the shared inputs are found, and clear errors when they are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import shared_dir, shared_file


def test_explicit_missing_folder_is_an_error_naming_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GAIT2HIP_SHARED", str(tmp_path))  # another folder that does exist
    missing = tmp_path / "nonexistent"
    with pytest.raises(Gait2HipInputError, match="does not exist") as raised:
        shared_dir(path=missing)
    assert str(missing) in str(raised.value)
    with pytest.raises(Gait2HipInputError, match="does not exist"):
        shared_dir(path=missing, required=False)  # explicit beats 'optional'
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(Gait2HipInputError, match="not a folder"):
        shared_dir(path=a_file)


def test_explicit_folder_wins_over_the_environment(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "mine" / "models").mkdir(parents=True)
    (tmp_path / "mine" / "models" / "m.osim").write_text("<OpenSimDocument/>")
    monkeypatch.setenv("GAIT2HIP_SHARED", str(tmp_path / "env"))
    assert shared_dir(path=tmp_path / "mine") == (tmp_path / "mine").resolve()
    assert shared_dir() == (tmp_path / "env").resolve()
    assert shared_file("models/m.osim", path=tmp_path / "mine").read_text() == "<OpenSimDocument/>"
    with pytest.raises(Gait2HipInputError, match="missing"):
        shared_file("models/other.osim", path=tmp_path / "mine")
