"""gait2hip.io.npz: no pickle unless allowed; atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.npz import read_npz, write_npz


def test_round_trip_and_atomic(tmp_path: Path) -> None:
    path = write_npz(
        tmp_path / "a" / "x.npz", {"X": np.arange(6.0).reshape(2, 3), "names": np.array(["a", "b"])}
    )
    arrays = read_npz(path)
    np.testing.assert_array_equal(arrays["X"], np.arange(6.0).reshape(2, 3))
    assert arrays["names"].tolist() == ["a", "b"]
    assert [p.name for p in path.parent.iterdir()] == ["x.npz"]


def test_object_arrays_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "o.npz"
    np.savez(path, subject_id=np.array(["H01", "H02"], dtype=object), X=np.zeros(2))
    with pytest.raises(Gait2HipInputError, match="pickled") as info:
        read_npz(path)
    assert info.value.column == "subject_id" and info.value.file == str(path)
    assert read_npz(path, allow_object_arrays=True)["subject_id"].tolist() == ["H01", "H02"]


def test_unreadable(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(Gait2HipInputError, match="not a readable NPZ"):
        read_npz(tmp_path / "bad.npz")
    with pytest.raises(Gait2HipInputError, match="not found"):
        read_npz(tmp_path / "absent.npz")
