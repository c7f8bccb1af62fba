"""gait2hip.data.cycles: events against the examples' documented GRF events; segmentation; resampling."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.angles import read_angles
from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.data.cycles import (
    GaitCycle,
    contact_events,
    cycles_from_heel_strikes,
    find_cycles,
    grf_support_fraction,
    heel_strikes_from_grf,
    heel_strikes_from_kinematics,
    time_normalize,
    vertical_grf_columns,
)
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage


def _angles(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_angles(path)


@pytest.fixture(scope="module")
def g2392(examples: Path) -> dict:
    folder = examples / "gait2392-subject01"
    return dict(
        angles=_angles(folder / "subject01_walk1_ik.mot"),
        grf=read_storage(folder / "subject01_walk1_grf.mot").data,
        xml=folder / "subject01_walk1_grf.xml",
    )


def test_grf_heel_strikes_match_the_readme_events(g2392: dict, examples: Path) -> None:
    # README: right heel strikes 0.618, 1.853 s; left 1.247, 2.460 s (first sample above 20 N at 600 Hz)
    events = heel_strikes_from_grf(g2392["grf"], loads_xml=g2392["xml"])
    np.testing.assert_allclose(events["right"], [0.618, 1.853], atol=0.002)
    np.testing.assert_allclose(events["left"], [1.247, 2.460], atol=0.002)
    # Rajagopal overground trial, named columns, 2000 Hz: right 0.268, 1.412; left 0.8365
    grf = read_storage(examples / "rajagopal-walk/ExpData/grf_walk.mot").data
    events = heel_strikes_from_grf(grf)
    np.testing.assert_allclose(events["right"], [0.268, 1.412], atol=0.001)
    np.testing.assert_allclose(events["left"], [0.8365], atol=0.001)
    _, toe_offs = contact_events(grf.index.to_numpy(), grf["ground_force_r_vy"].to_numpy(), hysteresis=0)
    np.testing.assert_allclose(toe_offs, [1.0235, 2.1675], atol=0.001)


def test_kinematic_heel_strikes_are_close_to_the_force_plate(g2392: dict, examples: Path) -> None:
    right = heel_strikes_from_kinematics(g2392["angles"], side="right")
    left = heel_strikes_from_kinematics(g2392["angles"], side="left")
    # 0.618 s is only 7 samples into the IK record: found although its left flank is cut off
    assert np.min(np.abs(right - 0.618)) < 0.04
    assert np.min(np.abs(right - 1.853)) < 0.04
    assert np.min(np.abs(left - 1.247)) < 0.04 and np.min(np.abs(left - 2.460)) < 0.04
    moco = _angles(examples / "moco-3d-walking/coordinates.sto")
    assert np.min(np.abs(heel_strikes_from_kinematics(moco, side="right") - 1.4115)) < 0.04
    assert np.min(np.abs(heel_strikes_from_kinematics(moco, side="left") - 0.836)) < 0.04


def test_find_cycles_with_grf(g2392: dict) -> None:
    cycles = find_cycles(g2392["angles"], grf=g2392["grf"], loads_xml=g2392["xml"])
    assert [c.side for c in cycles] == ["right", "left"]
    assert cycles[0].start == pytest.approx(0.618, abs=0.002) and cycles[0].duration == pytest.approx(
        1.235, abs=0.004
    )
    assert all(c.method == "grf" for c in cycles)
    only_right = find_cycles(
        g2392["angles"], grf=g2392["grf"], loads_xml=g2392["xml"], sides=("right",), t_max=2.0
    )
    assert len(only_right) == 1 and only_right[0].side == "right"


def test_find_cycles_from_kinematics(g2392: dict) -> None:
    cycles = find_cycles(g2392["angles"])
    assert {c.side for c in cycles} == {"right", "left"}
    assert all(c.method == "kinematics" and 1.1 < c.duration < 1.35 for c in cycles)


def test_gait2392_columns_need_the_loads_xml(g2392: dict) -> None:
    with pytest.raises(Gait2HipInputError, match="which vertical-force column") as info:
        vertical_grf_columns(list(g2392["grf"].columns), file="walk_grf.mot")
    assert info.value.column == "ground_force_vy" and "ExternalLoads XML" in str(info.value)
    assert vertical_grf_columns(list(g2392["grf"].columns), loads_xml=g2392["xml"]) == {
        "right": "ground_force_vy",
        "left": "1_ground_force_vy",
    }


def test_trial_too_short_for_one_cycle(g2392: dict) -> None:
    short = g2392["angles"].loc[0.5:1.5]
    with pytest.raises(Gait2HipInputError, match="too short for one complete gait cycle") as info:
        find_cycles(short, grf=g2392["grf"], loads_xml=g2392["xml"], file="short_ik.mot")
    assert info.value.file == "short_ik.mot"


def test_no_heel_strike_found(g2392: dict) -> None:
    flat = g2392["grf"].copy()
    flat[:] = 0.0
    with pytest.raises(Gait2HipInputError, match="no heel strike found") as info:
        find_cycles(g2392["angles"], grf=flat, loads_xml=g2392["xml"], grf_file="grf.mot")
    assert info.value.file == "grf.mot" and info.value.column == "ground_force_vy"
    standing = g2392["angles"].copy()
    standing[:] = 5.0
    with pytest.raises(Gait2HipInputError, match="no heel strike found"):
        find_cycles(standing, file="static.mot")


def test_contact_events_noise_handling() -> None:
    time = np.arange(0, 3, 0.001)
    force = np.where((time % 1.0) < 0.6, 700.0, 0.0)
    force[(time > 0.75) & (time < 0.752)] = 40.0  # a 2-ms spike in swing: not a step
    force[(time > 0.3) & (time < 0.31)] = 10.0  # a 10-ms dip in stance: not a toe-off
    strikes, offs = contact_events(time, force)
    np.testing.assert_allclose(strikes, [1.0, 2.0], atol=0.002)  # t=0 is not a heel strike
    np.testing.assert_allclose(offs, [0.6, 1.6, 2.6], atol=0.002)
    # reaction recorded negative: flipped
    grf = pd.DataFrame({"ground_force_r_vy": -force}, index=pd.Index(time, name="time"))
    np.testing.assert_allclose(heel_strikes_from_grf(grf)["right"], [1.0, 2.0], atol=0.002)


def test_cycles_from_heel_strikes_filters_implausible_strides() -> None:
    cycles = cycles_from_heel_strikes(np.array([0.1, 1.2, 1.5, 2.6, 6.0]), side="left", method="grf", t_max=5)
    assert cycles == [GaitCycle("left", 0.1, 1.2, "grf"), GaitCycle("left", 1.5, 2.6, "grf")]


def test_time_normalize() -> None:
    time = np.linspace(0, 2, 121)
    values = np.stack([np.sin(time), time**2], axis=1)
    out = time_normalize(time, values, 0.3, 1.5, 101)
    grid = np.linspace(0.3, 1.5, 101)
    assert out.shape == (101, 2)
    np.testing.assert_allclose(out[:, 0], np.sin(grid), atol=1e-6)
    np.testing.assert_allclose(out[:, 1], grid**2, atol=1e-9)
    assert time_normalize(time, values[:, 0], 0.0, 2.0, 11).shape == (11,)
    with pytest.raises(Gait2HipInputError, match="outside the data"):
        time_normalize(time, values, 1.0, 2.5, file="a.mot")
    with pytest.raises(Gait2HipInputError, match="strictly increasing"):
        time_normalize(time[::-1], values, 0.5, 1.0)


def test_grf_support_fraction_flags_a_foot_off_the_plates(g2392: dict, examples: Path) -> None:
    right = GaitCycle("right", 0.618, 1.853, "grf")
    support = grf_support_fraction(g2392["grf"], right, mass_kg=72.6, loads_xml=g2392["xml"])
    assert 0.7 < support < 0.9
    # README: in the Rajagopal trial the left foot is off the plates before ~0.43 s
    grf = read_storage(examples / "rajagopal-walk/ExpData/grf_walk.mot").data
    assert grf_support_fraction(grf, GaitCycle("right", 0.268, 1.412, "grf"), mass_kg=85.07) < 0.05
    assert grf_support_fraction(grf, GaitCycle("left", 0.8365, 1.98, "grf"), mass_kg=85.07) > 0.7


def test_no_heel_strike_message_reads_well() -> None:
    time = np.arange(0, 3, 0.01)
    flat = pd.DataFrame({c: np.full(len(time), 5.0) for c in INPUT_ANGLES}, index=time)
    with pytest.raises(Gait2HipInputError, match="no heel strike found: the foot never swings") as info:
        find_cycles(flat, sides=("right",))
    assert "the the" not in str(info.value)
