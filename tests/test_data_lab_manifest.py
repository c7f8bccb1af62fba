"""A lab folder's manifest.csv (gait2hip.data.lab_manifest): every row and file checked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gait2hip.data.lab_manifest import read_manifest
from gait2hip.errors import Gait2HipInputError


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (dict(mass_kg="0"), "mass_kg", "missing or ≤ 0"),
        (dict(mass_kg=""), "mass_kg", "missing or ≤ 0"),
        (dict(mass_kg="-3"), "mass_kg", "missing or ≤ 0"),
        (dict(ik="absent.mot"), "ik", "not found"),
        (dict(weight="70"), "weight", "unknown manifest column"),
        (dict(height_m="tall"), "height_m", "not a number"),
    ],
)
def test_bad_manifests(tmp_path: Path, row: dict, column: str, message: str) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    for name in ("walk_ik.mot", "walk_id.sto"):  # only their presence is checked here
        (folder / name).write_text("placeholder\n")
    base = dict(subject="s1", mass_kg="70", ik="walk_ik.mot", id="walk_id.sto", forces="")
    pd.DataFrame([base]).to_csv(folder / "manifest.csv", index=False)
    assert read_manifest(folder)["ik"].tolist() == ["walk_ik.mot"]  # the good row passes
    base.update(row)
    pd.DataFrame([base]).to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(Gait2HipInputError, match=message) as info:
        read_manifest(folder)
    assert info.value.column == column and info.value.file == str(folder / "manifest.csv")


def test_no_manifest(tmp_path: Path) -> None:
    with pytest.raises(Gait2HipInputError, match=r"no manifest\.csv") as info:
        read_manifest(tmp_path)
    assert info.value.file == str(tmp_path)
