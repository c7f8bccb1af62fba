"""The NPZ layout of a GaitDataset (gait2hip.data.dataset_npz): written without pickle, read back whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import META_COLUMNS, GaitDataset
from gait2hip.data.dataset_npz import read_dataset_fields
from gait2hip.data.synthetic import synthetic_dataset


def test_a_file_with_only_the_required_keys_reads_with_blank_metadata(tmp_path: Path) -> None:
    X, Y = np.zeros((2, 5, 3), np.float32), np.ones((2, 5, 1), np.float32)
    np.savez(
        tmp_path / "min.npz",
        X=X,
        Y=Y,
        in_cols=np.array(["a", "b", "c"]),
        out_cols=np.array(["hip_y"]),
        subject_id=np.array(["S1", "S2"]),
        weight_kg=np.array([60.0, 80.0]),
        x_units=np.array(["deg"] * 3),
        y_units=np.array(["Nm"]),
    )
    fields = read_dataset_fields(tmp_path / "min.npz")
    assert fields["input_columns"] == ("a", "b", "c") and fields["target_units"] == ("Nm",)
    meta = fields["meta"]
    assert meta["subject_id"].tolist() == ["S1", "S2"] and meta["mass_kg"].tolist() == [60.0, 80.0]
    assert meta["cohort"].tolist() == ["", ""] and meta["cadence_spm"].isna().all()
    assert fields["attrs"] == {"path": str(tmp_path / "min.npz")}


def test_save_load_round_trip(tmp_path: Path) -> None:
    ds = synthetic_dataset(n_subjects=3, trials_per_cadence=2, n_timepoints=21, seed=2)
    path = ds.save(tmp_path / "sub" / "d.npz")
    back = GaitDataset.load(path)
    np.testing.assert_array_equal(back.X, ds.X)
    np.testing.assert_array_equal(back.Y, ds.Y)
    assert back.input_columns == INPUT_ANGLES and back.target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    pd.testing.assert_frame_equal(back.meta[list(META_COLUMNS)], ds.meta[list(META_COLUMNS)])
    assert back.attrs["simulated"] is True and back.attrs["path"] == str(path)
    with np.load(path, allow_pickle=False) as npz:  # no pickled objects; the release keys are there
        assert {"X", "Y", "subject_id", "height_m", "weight_kg", "speed_label", "in_cols", "out_cols"} <= set(
            npz.files
        )
        assert int(npz["layout_version"]) == 1
    assert not list(tmp_path.glob("**/*.tmp*"))  # written atomically
