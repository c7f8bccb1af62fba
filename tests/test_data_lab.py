"""gait2hip.data.lab: lab folders built from the shared OpenSim examples → gait cycles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait2hip.data import load_dataset
from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_L, MOMENTS_R, MUSCLE_GROUPS_L, MUSCLE_GROUPS_R
from gait2hip.data.lab import load_lab_folder
from gait2hip.data.muscle_mapping import choose_mapping
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage, write_storage

G2392 = "gait2392-subject01"
CMC_FORCES = "OutputReference/ResultsCMC/subject01_walk1_Actuation_force.sto"


def _link(folder: Path, source: Path, name: str | None = None) -> str:
    """Symlink a shared file into the lab folder (never copy shared inputs)."""
    target = folder / (name or source.name)
    if not target.exists():
        os.symlink(source, target)
    return target.name


@pytest.fixture(scope="module")
def g2392_id(examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inverse dynamics of the gait2392 example over 0.5-2.5 s (the reference covers 0.4-1.6 s only)."""
    osim = pytest.importorskip("opensim", reason="opensim is not installed (pip install 'gait2hip[sim]')")

    osim.Logger.setLevelString("error")
    osim.Logger.removeFileSink()
    src = examples / G2392
    out = tmp_path_factory.mktemp("id")
    tool = osim.InverseDynamicsTool(str(src / "subject01_Setup_InverseDynamics.xml"))
    tool.setModelFileName(str(src / "subject01_simbody.osim"))
    tool.setCoordinatesFileName(str(src / "subject01_walk1_ik.mot"))
    tool.setExternalLoadsFileName(str(src / "subject01_walk1_grf.xml"))
    tool.setStartTime(0.5)
    tool.setEndTime(2.5)
    tool.setResultsDir(str(out))
    tool.setOutputGenForceFileName("subject01_walk1_id.sto")
    assert tool.run()
    return out / "subject01_walk1_id.sto"


def _g2392_folder(
    folder: Path, examples: Path, id_file: Path, *, grf: bool = True, forces: bool = True
) -> Path:
    src = examples / G2392
    folder.mkdir(parents=True, exist_ok=True)
    row = dict(
        subject="subject01",
        mass_kg=72.6,
        height_m=1.8034,
        cohort="healthy",
        cadence="",
        ik=_link(folder, src / "subject01_walk1_ik.mot"),
        id=_link(folder, id_file),
    )
    if forces:
        row["forces"] = _link(folder, src / CMC_FORCES)
    if grf:
        row["grf"] = _link(folder, src / "subject01_walk1_grf.mot")
        _link(folder, src / "subject01_walk1_grf.xml")  # found beside the GRF: maps columns to feet
    pd.DataFrame([row]).to_csv(folder / "manifest.csv", index=False)
    return folder


def test_gait2392_lab_folder_with_grf(examples: Path, g2392_id: Path, tmp_path: Path) -> None:
    folder = _g2392_folder(tmp_path / "lab", examples, g2392_id)
    ds = load_lab_folder(folder)
    # README: the only complete cycle covered by IK, GRF and CMC forces is RIGHT 0.618 -> 1.853 s
    assert len(ds) == 1 and ds.n_timepoints == 101
    assert ds.target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    assert ds.target_units == ("N",) * 14 + ("Nm",) * 3
    meta = ds.meta.iloc[0]
    assert meta["side"] == "right" and meta["subject_id"] == "subject01" and meta["mass_kg"] == 72.6
    assert meta["stride_time_s"] == pytest.approx(1.235, abs=0.004)
    assert meta["cadence_spm"] == pytest.approx(120 / 1.235, abs=0.5)
    assert "events: grf" in meta["source"] and meta["trial_id"] == "subject01_walk1_ik_R1"
    # the values are the files' values at the cycle's start and end
    start, end = 0.618, 1.852
    ik = read_storage(examples / G2392 / "subject01_walk1_ik.mot").data
    hip = np.interp([start, end], ik.index, ik["hip_flexion_r"])
    np.testing.assert_allclose(ds.X[0, [0, -1], INPUT_ANGLES.index("hip_flexion_r")], hip, atol=0.2)
    knee = -np.interp(start, ik.index, ik["knee_angle_r"])  # gait2392 knee sign flipped
    assert ds.X[0, 0, INPUT_ANGLES.index("knee_angle_r")] == pytest.approx(knee, abs=0.5)
    cmc = read_storage(examples / G2392 / CMC_FORCES).data
    glmax = cmc[["glut_max1_r", "glut_max2_r", "glut_max3_r"]].sum(axis=1)
    mid = start + 0.5 * (end - start)
    glmax_mid = ds.Y[0, 50, MUSCLE_GROUPS_R.index("glmax_r")]
    assert glmax_mid == pytest.approx(np.interp(mid, glmax.index, glmax), rel=0.02, abs=2.0)
    ident = read_storage(g2392_id).data
    np.testing.assert_allclose(
        ds.Y[0, 50, 14], np.interp(mid, ident.index, ident["hip_flexion_r_moment"]), rtol=0.02, atol=0.5
    )
    assert any("gait2392 convention" in note for note in ds.attrs["notes"])
    assert load_dataset(folder).target_columns == ds.target_columns  # via the generic entry point
    assert (
        load_dataset(folder / "manifest.csv", hips="both").target_columns[17:] == MUSCLE_GROUPS_L + MOMENTS_L
    )


def test_left_cycles_from_kinematics_only(examples: Path, g2392_id: Path, tmp_path: Path) -> None:
    folder = _g2392_folder(tmp_path / "lab", examples, g2392_id, grf=False, forces=False)
    ds = load_lab_folder(folder, side="left")
    # force plate: left heel strikes 1.247 and 2.460 s; kinematics land within a few hundredths
    assert len(ds) == 1 and ds.target_columns == MOMENTS_L and ds.target_units == ("Nm",) * 3
    assert ds.meta["side"].tolist() == ["left"] and "events: kinematics" in ds.meta["source"].iloc[0]
    assert ds.meta["stride_time_s"].iloc[0] == pytest.approx(1.213, abs=0.05)
    assert any("from kinematics" in note for note in ds.attrs["notes"])
    right = load_lab_folder(folder, side="right")  # force plate: 0.618 -> 1.853 s
    assert len(right) == 1 and right.target_columns == MOMENTS_R
    assert right.meta["stride_time_s"].iloc[0] == pytest.approx(1.235, abs=0.03)


def test_moco_example_has_no_complete_cycle(examples: Path, tmp_path: Path) -> None:
    src = examples / "moco-3d-walking"
    folder = tmp_path / "moco"
    folder.mkdir()
    pd.DataFrame(
        [
            dict(
                subject="subject_walk",
                mass_kg=85.27,
                height_m=1.829,
                ik=_link(folder, src / "coordinates.sto"),
                id=_link(folder, src / "id_walk.sto"),
                grf=_link(folder, src / "grf_walk.mot"),
            )
        ]
    ).to_csv(folder / "manifest.csv", index=False)
    # README: kinematics span 0.45-1.799 s; right heel strikes 0.267, 1.4115; left 0.836 only
    with pytest.raises(Gait2HipInputError, match="too short") as info:
        load_lab_folder(folder)
    assert "0.450" in str(info.value) and "1.799" in str(info.value)
    assert info.value.file.endswith("coordinates.sto")


def test_mapping_csv_in_the_folder(examples: Path, tmp_path: Path) -> None:
    """A lab with renamed muscles works once muscle_groups.csv maps them."""
    src = examples / G2392
    folder = tmp_path / "lab"
    folder.mkdir()
    cmc = read_storage(src / CMC_FORCES)
    cmc.data = cmc.data.rename(columns={"glut_max1_r": "gmax_a_r"})
    write_storage(folder / "forces.sto", cmc)
    table = choose_mapping(list(read_storage(src / CMC_FORCES).columns), side="right")
    rows = [(g, "gmax_a_r" if m == "glut_max1_r" else m) for g, ms in table.items() for m in ms]
    pd.DataFrame(rows, columns=["group", "muscle"]).to_csv(folder / "muscle_groups.csv", index=False)
    pd.DataFrame(
        [
            dict(
                subject="s1",
                mass_kg=72.6,
                ik=_link(folder, src / "subject01_walk1_ik.mot"),
                forces="forces.sto",
                grf=_link(folder, src / "subject01_walk1_grf.mot"),
                loads=_link(folder, src / "subject01_walk1_grf.xml"),
                cadence="med",
            )
        ]
    ).to_csv(folder / "manifest.csv", index=False)
    ds = load_lab_folder(folder)
    assert ds.target_columns == MUSCLE_GROUPS_R and len(ds) == 1
    assert ds.meta["cadence_label"].iloc[0] == "med" and ds.meta["cadence_spm"].iloc[0] == 115.0
    (folder / "muscle_groups.csv").write_text("group,muscle\nglutmax_r,gmax_a_r\n")
    with pytest.raises(Gait2HipInputError, match="unknown muscle group 'glutmax_r'") as info:
        load_lab_folder(folder)
    assert info.value.column == "group" and "glmax_r" in str(info.value)


def test_heel_strikes_from_c3d_events(examples: Path, tmp_path: Path) -> None:
    ezc3d = pytest.importorskip("ezc3d", reason="ezc3d is not installed (pip install 'gait2hip[c3d]')")
    src = examples / G2392
    folder = tmp_path / "lab"
    folder.mkdir()
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [60]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = ("RHEE",)
    c3d["data"]["points"] = np.ones((4, 1, 150))
    c3d.add_parameter("EVENT", "CONTEXTS", ["Right", "Right", "Left"])
    c3d.add_parameter("EVENT", "LABELS", ["Foot Strike", "Foot Strike", "Foot Strike"])
    c3d.add_parameter("EVENT", "TIMES", np.array([[0.0, 0.0, 0.0], [0.62, 1.85, 1.25]]))
    c3d.add_parameter("EVENT", "USED", 3)
    c3d.write(str(folder / "walk1.c3d"))
    pd.DataFrame(
        [
            dict(
                subject="subject01",
                mass_kg=72.6,
                ik=_link(folder, src / "subject01_walk1_ik.mot"),
                forces=_link(folder, src / CMC_FORCES),
                events="walk1.c3d",
            )
        ]
    ).to_csv(folder / "manifest.csv", index=False)
    ds = load_lab_folder(folder)
    assert len(ds) == 1 and "events: lab events" in ds.meta["source"].iloc[0]
    assert ds.meta["stride_time_s"].iloc[0] == pytest.approx(1.23, abs=1e-6)


def test_several_trials_and_subjects(examples: Path, tmp_path: Path) -> None:
    src = examples / G2392
    folder = tmp_path / "lab"
    folder.mkdir()
    files = dict(
        ik=_link(folder, src / "subject01_walk1_ik.mot"),
        forces=_link(folder, src / CMC_FORCES),
        grf=_link(folder, src / "subject01_walk1_grf.mot"),
        loads=_link(folder, src / "subject01_walk1_grf.xml"),
    )
    rows = [
        dict(subject=s, mass_kg=m, cadence=c, trial=f"{s}_{c}", **files)
        for s, m in (("a", 60.0), ("b", 90.0))
        for c in ("slow", "120")
    ]
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    reports: list[tuple[int, int]] = []
    ds = load_lab_folder(folder, on_progress=lambda done, total: reports.append((done, total)))
    assert reports == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]  # one report per trial read
    assert len(ds) == 4 and ds.subjects == ["a", "b"]
    assert ds.meta["trial_id"].tolist() == ["a_slow_R1", "a_120_R1", "b_slow_R1", "b_120_R1"]
    assert ds.meta["cadence_label"].tolist() == ["slow", "", "slow", ""]
    assert ds.meta["cadence_spm"].tolist() == [78.0, 120.0, 78.0, 120.0]
    np.testing.assert_allclose(ds.Y[0], ds.Y[2])  # same files, same raw newtons
    per_kg = ds.normalized_by_mass()
    np.testing.assert_allclose(per_kg.Y[0] * 60.0, per_kg.Y[2] * 90.0, rtol=1e-5)


def test_both_hips_layout(examples: Path, g2392_id: Path, tmp_path: Path) -> None:
    folder = _g2392_folder(tmp_path / "lab", examples, g2392_id)
    both = load_lab_folder(folder, hips="both")
    assert both.target_columns == MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L
    assert both.target_units == (("N",) * 14 + ("Nm",) * 3) * 2
    own = load_lab_folder(folder)
    np.testing.assert_array_equal(both.Y[:, :, :17], own.Y)
    cmc = read_storage(examples / G2392 / CMC_FORCES).data
    glmed_l = cmc[["glut_med1_l", "glut_med2_l", "glut_med3_l"]].sum(axis=1)
    start, end = 0.618, 1.852
    mid = start + 0.5 * (end - start)
    assert both.Y[0, 50, 17 + MUSCLE_GROUPS_R.index("glmed_r")] == pytest.approx(
        np.interp(mid, glmed_l.index, glmed_l), rel=0.02, abs=2.0
    )
    assert both.meta["side"].tolist() == ["right"]


def test_bad_target_files(examples: Path, tmp_path: Path) -> None:
    src = examples / G2392
    folder = tmp_path / "lab"
    folder.mkdir()
    ident = read_storage(src / "OutputReference/ResultsInverseDynamics/InverseDynamicsOutput.sto")
    ident.data = ident.data.rename(columns={"hip_adduction_r_moment": "hip_adduction_r_torque"})
    write_storage(folder / "id.sto", ident)
    pd.DataFrame(
        [dict(subject="s1", mass_kg=70, ik=_link(folder, src / "subject01_walk1_ik.mot"), id="id.sto")]
    ).to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="hip moment column missing") as info:
        load_lab_folder(folder)
    assert info.value.column == "hip_adduction_r_moment" and info.value.file == str(folder / "id.sto")
    assert "hip_adduction_r_torque" in str(info.value)
    forces = read_storage(src / CMC_FORCES)
    forces.data.iloc[100, forces.columns.index("psoas_r")] = np.nan
    write_storage(folder / "forces.sto", forces)
    pd.DataFrame(
        [
            dict(
                subject="s1",
                mass_kg=70,
                ik=_link(folder, src / "subject01_walk1_ik.mot"),
                forces="forces.sto",
            )
        ]
    ).to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="NaN or infinite") as info:
        load_lab_folder(folder)
    assert info.value.column == "psoas_r" and info.value.file == str(folder / "forces.sto")


def test_cycle_with_a_foot_off_the_plates_is_dropped(examples: Path, tmp_path: Path) -> None:
    src = examples / G2392
    folder = tmp_path / "lab"
    folder.mkdir()
    grf = read_storage(src / "subject01_walk1_grf.mot")
    off_plate = (grf.data.index > 1.5) & (grf.data.index < 1.6)  # left stance, right swing
    grf.data.loc[off_plate, "1_ground_force_vy"] = 0.0
    write_storage(folder / "grf.mot", grf)
    _link(folder, src / "subject01_walk1_grf.xml", "grf.xml")
    row = dict(
        subject="s1",
        mass_kg=72.6,
        ik=_link(folder, src / "subject01_walk1_ik.mot"),
        forces=_link(folder, src / CMC_FORCES),
        grf="grf.mot",
    )
    pd.DataFrame([row]).to_csv(folder / "manifest.csv", index=False)
    with pytest.raises(Gait2HipInputError, match="foot off the force plates") as info:
        load_lab_folder(folder)
    assert info.value.file == str(folder / "grf.mot")
    # beside a trial whose cycles are on the plates, that trial is skipped with a note, not the folder
    _link(folder, src / "subject01_walk1_grf.mot", "grf_ok.mot")
    _link(folder, src / "subject01_walk1_grf.xml", "grf_ok.xml")
    good = dict(row, subject="s2", grf="grf_ok.mot")
    pd.DataFrame([row, good]).to_csv(folder / "manifest.csv", index=False)
    data = load_lab_folder(folder)
    assert set(data.meta["subject_id"]) == {"s2"} and len(data) >= 1
    (skipped,) = data.attrs["skipped_trials"]
    assert "line 2" in skipped and "force plates" in skipped and skipped in data.attrs["notes"]


def test_contact_from_a_joint_reaction_table() -> None:
    from gait2hip.data.columns import CONTACT_L, CONTACT_R
    from gait2hip.data.lab import contact_from_table, target_layout

    table = pd.DataFrame(
        {
            "hip_l_on_femur_l_in_femur_l_fx": [300.0],
            "hip_l_on_femur_l_in_femur_l_fy": [-1200.0],
            "hip_l_on_femur_l_in_femur_l_fz": [-400.0],
            "hip_l_on_femur_l_in_pelvis_fx": [100.0],
            "hip_l_on_femur_l_in_pelvis_fy": [-1300.0],
            "hip_l_on_femur_l_in_pelvis_fz": [0.0],
        },
        index=pd.Index([0.5], name="time"),
    )
    out = contact_from_table(table, "left")
    assert tuple(out.columns) == CONTACT_L
    np.testing.assert_allclose(out.iloc[0].to_numpy(), [1300.0, 300, -1200, -400, 100, -1300, 0])
    with pytest.raises(Gait2HipInputError, match="hip contact column missing") as info:
        contact_from_table(table, "right")
    assert "hip_r_on_femur_r_in_femur_r_fx" in str(info.value)
    columns, units = target_layout(side="right", hips="both", forces=False, moments=True, contact=True)
    assert columns == MOMENTS_R + MOMENTS_L + CONTACT_R + CONTACT_L and set(units[6:]) == {"N"}
