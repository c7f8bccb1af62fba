"""gait2hip.data.angles: the 10 angles in degrees from real IK files; units and names checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import gait2392_angles, walking_table

from gait2hip.data.angles import angles_from_table, canonical_coordinate_name, guess_angle_unit, read_angles
from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage


def test_gait2392_ik_in_degrees_with_knee_flip(examples: Path) -> None:
    path = examples / "gait2392-subject01/subject01_walk1_ik.mot"
    with pytest.warns(UserWarning, match="gait2392 convention"):
        angles = read_angles(path)
    assert tuple(angles.columns) == INPUT_ANGLES
    raw = read_storage(path).data
    np.testing.assert_allclose(angles["hip_flexion_r"], raw["hip_flexion_r"])
    np.testing.assert_allclose(angles["knee_angle_r"], -raw["knee_angle_r"])
    assert angles.attrs["knee_sign_flipped"] is True and angles.attrs["source_unit"] == "deg"
    assert angles["knee_angle_r"].max() == pytest.approx(70.262, abs=1e-3)


@pytest.mark.filterwarnings("ignore:.*nColumns=40")
def test_moco_state_paths_in_radians(examples: Path) -> None:
    angles = read_angles(examples / "moco-3d-walking/coordinates.sto")
    raw = read_storage(examples / "moco-3d-walking/coordinates.sto").data
    np.testing.assert_allclose(
        angles["hip_flexion_r"], np.degrees(raw["/jointset/hip_r/hip_flexion_r/value"])
    )
    # the patellofemoral 'knee_angle_r_beta' must not be mistaken for the knee angle
    np.testing.assert_allclose(
        angles["knee_angle_r"], np.degrees(raw["/jointset/walker_knee_r/knee_angle_r/value"])
    )
    assert angles.attrs == {
        "source_unit": "rad",
        "knee_sign_flipped": False,
        "file": str(examples / "moco-3d-walking/coordinates.sto"),
        "cycles": False,
    }


def test_cmc_kinematics_declared_radians_but_in_degrees_is_refused(examples: Path) -> None:
    path = examples / "gait2392-subject01/OutputReference/ResultsCMC/subject01_walk1_Kinematics_q.sto"
    with pytest.raises(
        Gait2HipInputError, match="declared in radians but their values look like degrees"
    ) as info:
        read_angles(path)
    assert info.value.file == str(path) and info.value.column in INPUT_ANGLES
    assert "inDegrees=yes" in str(info.value)
    # the user can override the wrong header explicitly
    with pytest.warns(UserWarning):
        fixed = read_angles(path, in_degrees=True)
    assert fixed["knee_angle_r"].max() > 60


def test_radians_declared_as_degrees_is_refused() -> None:
    with pytest.raises(
        Gait2HipInputError, match="declared in degrees but their values look like radians"
    ) as info:
        angles_from_table(walking_table(degrees=False), in_degrees=True, file="trial.mot")
    assert info.value.file == "trial.mot" and info.value.column in INPUT_ANGLES


def test_unit_guess() -> None:
    assert guess_angle_unit(walking_table()[list(INPUT_ANGLES)]) == "deg"
    assert guess_angle_unit(walking_table(degrees=False)[list(INPUT_ANGLES)]) == "rad"
    assert guess_angle_unit({"hip_flexion_r": [4.0, 5.0]}) is None
    assert guess_angle_unit({"hip_flexion_r": [4.0, 5.0], "knee_angle_r": [0.1, 1.1]}) == "rad"
    undeclared = angles_from_table(walking_table(degrees=False), in_degrees=None)
    np.testing.assert_allclose(undeclared["knee_angle_r"], walking_table()["knee_angle_r"])


def test_undeclared_and_ambiguous_unit_is_refused() -> None:
    table = walking_table() / 12  # every |value| between pi and 2 pi, knee range 5
    with pytest.raises(Gait2HipInputError, match="not declared"):
        angles_from_table(table, in_degrees=None, file="x.csv")


def test_misspelt_column_suggests_the_closest_name() -> None:
    table = walking_table().rename(columns={"hip_adduction_l": "hip_aduction_l"})
    with pytest.raises(Gait2HipInputError, match="closest column is 'hip_aduction_l'") as info:
        angles_from_table(table, in_degrees=True, file="lab/trial.mot")
    assert info.value.column == "hip_adduction_l" and info.value.file == "lab/trial.mot"


def test_missing_column() -> None:
    with pytest.raises(Gait2HipInputError, match="missing") as info:
        angles_from_table(walking_table().drop(columns=["ankle_angle_l"]), in_degrees=True, file="t.mot")
    assert info.value.column == "ankle_angle_l"


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_is_refused(bad: float) -> None:
    table = walking_table()
    table.iloc[7, 2] = bad
    with pytest.raises(Gait2HipInputError, match="NaN or infinite") as info:
        angles_from_table(table, in_degrees=True, file="t.mot")
    assert info.value.column == "hip_rotation_r" and info.value.file == "t.mot"


def test_explicit_knee_sign_and_mixed_knees() -> None:
    table = walking_table()
    kept = angles_from_table(table, in_degrees=True, knee_flexion_sign="positive")
    assert not kept.attrs["knee_sign_flipped"]
    flipped = angles_from_table(table, in_degrees=True, knee_flexion_sign="negative")
    np.testing.assert_allclose(flipped["knee_angle_r"], -table["knee_angle_r"])
    mixed = table.copy()
    mixed["knee_angle_l"] = -mixed["knee_angle_l"]
    with pytest.raises(Gait2HipInputError, match="mixed") as info:
        angles_from_table(mixed, in_degrees=True, file="m.mot")
    assert info.value.column == "knee_angle_r"


def test_canonical_names() -> None:
    assert canonical_coordinate_name("/jointset/hip_r/hip_flexion_r/value") == "hip_flexion_r"
    assert canonical_coordinate_name(" knee_angle_r ") == "knee_angle_r"


def test_unsupported_suffix(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(Gait2HipInputError, match="unsupported"):
        read_angles(tmp_path / "x.xlsx")


def test_impossible_angles_are_refused() -> None:
    table = walking_table()
    table.loc[table.index[5], "hip_rotation_l"] = 400.0
    with pytest.raises(Gait2HipInputError, match="beyond any joint's range") as info:
        angles_from_table(table, in_degrees=True, file="t.mot")
    assert info.value.column == "hip_rotation_l"


def test_undeclared_radians_are_assumed_loudly(examples: Path, tmp_path: Path) -> None:
    path = tmp_path / "rad.csv"
    np.radians(gait2392_angles(examples)).to_csv(path)
    with pytest.warns(UserWarning, match="UNIT ASSUMED .* RADIANS"):
        table = read_angles(path)
    assert table["knee_angle_r"].max() == pytest.approx(70.3, abs=0.1)
