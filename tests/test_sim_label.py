"""Labelling one trial: cycles, dataset layout, QA, output files, the CLI."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gait2hip.data.columns import (
    CONTACT_L,
    CONTACT_R,
    INPUT_ANGLES,
    MOMENTS_L,
    MOMENTS_R,
    MUSCLE_GROUPS_L,
    MUSCLE_GROUPS_R,
)
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


@pytest.fixture(scope="module")
def example(examples):
    folder = examples / "gait2392-subject01"
    return dict(
        model=folder / "subject01_simbody.osim",
        ik=folder / "subject01_walk1_ik.mot",
        grf=folder / "subject01_walk1_grf.mot",
        loads=folder / "subject01_walk1_grf.xml",
    )


@pytest.fixture(scope="module")
def labels(example):
    from gait2hip.sim.label import LabelConfig, label_trial

    return label_trial(**example, config=LabelConfig(exclude_flagged=False))


def test_both_cycles_of_the_example_become_a_dataset(labels):
    dataset = labels.dataset
    assert isinstance(dataset, GaitDataset)
    assert list(dataset.meta["trial_id"]) == ["subject01_walk1_R1", "subject01_walk1_L1"]
    assert list(dataset.meta["side"]) == ["right", "left"]
    # README: right 0.618 → 1.853 s, left 1.247 → 2.460 s (vertical GRF > 20 N).
    np.testing.assert_allclose(dataset.meta["stride_time_s"], [1.235, 1.213], atol=0.01)
    assert dataset.X.shape == (2, 101, 10) and dataset.input_columns == INPUT_ANGLES
    assert dataset.target_columns == (
        MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L + CONTACT_R + CONTACT_L
    )
    assert set(dataset.target_units) == {"N", "Nm"} and dataset.input_units == ("deg",) * 10
    np.testing.assert_allclose(dataset.meta["mass_kg"], 72.6, atol=0.01)  # the model's mass
    assert dataset.meta["height_m"].between(1.75, 1.85).all()  # estimated; the subject is 1.80 m
    # gait2392 knees are flexion-negative: flipped to the release's flexion-positive convention.
    knee = dataset.X[:, :, INPUT_ANGLES.index("knee_angle_r")]
    assert knee.max() > 50 and knee.min() > -15
    forces = dataset.select_targets(MUSCLE_GROUPS_R + MUSCLE_GROUPS_L).Y
    assert (forces >= 0).all() and forces.max() > 500  # iliopsoas / gluteus medius reach ~1 kN


def test_labels_are_the_id_and_so_values_at_the_cycle(labels):
    from gait2hip.data.cycles import time_normalize

    right = labels.dataset.select(sides=["right"])
    row = labels.quality.set_index("trial_id").loc["subject01_walk1_R1"]
    for column in ("hip_flexion_r_moment", "hip_adduction_l_moment"):
        moment = labels.moments[column]
        expected = time_normalize(moment.index.to_numpy(), moment.to_numpy(), row["start_s"], row["end_s"])
        np.testing.assert_allclose(
            right.Y[0, :, right.target_columns.index(column)], expected, rtol=1e-5, atol=1e-4
        )
    contact = labels.contact["hip_r_contact_y"]
    expected = time_normalize(contact.index.to_numpy(), contact.to_numpy(), row["start_s"], row["end_s"])
    np.testing.assert_allclose(
        right.Y[0, :, right.target_columns.index("hip_r_contact_y")], expected, rtol=1e-5, atol=1e-2
    )
    glmax = labels.groups["glmax_r"]
    members = labels.so.muscle_forces[["glut_max1_r", "glut_max2_r", "glut_max3_r"]].sum(axis=1)
    np.testing.assert_allclose(glmax.to_numpy(), members.to_numpy())


def test_quality_record_of_the_example(labels):
    quality = labels.quality
    assert len(quality) == 2
    # Raw IK + force plates without RRA: the residual moments exceed Hicks' 1 % BW·h.
    assert (quality["residual_moment_rms_bwh"] > 0.01).all()
    assert quality["residual_force_rms_bw"].between(0.02, 0.08).all()
    assert (quality["reserve_peak_fraction"] < 0.05).all()
    assert quality["grf_support_bw"].between(0.7, 0.9).all()
    assert quality["flagged"].all()


def test_flagged_cycles_are_excluded_by_default(example):
    from gait2hip.sim.label import label_trial

    labels = label_trial(**example, window=(0.5, 1.9))
    assert labels.dataset is None
    assert list(labels.quality["trial_id"]) == ["subject01_walk1_R1"]


def test_cli_single_trial_writes_sto_qa_and_npz(example, tmp_path):
    from gait2hip.cli import app

    out = tmp_path / "out"
    arguments = ["label", "--out", str(out), "--keep-flagged"]
    for key in ("model", "ik", "grf", "loads"):
        arguments += [f"--{key}", str(example[key])]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "2 cycle(s)" in result.output
    for name in ("id", "so_force", "so_activation", "hip_forces", "hip_contact"):
        assert read_storage(out / f"subject01_walk1_{name}.sto").data.shape[0] > 100
    qa = json.loads((out / "qa.json").read_text())
    assert qa["summary"]["cycles"] == 2 and qa["thresholds"]["residual_force_rms_bw"] == 0.05
    assert len(GaitDataset.load(out / "dataset.npz")) == 2
    # The output folder is a lab folder: gait2hip.data.lab reads the labels back.
    from gait2hip.data.lab import load_lab_folder

    reread = load_lab_folder(out, hips="both")
    assert len(reread) == 1 and reread.target_columns[-3 - 14 : -14] == MOMENTS_L  # right-leg cycles only
    assert reread.target_group("contact") == CONTACT_R + CONTACT_L
    saved = GaitDataset.load(out / "dataset.npz").select(sides=["right"])
    np.testing.assert_allclose(
        reread.select_targets(CONTACT_R).Y, saved.select_targets(CONTACT_R).Y, rtol=1e-4, atol=0.5
    )


def test_cli_bad_input_is_one_clear_line(example, tmp_path):
    from gait2hip.cli import app

    result = CliRunner().invoke(
        app, ["label", "--out", str(tmp_path), "--model", str(example["model"]), "--ik", str(example["ik"])]
    )
    assert result.exit_code == 2
    assert "missing --loads" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        app,
        ["label", "--out", str(tmp_path), "--model", str(example["model"]),
         "--ik", str(tmp_path / "nope.mot"), "--loads", str(example["loads"])],
    )  # fmt: skip
    assert result.exit_code == 2 and "not found" in result.output
    from gait2hip.sim.label import LabelConfig

    with pytest.raises(Gait2HipInputError, match="unknown static-optimisation solver"):
        LabelConfig(solver="cmc")


def test_cli_input_error_leaves_no_empty_folder_and_a_file_as_out_is_refused(example, tmp_path):
    from gait2hip.cli import app

    out = tmp_path / "never-made"
    result = CliRunner().invoke(
        app,
        ["label", "--out", str(out), "--model", str(tmp_path / "missing.osim"),
         "--ik", str(example["ik"]), "--loads", str(example["loads"])],
    )  # fmt: skip
    assert result.exit_code == 2 and "not found" in result.output and not out.exists()
    blocker = tmp_path / "afile"
    blocker.write_text("")
    result = CliRunner().invoke(
        app,
        ["label", "--out", str(blocker), "--model", str(example["model"]),
         "--ik", str(example["ik"]), "--loads", str(example["loads"])],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 2 and "is a file" in result.output and "Traceback" not in result.output
    used = tmp_path / "used"
    used.mkdir()
    (used / "subject01_walk1_id.sto").write_text("from an earlier run")
    result = CliRunner().invoke(
        app,
        ["label", "--out", str(used), "--model", str(example["model"]),
         "--ik", str(example["ik"]), "--loads", str(example["loads"])],
        env={"COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 2 and "not empty" in result.output and "--overwrite" in result.output
