"""Per-cycle QA record: figures, thresholds, flags and counts (no OpenSim needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait2hip.sim.quality import QualityThresholds, cycle_quality, quality_summary

MASS, HEIGHT = 70.0, 1.75
WEIGHT = MASS * 9.81


def _moments(force_fraction=0.02, moment_fraction=0.005, hip_peak=60.0):
    time = np.linspace(0.0, 1.0, 101)
    wave = np.sin(2 * np.pi * time)
    frame = pd.DataFrame(index=pd.Index(time, name="time"))
    # RMS of a unit sine is 1/√2: scale so the resultant RMS is the requested fraction.
    frame["pelvis_tx_force"] = force_fraction * WEIGHT * np.sqrt(2) * wave
    frame["pelvis_ty_force"] = 0.0
    frame["pelvis_tz_force"] = 0.0
    frame["pelvis_tilt_moment"] = moment_fraction * WEIGHT * HEIGHT * np.sqrt(2) * wave
    frame["pelvis_list_moment"] = 0.0
    frame["pelvis_rotation_moment"] = 0.0
    for side in "rl":
        for dof in ("flexion", "adduction", "rotation"):
            frame[f"hip_{dof}_{side}_moment"] = hip_peak * wave
    return frame


def _reserves(peak):
    time = np.linspace(0.0, 1.0, 101)
    return pd.DataFrame({"hip_flexion_r": peak * np.cos(2 * np.pi * time)}, index=time)


def test_a_clean_cycle_passes_with_exact_figures():
    record = cycle_quality(
        moments=_moments(), start=0.0, end=1.0, mass_kg=MASS, height_m=HEIGHT, reserves=_reserves(1.0),
        activations=pd.DataFrame({"glmax1_r": np.full(101, 0.4)}, index=np.linspace(0, 1, 101)),
        hip_muscles=["glmax1_r", "not_in_model"], grf_support_bw=0.8,
    )  # fmt: skip
    assert record["residual_force_rms_bw"] == pytest.approx(0.02, rel=2e-2)
    assert record["residual_moment_rms_bwh"] == pytest.approx(0.005, rel=2e-2)
    assert record["reserve_peak_fraction"] == pytest.approx(1.0 / 60.0, rel=1e-3)
    assert record["reserve_worst_coordinate"] == "hip_flexion_r"
    assert record["saturated_muscles"] == 0
    assert not record["flagged"] and record["reasons"] == "" and record["flags"] == ""


def test_each_threshold_flags_with_its_reason():
    saturated = pd.DataFrame({"glmed1_r": np.r_[np.zeros(100), 0.995]}, index=np.linspace(0, 1, 101))
    record = cycle_quality(
        moments=_moments(force_fraction=0.08, moment_fraction=0.02), start=0.0, end=1.0, mass_kg=MASS,
        height_m=HEIGHT, reserves=_reserves(6.0), activations=saturated, hip_muscles=["glmed1_r"],
        grf_support_bw=0.02,
    )  # fmt: skip
    assert record["flagged"]
    assert record["flags"].split() == [
        "residual_force",
        "residual_moment",
        "reserve",
        "saturation",
        "grf_support",
    ]
    assert "glmed1_r" in record["reasons"] and "off the force plates" in record["reasons"]
    lenient = QualityThresholds(
        residual_force_rms_bw=0.1, residual_moment_rms_bwh=0.05, reserve_peak_fraction=0.2,
        max_saturated_muscles=1, min_grf_support_bw=0.0,
    )  # fmt: skip
    again = cycle_quality(
        moments=_moments(force_fraction=0.08, moment_fraction=0.02), start=0.0, end=1.0, mass_kg=MASS,
        height_m=HEIGHT, reserves=_reserves(6.0), activations=saturated, hip_muscles=["glmed1_r"],
        grf_support_bw=0.02, thresholds=lenient,
    )  # fmt: skip
    assert not again["flagged"]


def test_only_the_cycle_window_counts():
    moments = _moments()
    moments.loc[moments.index > 0.8, "pelvis_tx_force"] = 10 * WEIGHT  # garbage after the cycle
    record = cycle_quality(moments=moments, start=0.0, end=0.75, mass_kg=MASS, height_m=HEIGHT)
    assert not record["flagged"]


def test_summary_counts_cycles_and_reasons():
    records = [
        {"flagged": False, "flags": "", "reasons": ""},
        {"flagged": True, "flags": "residual_moment saturation", "reasons": "..."},
        {"flagged": True, "flags": "residual_moment", "reasons": "..."},
    ]
    summary = quality_summary(records)
    assert summary == {
        "cycles": 3, "kept": 1, "flagged": 2, "by_reason": {"residual_moment": 2, "saturation": 1},
    }  # fmt: skip
    assert quality_summary([])["cycles"] == 0
