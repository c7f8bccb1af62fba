"""gait2hip.io.c3d: gait events from C3D files written with ezc3d."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError

ezc3d = pytest.importorskip("ezc3d", reason="ezc3d is not installed (pip install 'gait2hip[c3d]')")

from gait2hip.io.c3d import c3d_heel_strikes, read_c3d_events  # noqa: E402


def _c3d(path: Path, contexts: list[str], labels: list[str], seconds: list[float]) -> Path:
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = ("RHEE",)
    c3d["data"]["points"] = np.ones((4, 1, 300))
    if labels:
        c3d.add_parameter("EVENT", "CONTEXTS", contexts)
        c3d.add_parameter("EVENT", "LABELS", labels)
        c3d.add_parameter("EVENT", "TIMES", np.array([[0.0] * len(seconds), seconds]))
        c3d.add_parameter("EVENT", "USED", len(labels))
    c3d.write(str(path))
    return path


def test_events_and_heel_strikes(tmp_path: Path) -> None:
    path = _c3d(
        tmp_path / "walk.c3d",
        ["Right", "Left", "Right", "Right", "Left", "General"],
        ["Foot Strike", "Foot Strike", "Foot Off", "Foot Strike", "LTO", "Start"],
        [0.52, 1.1, 1.25, 1.7, 1.8, 0.1],
    )
    events = read_c3d_events(path)
    np.testing.assert_allclose(events["right"]["Foot Strike"], [0.52, 1.7], atol=1e-6)
    assert set(events) == {"right", "left", "general"}
    strikes = c3d_heel_strikes(path)
    np.testing.assert_allclose(strikes["right"], [0.52, 1.7], atol=1e-6)
    np.testing.assert_allclose(strikes["left"], [1.1], atol=1e-6)


def test_no_events(tmp_path: Path) -> None:
    path = _c3d(tmp_path / "static.c3d", [], [], [])
    assert read_c3d_events(path) == {}
    with pytest.raises(Gait2HipInputError, match="no heel strike found") as info:
        c3d_heel_strikes(path)
    assert info.value.file == str(path)


def test_bad_files(tmp_path: Path) -> None:
    (tmp_path / "junk.c3d").write_bytes(b"\x00" * 100)
    with pytest.raises(Gait2HipInputError, match="cannot read the C3D"):
        read_c3d_events(tmp_path / "junk.c3d")
    with pytest.raises(Gait2HipInputError, match="not found"):
        read_c3d_events(tmp_path / "absent.c3d")


def test_flat_event_times(tmp_path: Path) -> None:
    """Nexus can store EVENT:TIMES as one flat list of (minutes, seconds) pairs (BTK's PiG samples do)."""
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = ("RHEE",)
    c3d["data"]["points"] = np.ones((4, 1, 300))
    c3d.add_parameter("EVENT", "CONTEXTS", ["Left", "Right", "Right"])
    c3d.add_parameter("EVENT", "LABELS", ["Foot Strike", "Foot Strike", "Foot Off"])
    c3d.add_parameter("EVENT", "TIMES", [0.0, 3.05, 0.0, 2.02, 1.0, 0.5])
    c3d.add_parameter("EVENT", "USED", 3)
    c3d.write(str(tmp_path / "flat.c3d"))
    assert (
        np.asarray(ezc3d.c3d(str(tmp_path / "flat.c3d"))["parameters"]["EVENT"]["TIMES"]["value"]).ndim == 1
    )
    events = read_c3d_events(tmp_path / "flat.c3d")
    np.testing.assert_allclose(events["left"]["Foot Strike"], [3.05], atol=1e-6)
    np.testing.assert_allclose(events["right"]["Foot Strike"], [2.02], atol=1e-6)
    np.testing.assert_allclose(events["right"]["Foot Off"], [60.5], atol=1e-5)
