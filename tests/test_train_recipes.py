"""Recipes: the paper's vs gait2hip's flags, mirroring (phase-aligned left hip), subject inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_L, MOMENTS_R, MUSCLE_GROUPS_L, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.train.recipes import (
    GAIT2HIP_RECIPE,
    PAPER_RECIPE,
    input_features,
    left_phase_lag,
    mirrored,
    recipe_targets,
    training_set,
)

T = 101


def _bilateral(lag: int = 47, n: int = 3) -> GaitDataset:
    """Right-heel-strike cycles whose left side is the right side delayed by ``lag`` samples."""
    period = T - 1
    phase = np.arange(T) / period
    rng = np.random.default_rng(0)
    X = np.zeros((n, T, 10), np.float32)
    Y = np.zeros((n, T, 34), np.float32)
    for i in range(n):
        right = {
            "hip_flexion": 25 * np.cos(2 * np.pi * phase) + rng.normal(),
            "hip_adduction": 5 * np.sin(2 * np.pi * phase),
            "hip_rotation": 3 * np.sin(4 * np.pi * phase),
            "knee_angle": 30 - 30 * np.cos(2 * np.pi * (phase - 0.1)) + 10 * np.sin(4 * np.pi * phase),
            "ankle_angle": 10 * np.sin(2 * np.pi * (phase + 0.2)),
        }
        for name, curve in right.items():
            left = np.roll(curve[:period], lag)  # left[t] = right[t - lag]
            X[i, :, INPUT_ANGLES.index(name + "_r")] = curve
            X[i, :, INPUT_ANGLES.index(name + "_l")] = np.append(left, left[0])
        forces_r = np.stack([np.sin(2 * np.pi * phase + k) + 2 for k in range(17)], axis=1)
        forces_l = np.roll(forces_r[:period], lag, axis=0)
        Y[i, :, :17] = forces_r
        Y[i, :, 17:] = np.vstack([forces_l, forces_l[:1]])
    meta = pd.DataFrame(
        {
            "subject_id": [f"S{i}" for i in range(n)],
            "mass_kg": 70.0,
            "height_m": 1.7,
            "cadence_label": "med",
            "stride_time_s": 1.05,
        }
    )
    return GaitDataset(
        X=X,
        Y=Y,
        input_columns=INPUT_ANGLES,
        target_columns=MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L,
        input_units=("deg",) * 10,
        target_units=("N/kg",) * 14 + ("Nm/kg",) * 3 + ("N/kg",) * 14 + ("Nm/kg",) * 3,
        meta=meta,
    )


def test_left_phase_lag_is_recovered():
    assert left_phase_lag(_bilateral(lag=47)).tolist() == [47, 47, 47]
    assert left_phase_lag(_bilateral(lag=53)).tolist() == [53, 53, 53]


def test_mirrored_cycles_start_at_left_heel_strike():
    data = _bilateral(lag=47)
    targets = MUSCLE_GROUPS_R + MOMENTS_R
    left = mirrored(data, targets)
    # Perfectly symmetric synthetic gait: the aligned left leg equals the right leg ...
    right_cols = [i for i, c in enumerate(INPUT_ANGLES) if c.endswith("_r")]
    np.testing.assert_allclose(left.X[:, :, right_cols], data.X[:, :, right_cols], atol=1e-4)
    np.testing.assert_allclose(left.Y, data.select_targets(targets).Y, atol=1e-5)
    # ... and the contralateral (now "left") leg is the right leg 47 samples later.
    shifted = np.roll(data.X[:, :100, INPUT_ANGLES.index("knee_angle_r")], -47, axis=1)
    np.testing.assert_allclose(left.X[:, :100, INPUT_ANGLES.index("knee_angle_l")], shifted, atol=1e-4)
    assert set(left.meta["side"]) == {"left"}


def test_training_set_doubles_with_mirroring_only_for_gait2hip():
    data = _bilateral()
    targets = recipe_targets(GAIT2HIP_RECIPE, "forces")
    assert targets == MUSCLE_GROUPS_R + MOMENTS_R  # joint forces + moments
    assert len(training_set(data, recipe=GAIT2HIP_RECIPE, targets=targets)) == 2 * len(data)
    assert recipe_targets(PAPER_RECIPE, "moments") == MOMENTS_R
    assert len(training_set(data, recipe=PAPER_RECIPE, targets=MOMENTS_R)) == len(data)


def test_mirroring_needs_left_columns():
    data = _bilateral().select_targets(MUSCLE_GROUPS_R)
    with pytest.raises(Gait2HipInputError, match="left-hip"):
        mirrored(data, MUSCLE_GROUPS_R)


def test_subject_inputs_are_constant_channels():
    data = _bilateral()
    X, columns, units = input_features(data, recipe=GAIT2HIP_RECIPE)
    assert columns[-3:] == ("stride_time_s", "mass_kg", "height_m") and units[-3:] == ("s", "kg", "m")
    np.testing.assert_allclose(X[:, :, -3], 1.05)
    np.testing.assert_allclose(X[:, :, -2], 70.0)
    X_paper, columns_paper, _ = input_features(data, recipe=PAPER_RECIPE)
    assert columns_paper == INPUT_ANGLES and X_paper.shape[2] == 10


def test_ablation_reverts_one_flag_to_the_paper():
    ablated = GAIT2HIP_RECIPE.without("mirror")
    assert not ablated.mirror and ablated.standardize_targets
    no_schedule = GAIT2HIP_RECIPE.without("lr_schedule")
    assert (no_schedule.lr, no_schedule.schedule) == (PAPER_RECIPE.lr, PAPER_RECIPE.schedule)
    with pytest.raises(ValueError):
        GAIT2HIP_RECIPE.without("nonsense")


def test_the_mean_curve_weighs_sources_equally_and_ignores_missing_labels():
    from gait2hip.train.augment import domain_weights
    from gait2hip.train.recipes import mean_curve

    Y = np.zeros((4, 2, 2))
    Y[:3, :, 0] = 1.0  # three cycles of source a
    Y[3, :, 0] = 5.0  # one of source b
    Y[3, :, 1] = np.nan  # b has no label for channel 1
    Y[:3, :, 1] = 2.0
    curve = mean_curve(Y, domain_weights(["a", "a", "a", "b"]))
    assert curve[:, 0] == pytest.approx([3.0, 3.0])  # (1 + 5) / 2, not (3 + 5) / 4
    assert curve[:, 1] == pytest.approx([2.0, 2.0])


def test_mirrored_contact_z_takes_the_right_hips_lateral_sense():
    """On the embedded cohort, OpenSim's z (to the right) is lateral for the right hip and medial for
    the left: the mirrored left hip must train the right-hip model with the lateral sense."""
    from gait2hip.data import default_dataset_path
    from gait2hip.data.columns import CONTACT_R

    data = GaitDataset.load(default_dataset_path()).take(np.arange(30))
    left = mirrored(data, CONTACT_R).Y.mean(axis=(0, 1))
    right = data.select_targets(CONTACT_R).Y.mean(axis=(0, 1))
    # every component of the mirrored left hip has the right hip's sign, z included
    assert np.all(np.sign(left) == np.sign(right))
    assert right[CONTACT_R.index("hip_r_contact_z")] > 0
    assert right[CONTACT_R.index("hip_r_contact_pelvis_z")] > 0
