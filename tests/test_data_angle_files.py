"""Angle files (gait2hip.data.angle_files): CSV with unit suffixes, NPZ cycles, BOMs, decimal commas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import gait2392_angles, walking_table

from gait2hip.data.angles import read_angles
from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.errors import Gait2HipInputError


def test_csv_with_unit_suffixes(tmp_path: Path) -> None:
    table = walking_table(degrees=False)
    frame = table.rename(columns={c: f"{c}_rad" for c in INPUT_ANGLES}).reset_index()
    frame.to_csv(tmp_path / "a.csv", index=False)
    angles = read_angles(tmp_path / "a.csv")
    np.testing.assert_allclose(angles["hip_flexion_r"], walking_table()["hip_flexion_r"])
    assert angles.attrs["source_unit"] == "rad"
    frame = table.rename(columns={c: f"{c} [deg]" for c in INPUT_ANGLES}).reset_index()
    frame.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="declared in degrees"):
        read_angles(tmp_path / "b.csv")


def test_csv_without_time(tmp_path: Path) -> None:
    walking_table().to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="no time column") as info:
        read_angles(tmp_path / "c.csv")
    assert info.value.column == "time"


def test_npz_cycles_and_table(tmp_path: Path) -> None:
    table = walking_table()[list(INPUT_ANGLES)]
    X = np.stack([table.to_numpy(), table.to_numpy() + 1])
    np.savez(tmp_path / "cycles.npz", X=X, in_cols=np.array(INPUT_ANGLES), x_units=np.array(["deg"] * 10))
    cycles = read_angles(tmp_path / "cycles.npz")
    assert cycles.attrs["cycles"] is True and cycles.index.names == ["cycle", "point"]
    np.testing.assert_allclose(cycles.loc[1]["hip_flexion_r"], table["hip_flexion_r"] + 1)
    np.savez(tmp_path / "flat.npz", X=np.radians(table.to_numpy()), time=table.index.to_numpy())
    flat = read_angles(tmp_path / "flat.npz")
    np.testing.assert_allclose(flat["knee_angle_l"], table["knee_angle_l"])


def test_csv_with_a_byte_order_mark_keeps_its_time_column(examples: Path, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(gait2392_angles(examples).to_csv(), encoding="utf-8-sig")  # Excel's "CSV UTF-8"
    table = read_angles(path)
    assert table.index[0] == pytest.approx(0.5) and table.index.name == "time"


def test_decimal_commas_are_named(examples: Path, tmp_path: Path) -> None:
    path = tmp_path / "comma.csv"
    gait2392_angles(examples).to_csv(path, sep=";", decimal=",")
    with pytest.raises(Gait2HipInputError, match=r"decimal COMMA .*'0,5'"):
        read_angles(path)
