"""Shared test fixtures: the read-only shared inputs and optional OpenSim."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait2hip.paths import shared_dir

os.environ.setdefault("OMP_NUM_THREADS", "1")

HAS_OPENSIM = importlib.util.find_spec("opensim") is not None
requires_opensim = pytest.mark.skipif(
    not HAS_OPENSIM, reason="opensim is not installed (pip install 'gait2hip[sim]')"
)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared inputs folder; tests that need it skip with the reason when it is absent."""
    root = shared_dir()
    if root is None:
        pytest.skip("shared inputs not found: set GAIT2HIP_SHARED or put ../shared beside the checkout")
    return root


@pytest.fixture(scope="session")
def examples(shared: Path) -> Path:
    return shared / "opensim-examples"


# ---------------------------------------------------------------- a tiny benchmark run, shared
#: Tiny architectures so that a whole benchmark trains in seconds.
TINY_MODELS = {"lstm": {"hidden_size": 8, "num_layers": 1}, "tcn": {}}


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """14 synthetic subjects x 3 cadences, 2 of them 'patients', with left-hip twins (phase-shifted)."""
    import numpy as np

    from gait2hip.data.columns import MOMENTS_L, MUSCLE_GROUPS_L
    from gait2hip.data.dataset import GaitDataset
    from gait2hip.data.synthetic import synthetic_dataset

    ds = synthetic_dataset(n_subjects=14, trials_per_cadence=1, n_timepoints=101, seed=1)
    meta = ds.meta.copy()
    patients = sorted(meta["subject_id"].unique())[-2:]
    meta["cohort"] = np.where(meta["subject_id"].isin(patients), "patient", "healthy")
    idx = np.append((np.arange(100) + 50) % 100, 50)
    both = GaitDataset(
        X=ds.X,
        Y=np.concatenate([ds.Y, ds.Y[:, idx, :]], axis=2),
        input_columns=ds.input_columns,
        target_columns=ds.target_columns + MUSCLE_GROUPS_L + MOMENTS_L,
        input_units=ds.input_units,
        target_units=ds.target_units * 2,
        meta=meta,
        attrs={**ds.attrs, "name": "tiny"},
    )
    return both.save(tmp_path_factory.mktemp("data") / "tiny.npz")


def tiny_settings(path: Path, *, workers: int = 1):
    """Both protocols, lstm + tcn (tiny), 2 folds, 1-2 epochs, one ablation; ``workers`` processes."""
    from gait2hip.bench.settings import BenchmarkSettings
    from gait2hip.train.protocols import BUDGETS, Runtime

    budget = replace(
        BUDGETS["quick"],
        folds=2,
        max_epochs=2,
        patience=1,
        fixed_epochs=1,
        ablation_models=("lstm",),
        ablation_flags=("mirror",),
        crosslab_configs=("sim", "fukuchi", "both"),
        crosslab_folds=2,
        crosslab_epochs=1,
    )
    return BenchmarkSettings(
        data=str(path),
        targets=("forces", "moments"),
        models=("lstm", "tcn"),
        protocols=("paper", "gait2hip"),
        budget=budget,
        seeds=1,
        paper_seeds=1,
        runtime=Runtime(threads=1, workers=workers),
        model_overrides=TINY_MODELS,
    )


@pytest.fixture(scope="session")
def finished_run(tiny_data, tmp_path_factory) -> Path:
    """A tiny benchmark run to the end with TWO training processes (the parallel path), report included."""
    from gait2hip.bench.benchmark import run_benchmark
    from gait2hip.report.write import write_report

    out = tmp_path_factory.mktemp("bench")
    run_benchmark(out=out, settings=tiny_settings(tiny_data, workers=2), shared=None)
    write_report(out)
    return out


# ---------------------------------------------------------------- angle tables (test_data_angle*)
def walking_table(n: int = 120, *, degrees: bool = True) -> pd.DataFrame:
    """A smooth walking-like table of the ten input angles (deg, or rad), 120 frames over 1.1 s."""
    phase = np.linspace(0, 2 * np.pi, n)
    deg = {
        "hip_flexion_r": 10 + 25 * np.cos(phase),
        "hip_adduction_r": 4 * np.sin(phase),
        "hip_rotation_r": -5 + 3 * np.sin(2 * phase),
        "hip_flexion_l": 10 + 25 * np.cos(phase + np.pi),
        "hip_adduction_l": 4 * np.sin(phase + np.pi),
        "hip_rotation_l": -5 + 3 * np.sin(2 * phase + np.pi),
        "knee_angle_r": 30 - 30 * np.cos(phase),
        "ankle_angle_r": 8 * np.sin(phase),
        "knee_angle_l": 30 + 30 * np.cos(phase),
        "ankle_angle_l": -8 * np.sin(phase),
    }
    frame = pd.DataFrame(deg, index=pd.Index(np.linspace(0, 1.1, n), name="time"))
    frame["pelvis_tx"] = np.linspace(0, 1.3, n)
    return frame if degrees else np.radians(frame)


def gait2392_angles(examples: Path) -> pd.DataFrame:
    """The gait2392 example's IK angles (deg), index named 'time'."""
    import warnings

    from gait2hip.data.angles import read_angles

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        angles = read_angles(examples / "gait2392-subject01/subject01_walk1_ik.mot")
    angles.index.name = "time"
    return angles


# ---------------------------------------------------------------- datasets (test_train_*)
def dataset_with(dataset, **changes):
    """A copy of a GaitDataset with some of its fields replaced (checked again on construction)."""
    from gait2hip.data.dataset import GaitDataset

    fields = dict(
        X=dataset.X, Y=dataset.Y, input_columns=dataset.input_columns, target_columns=dataset.target_columns,
        input_units=dataset.input_units, target_units=dataset.target_units, meta=dataset.meta.copy(),
        attrs=dict(dataset.attrs),
    )  # fmt: skip
    fields.update(changes)
    return GaitDataset(**fields)
