"""gait2hip.io.npz: no pickle unless allowed; atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.npz import PickleRiskWarning, read_npz, resave_strings_as_unicode, write_npz


class _Shell:
    """Unpickling this runs a shell command (the attack); pickling it runs nothing."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_round_trip_and_atomic(tmp_path: Path) -> None:
    path = write_npz(
        tmp_path / "a" / "x.npz", {"X": np.arange(6.0).reshape(2, 3), "names": np.array(["a", "b"])}
    )
    arrays = read_npz(path)
    np.testing.assert_array_equal(arrays["X"], np.arange(6.0).reshape(2, 3))
    assert arrays["names"].tolist() == ["a", "b"]
    assert [p.name for p in path.parent.iterdir()] == ["x.npz"]


def test_object_arrays_only_when_trusted(tmp_path: Path) -> None:
    path = tmp_path / "o.npz"
    np.savez(path, subject_id=np.array(["H01", "H02"], dtype=object), X=np.zeros(2))
    with pytest.raises(Gait2HipInputError, match="pickled") as info:
        read_npz(path)
    assert info.value.column == "subject_id" and info.value.file == str(path)
    assert "--trust-pickle" in info.value.fix and "resave_strings_as_unicode" in info.value.fix
    with pytest.warns(PickleRiskWarning, match="runs any code"):
        assert read_npz(path, trust_pickle=True)["subject_id"].tolist() == ["H01", "H02"]


def test_crafted_object_array_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    np.savez(path, X=np.zeros(2), out_cols=np.array([_Shell(f"touch '{marker}'"), "a"], dtype=object))
    with pytest.raises(Gait2HipInputError, match="pickled") as info:
        read_npz(path)
    assert info.value.file == str(path) and info.value.column == "out_cols"
    # the pickle-free converter refuses the payload instead of calling it
    with pytest.raises(Gait2HipInputError, match=r"refused to load (posix|nt)\.system"):
        resave_strings_as_unicode(path, tmp_path / "converted.npz")
    assert not marker.exists() and not (tmp_path / "converted.npz").exists()


def test_resave_strings_as_unicode(tmp_path: Path) -> None:
    path = tmp_path / "o.npz"
    names = np.array(["hip_flexion_r", "glmed_r"], dtype=object)
    np.savez(path, out_cols=names, ids=np.array([b"H01", b"H02"], dtype=object), Y=np.arange(4.0))
    out = resave_strings_as_unicode(path, tmp_path / "u.npz")
    with np.load(out, allow_pickle=False) as npz:  # a plain read now succeeds
        assert npz["out_cols"].dtype.kind == "U" and npz["out_cols"].tolist() == ["hip_flexion_r", "glmed_r"]
        assert npz["ids"].tolist() == ["H01", "H02"]
        np.testing.assert_array_equal(npz["Y"], [0.0, 1.0, 2.0, 3.0])
    np.savez(tmp_path / "n.npz", v=np.array([1.5, "a"], dtype=object))
    with pytest.raises(Gait2HipInputError, match="other than strings"):
        resave_strings_as_unicode(tmp_path / "n.npz", tmp_path / "n2.npz")


def test_unreadable(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(Gait2HipInputError, match="not a readable NPZ"):
        read_npz(tmp_path / "bad.npz")
    with pytest.raises(Gait2HipInputError, match="not found"):
        read_npz(tmp_path / "absent.npz")
