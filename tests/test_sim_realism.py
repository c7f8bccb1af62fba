"""Realism check (b): a cohort equal to the normative means is judged fully inside ±2 SD."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_L, MOMENTS_R, MUSCLE_GROUPS_L, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.sim.realism import _normative_for, check_cohort


def _cohort_from_normative(shift: float) -> GaitDataset:
    targets = MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L
    rows, ys = [], []
    for label, cadence in (("slow", 78.0), ("med", 115.0), ("fast", 135.0)):
        ref = _normative_for(cadence)
        y = np.zeros((101, len(targets)))
        for k, name in enumerate(("hip_flexion_r", "hip_adduction_r", "hip_rotation_r")):
            curve = ref.moment_mean[:, 6 + k] + shift * ref.moment_sd[:, 6 + k]
            y[:, targets.index(f"{name}_moment")] = 70.0 * np.append(curve, curve[0])
        ys.append(y)
        rows.append(
            {
                "subject_id": "H01",
                "cohort": "healthy",
                "cadence_label": label,
                "cadence_spm": cadence,
                "trial_id": f"H01_{label}_T1",
                "mass_kg": 70.0,
            }
        )
    return GaitDataset(
        X=np.zeros((3, 101, 10)),
        Y=np.stack(ys),
        input_columns=INPUT_ANGLES,
        target_columns=targets,
        input_units=("deg",) * 10,
        target_units=tuple("Nm" if t.endswith("moment") else "N" for t in targets),
        meta=pd.DataFrame(rows),
    )


def test_normative_cohort_lies_inside_and_shifted_one_outside(shared, tmp_path):
    inside = check_cohort(_cohort_from_normative(0.0), figure=tmp_path / "r.png")
    assert set(inside["cadence"]) == {"slow", "med", "fast"}
    assert (inside["share_inside_2sd"] == 1.0).all()
    assert (tmp_path / "r.png").stat().st_size > 1000
    outside = check_cohort(_cohort_from_normative(3.0))
    assert (outside["share_inside_2sd"] < 0.2).all()


def _cohort_around_normative(offset: float = 0.0) -> GaitDataset:
    """Three subjects per cadence at the van der Zee mean − 1 SD, mean, mean + 1 SD (+ offset N m/kg)."""
    targets = MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L
    rows, ys = [], []
    for label, cadence in (("slow", 78.0), ("med", 115.0), ("fast", 135.0)):
        ref = _normative_for(cadence)
        for s, k_sd in enumerate((-1.0, 0.0, 1.0)):
            y = np.zeros((101, len(targets)))
            for k, name in enumerate(("hip_flexion_r", "hip_adduction_r", "hip_rotation_r")):
                curve = ref.moment_mean[:, 6 + k] + k_sd * ref.moment_sd[:, 6 + k] + offset
                y[:, targets.index(f"{name}_moment")] = 70.0 * np.append(curve, curve[0])
            ys.append(y)
            rows.append(
                {
                    "subject_id": f"H0{s + 1}",
                    "cohort": "healthy",
                    "cadence_label": label,
                    "cadence_spm": cadence,
                    "trial_id": f"H0{s + 1}_{label}_T1",
                    "mass_kg": 70.0,
                }
            )
    return GaitDataset(
        X=np.zeros((len(ys), 101, 10)),
        Y=np.stack(ys),
        input_columns=INPUT_ANGLES,
        target_columns=targets,
        input_units=("deg",) * 10,
        target_units=tuple("Nm" if t.endswith("moment") else "N" for t in targets),
        meta=pd.DataFrame(rows),
    )


def test_gate_passes_the_reference_itself_and_fails_a_shifted_one(shared):
    from gait2hip.sim.realism import TARGET_RMSE, gate_cohort

    table = gate_cohort(_cohort_around_normative(), shared=shared)
    assert set(table["reference"].str.split().str[0]) == {"van", "Fukuchi"}
    assert len(table) == 3 * 2 * 3
    vdz = table[table["reference"].str.startswith("van der Zee")]
    np.testing.assert_allclose(vdz["rmse"], 0.0, atol=1e-6)  # float32 labels
    np.testing.assert_allclose(vdz["r"], 1.0, atol=1e-6)
    np.testing.assert_allclose(vdz["early_diff"], 0.0, atol=1e-6)
    np.testing.assert_allclose(vdz["sd_ratio"], 1.0, atol=1e-6)  # ±1 SD around the mean: sample SD = SD
    assert vdz["meets_target"].all()
    # The two real references disagree by more than the gate's tolerance (treadmill vs overground).
    fukuchi = table[table["reference"].str.startswith("Fukuchi")]
    assert fukuchi.loc[fukuchi["axis"] == "flexion", "rmse"].max() > TARGET_RMSE
    shifted = gate_cohort(_cohort_around_normative(offset=0.2), shared=shared)
    vdz = shifted[shifted["reference"].str.startswith("van der Zee")]
    np.testing.assert_allclose(vdz["rmse"], 0.2, atol=1e-6)
    assert not vdz.loc[vdz["axis"] != "rotation", "meets_target"].any()
