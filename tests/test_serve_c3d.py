"""Vicon C3D with Plug-in Gait outputs (gait2hip.serve.c3d) and through the clinic service.

The shipped sample is a real Nexus/Plug-in Gait walking trial (tests/data/README.md).
"""

from __future__ import annotations

import itertools
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError

ezc3d = pytest.importorskip("ezc3d", reason="ezc3d is not installed (pip install 'gait2hip[c3d]')")

from gait2hip.data.columns import INPUT_ANGLES  # noqa: E402
from gait2hip.io.c3d import read_c3d_events  # noqa: E402
from gait2hip.serve.c3d import check_c3d_header, read_plugin_gait  # noqa: E402

SAMPLE = Path(__file__).parent / "data" / "pig_walk.c3d"


def test_angles_and_events_on_the_capture_clock() -> None:
    angles, events = read_plugin_gait(SAMPLE)
    assert list(angles.columns) == list(INPUT_ANGLES) and len(angles) == 315
    # header: first frame 148 at 100 Hz → frame 1 of the capture is t = 0, so the trial starts at 1.47 s
    assert angles.index[0] == pytest.approx(1.47) and angles.index[-1] == pytest.approx(4.61)
    raw = ezc3d.c3d(str(SAMPLE))["data"]["points"]
    np.testing.assert_allclose(angles["knee_angle_l"], raw[0, 1, :])  # LKneeAngles X, no sign change
    np.testing.assert_allclose(angles["hip_rotation_r"], raw[2, 3, :])  # RHipAngles Z
    np.testing.assert_allclose(events["right"]["heel_strike"], [1.53, 2.54, 3.57, 4.59], atol=1e-5)
    np.testing.assert_allclose(events["left"]["toe_off"], [2.65, 3.66], atol=1e-5)
    assert all(angles.index[0] <= t <= angles.index[-1] for t in events["right"]["heel_strike"])


def test_mapping_matches_opensim_sagittal_curves(examples: Path) -> None:
    """Plug-in Gait → gait2hip signs, checked against the OpenSim gait2392 example's IK (another person).

    Mean cycles, correlation per channel (measured: hip flexion 0.94 R / 0.97 L, knee 0.75 / 0.92). A
    sign error would make them strongly negative. The ankle (0.10 / 0.22) and the frontal/transverse
    hip channels are NOT confirmed by this comparison (two people, different models).
    """
    from gait2hip.data.angles import read_angles
    from gait2hip.data.cycles import find_cycles, time_normalize

    pig, events = read_plugin_gait(SAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osim = read_angles(examples / "gait2392-subject01" / "subject01_walk1_ik.mot")

    def mean_cycle(table, windows, column):
        time = table.index.to_numpy()
        return np.mean(
            [time_normalize(time, table[column].to_numpy(), s, e, 101) for s, e in windows], axis=0
        )

    for side, suffix in (("right", "_r"), ("left", "_l")):
        strikes = events[side]["heel_strike"]
        pig_windows = list(itertools.pairwise(strikes))
        osim_windows = [(c.start, c.end) for c in find_cycles(osim, sides=(side,))]
        for channel, minimum in (("hip_flexion", 0.9), ("knee_angle", 0.7)):
            a = mean_cycle(pig, pig_windows, channel + suffix)
            b = mean_cycle(osim, osim_windows, channel + suffix)
            assert np.corrcoef(a, b)[0, 1] > minimum, (side, channel)


def test_truncated_and_foreign_files(tmp_path: Path) -> None:
    data = SAMPLE.read_bytes()
    for n in (len(data) - 2000, 2048, 600):
        (tmp_path / "cut.c3d").write_bytes(data[:n])
        with pytest.raises(Gait2HipInputError, match="truncated") as info:
            read_plugin_gait(tmp_path / "cut.c3d")
        assert "cut short" in info.value.fix
    (tmp_path / "junk.c3d").write_bytes(b"not a c3d" * 100)
    with pytest.raises(Gait2HipInputError, match="not a C3D"):
        check_c3d_header(tmp_path / "junk.c3d")
    (tmp_path / "tiny.c3d").write_bytes(b"\x02P")
    with pytest.raises(Gait2HipInputError, match="not a C3D"):
        check_c3d_header(tmp_path / "tiny.c3d")
    check_c3d_header(SAMPLE)  # the complete file passes


def test_markers_only_and_gaps(tmp_path: Path) -> None:
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = ("RHEE", "LHEE")
    c3d["data"]["points"] = np.ones((4, 2, 200))
    c3d.write(str(tmp_path / "markers.c3d"))
    with pytest.raises(Gait2HipInputError, match="model output missing") as info:
        read_plugin_gait(tmp_path / "markers.c3d")
    assert info.value.column == "RHipAngles" and "RHipAngles" in info.value.fix

    source = ezc3d.c3d(str(SAMPLE))
    points = source["data"]["points"].copy()
    points[:3, 3, 150] = np.nan  # a dropout inside the trial: RHipAngles at one frame
    points[:3, :, :5] = np.nan  # and the first 5 frames missing everywhere: trimmed
    gap = ezc3d.c3d()
    gap["parameters"]["POINT"]["RATE"]["value"] = [100]
    gap["parameters"]["POINT"]["LABELS"]["value"] = source["parameters"]["POINT"]["LABELS"]["value"]
    gap["data"]["points"] = points
    gap.write(str(tmp_path / "gap.c3d"))
    with pytest.raises(Gait2HipInputError, match="NaN") as info:
        read_plugin_gait(tmp_path / "gap.c3d")
    assert info.value.column == "hip_flexion_r"
    points[:3, 3, 150] = 1.0
    gap["data"]["points"] = points
    gap.write(str(tmp_path / "trimmed.c3d"))
    angles, events = read_plugin_gait(tmp_path / "trimmed.c3d")
    assert len(angles) == 310 and angles.index[0] == pytest.approx(0.05) and events == {}


def test_the_service_uses_the_lab_events(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the clinic service needs the extra: pip install 'gait2hip[serve]'")
    pytest.importorskip("httpx", reason="the API tests need httpx (the dev extra)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from gait2hip.serve.app import ServeSettings, create_app

    token = "c3d-test-token-abcdefghijklmnop"
    client = TestClient(create_app(ServeSettings(token=token)))
    auth = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/api/analyses",
        headers=auth,
        files={"file": ("walk.c3d", SAMPLE.read_bytes())},
        data={"mass_kg": "70"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    events = read_c3d_events(SAMPLE)
    assert [c["side"] for c in body["cycles"]] == ["right", "left", "right", "left", "right"]
    for cycle in body["cycles"]:
        assert cycle["heel_strikes"] == "heel strikes from lab events (Foot Strike)"
        assert cycle["timing"]["toe_off_method"] == "lab event (Foot Off)"
        offs = events[cycle["side"]]["Foot Off"]
        toe_off = offs[(offs > cycle["start_s"]) & (offs < cycle["end_s"])][0]
        assert cycle["timing"]["toe_off_s"] == pytest.approx(toe_off, abs=1e-4)
        assert cycle["timing"]["stance_percent"] == pytest.approx(
            100 * (toe_off - cycle["start_s"]) / cycle["stride_s"], abs=0.1
        )
    assert body["symmetry"]["available"]
    for n in (len(SAMPLE.read_bytes()) // 2, 700):
        cut = client.post(
            "/api/analyses",
            headers=auth,
            files={"file": ("walk.c3d", SAMPLE.read_bytes()[:n])},
            data={"mass_kg": "70"},
        )
        assert cut.status_code == 422 and "truncated" in cut.json()["error"]["problem"]
        assert cut.json()["error"]["file"] == "walk.c3d"
    header = bytearray(SAMPLE.read_bytes())
    header[6:10] = struct.pack("<HH", 1, 60000)  # a header claiming 60 000 frames
    lie = client.post(
        "/api/analyses", headers=auth, files={"file": ("lie.c3d", bytes(header))}, data={"mass_kg": "70"}
    )
    assert lie.status_code == 422 and "truncated" in lie.json()["error"]["problem"]
