"""The embedded real dataset fukuchi2018: loader, contents, contralateral shift, regeneration, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait2hip.data import MOMENTS_R, MUSCLE_GROUPS_R, GaitDataset, load_dataset
from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.data.fukuchi import ANG_COLUMNS, EMBEDDED_PATH, convert, find_files, read_table, repair
from gait2hip.errors import Gait2HipInputError


@pytest.fixture(scope="module")
def real() -> GaitDataset:
    return load_dataset("fukuchi2018")


def test_loader_shapes_units_and_no_force_columns(real: GaitDataset) -> None:
    assert real.X.shape == (178, 101, 10) and real.Y.shape == (178, 101, 3)
    assert real.input_columns == INPUT_ANGLES and real.input_units == ("deg",) * 10
    assert real.target_columns == MOMENTS_R and real.target_units == ("Nm/kg",) * 3
    assert not set(MUSCLE_GROUPS_R) & set(real.target_columns)  # absent, not zero-filled
    assert np.isfinite(real.X).all() and np.isfinite(real.Y).all()
    assert real.attrs["simulated"] is False and "CC BY 4.0" in real.attrs["license"]
    assert len(real.subjects) == 30
    assert real.meta["side"].value_counts().to_dict() == {"right": 89, "left": 89}
    assert set(real.meta["cadence_label"]) == {"slow", "med", "fast"}
    # walking in degrees and Nm/kg: knee flexes ~60°, hip extensor moment peaks ~ -0.5..-1.8 Nm/kg
    knee = real.X[:, :, INPUT_ANGLES.index("knee_angle_r")]
    assert 45 < np.median(np.ptp(knee, axis=1)) < 75
    assert -2.0 < real.Y[:, :, 0].min() < -0.3


def test_unknown_mass_is_allowed_only_per_kg(real: GaitDataset) -> None:
    assert real.meta["mass_kg"].isna().all()
    with pytest.raises(Gait2HipInputError) as info:
        real.denormalized_by_mass()
    assert info.value.column == "mass_kg"
    with pytest.raises(Gait2HipInputError):
        GaitDataset(**{**_fields(real), "target_units": ("Nm",) * 3})


def _fields(ds: GaitDataset) -> dict:
    return dict(
        X=ds.X,
        Y=ds.Y,
        input_columns=ds.input_columns,
        target_columns=ds.target_columns,
        input_units=ds.input_units,
        target_units=ds.target_units,
        meta=ds.meta,
        attrs={},
    )


def test_contralateral_leg_is_phase_shifted(real: GaitDataset) -> None:
    """At a cycle's heel strike the other leg trails: its hip is extended, not flexed like this one's."""
    flex_r = real.X[:, 0, INPUT_ANGLES.index("hip_flexion_r")]
    flex_l = real.X[:, 0, INPUT_ANGLES.index("hip_flexion_l")]
    assert (flex_r - flex_l > 15).all()
    # the two cycles of one file see the same legs: the left cycle's own hip, shifted by the right
    # cycle's contralateral heel strike, is the right cycle's contralateral hip
    shifts = real.attrs["contralateral_heel_strike_percent"]
    from gait2hip.data.conventions import shift_cycle

    right = real.select(sides=["right"])
    for i in range(0, len(right), 17):
        trial = right.meta["trial_id"].iloc[i]
        j = int(np.flatnonzero(real.meta["trial_id"] == trial.replace("_right", "_left"))[0])
        own_left = real.X[j, :, INPUT_ANGLES.index("hip_flexion_r")]
        np.testing.assert_allclose(
            right.X[i, :, INPUT_ANGLES.index("hip_flexion_l")],
            shift_cycle(own_left, shifts[trial]),
            atol=1e-4,
        )


def test_shift_estimates_are_consistent_and_near_half_a_cycle(real: GaitDataset, shared: Path) -> None:
    from gait2hip.data.references import vanderzee_curves

    shifts = real.attrs["contralateral_heel_strike_percent"]
    values = np.array(list(shifts.values()))
    assert 49.0 < values.mean() < 51.0 and values.min() > 45.0 and values.max() < 55.0
    # estimated independently per leg, the right→left and left→right shifts add up to one cycle
    for trial, value in shifts.items():
        if trial.endswith("_right"):
            assert abs(value + shifts[trial.replace("_right", "_left")] - 100.0) <= 1.0
    # van der Zee measured both feet at once: left heel strike at 48–50 % of the right cycle
    measured = [
        float(vanderzee_curves(shared / "reference" / "vanderzee2022", speed=s)["left_heel_strike_percent"])
        for s in (0.7, 1.1, 1.4, 1.8)
    ]
    assert all(abs(m - values.mean()) < 2.5 for m in measured), measured


def test_embedded_file_equals_a_fresh_conversion(real: GaitDataset, shared: Path) -> None:
    fresh = convert(shared / "real" / "fukuchi2018")
    np.testing.assert_array_equal(fresh.X, real.X)
    np.testing.assert_array_equal(fresh.Y, real.Y)
    pd.testing.assert_frame_equal(fresh.meta, real.meta)
    assert fresh.attrs["contralateral_heel_strike_percent"] == real.attrs["contralateral_heel_strike_percent"]


def test_missing_values_are_repaired_or_dropped_with_a_note(real: GaitDataset) -> None:
    notes: list[str] = []
    inner = repair(np.array([1.0, np.nan, 3.0, 4.0]), label="f.tsv C", notes=notes)
    first = repair(np.array([np.nan, 2.0, 3.0, 4.0]), label="f.tsv C", notes=notes)
    assert inner[1] == 2.0 and first[0] == 4.0
    assert repair(np.array([np.nan, np.nan, 3.0, 4.0]), label="f.tsv C", notes=notes) is None
    assert len(notes) == 3 and all("f.tsv C" in n for n in notes)
    # the source's all-NaN right leg (WBDS15 fast) costs both cycles of that file, and says so
    assert not real.meta["trial_id"].str.startswith("WBDS15walkOF").any()
    assert any("WBDS15walkOF_left: cycle dropped" in n for n in real.attrs["notes"])


@pytest.fixture()
def copy_of_two(shared: Path, tmp_path: Path) -> Path:
    for name in ("WBDS01walkOCang.tsv", "WBDS01walkOCknt.tsv", "WBDS02walkOCang.tsv", "WBDS02walkOCknt.tsv"):
        shutil.copy(shared / "real" / "fukuchi2018" / name, tmp_path / name)
    return tmp_path


def test_a_small_folder_converts(copy_of_two: Path) -> None:
    ds = convert(copy_of_two)
    assert len(ds) == 4 and ds.subjects == ["WBDS01", "WBDS02"]


def test_bad_input_names_file_column_and_fix(copy_of_two: Path) -> None:
    path = copy_of_two / "WBDS01walkOCang.tsv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1].replace("RKneeAngleZ", "RKneeZ"), *lines[2:]]) + "\n")
    with pytest.raises(Gait2HipInputError) as info:
        read_table(path, columns=ANG_COLUMNS)
    assert info.value.file is not None and Path(info.value.file).name == path.name
    assert info.value.column == "RKneeAngleZ" and info.value.fix
    path.write_text("\n".join(lines[:-1]) + "\n")  # a row short
    with pytest.raises(Gait2HipInputError) as info:
        read_table(path, columns=ANG_COLUMNS)
    assert "100 rows" in str(info.value)
    cells = lines[5].split("\t")
    cells[1] = "abc"  # row 3 (the fourth data row), RHipAngleX
    path.write_text("\n".join([*lines[:5], "\t".join(cells), *lines[6:]]) + "\n")
    with pytest.raises(Gait2HipInputError) as info:
        read_table(path, columns=ANG_COLUMNS)
    assert info.value.column == "RHipAngleX" and "'abc'" in str(info.value)
    (copy_of_two / "WBDS02walkOCknt.tsv").unlink()
    with pytest.raises(Gait2HipInputError) as info:
        find_files(copy_of_two)
    assert "WBDS02walkOCknt.tsv" in str(info.value.file)
    with pytest.raises(Gait2HipInputError) as info:
        find_files(copy_of_two / "nowhere")
    assert "--shared" in info.value.fix


def test_embedded_path_is_in_the_package() -> None:
    assert EMBEDDED_PATH.is_file() and EMBEDDED_PATH.stat().st_size < 2_000_000
    with np.load(EMBEDDED_PATH, allow_pickle=False) as npz:  # no pickled objects
        assert all(npz[k].dtype.kind != "O" for k in npz.files)


def test_cli_inspect_and_regenerate(shared: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gait2hip.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["data", "inspect", "fukuchi2018"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "embedded real dataset" in result.output and "hip_rotation_r_moment" in result.output
    assert "addbrev_r" not in result.output and "body mass unknown" in result.output
    out = tmp_path / "fukuchi2018.npz"
    args = ["data", "fukuchi2018", "--shared", str(shared), "--out", str(out), "--no-evidence"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(GaitDataset.load(out).X, load_dataset("fukuchi2018").X)
    result = runner.invoke(app, ["data", "fukuchi2018", "--shared", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
