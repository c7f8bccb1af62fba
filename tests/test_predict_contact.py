"""The contact force of a prediction: % body weight, readable names, first and second peak, in-vivo anchor."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import contact_label
from gait2hip.predict.contact import IN_VIVO_PEAK_PBW, gait_peaks, with_contact_percent_bw

PERCENT = np.linspace(0.0, 100.0, 101)


def _double_hump(first=(15.0, 300.0), second=(48.0, 400.0), ripple: float = 0.0) -> np.ndarray:
    """80 + two Gaussian humps (centre %, height), plus a fast ripple on the second hump."""
    y = 80.0 + first[1] * np.exp(-(((PERCENT - first[0]) / 6.0) ** 2))
    y += second[1] * np.exp(-(((PERCENT - second[0]) / 7.0) ** 2))
    return y + ripple * np.sin(2 * np.pi * PERCENT / 3.0) * (np.abs(PERCENT - second[0]) < 8)


def test_first_and_second_peak_of_a_double_hump():
    first, second, maximum = gait_peaks(_double_hump(), PERCENT)
    # the humps barely overlap (exp(-(33/6)^2) ≈ 1e-13): peaks 380 at 15 % and 480 at 48 %
    assert (first.percent, second.percent) == (15.0, 48.0)
    assert first.value == pytest.approx(380.0, abs=1e-6)
    assert second.value == pytest.approx(480.0, abs=1e-6)
    assert (maximum.value, maximum.percent) == (second.value, second.percent)


def test_ripples_on_one_hump_are_not_a_second_peak_and_swing_bumps_are_ignored():
    y = _double_hump(ripple=6.0)
    y += 60.0 * np.exp(-(((PERCENT - 90.0) / 4.0) ** 2))  # a swing-phase bump, 140 %BW < half the max
    first, second, _ = gait_peaks(y, PERCENT)
    assert first.percent == 15.0
    assert 44.0 <= second.percent <= 52.0


def test_a_single_hump_has_no_second_peak():
    y = 80.0 + 400.0 * np.exp(-(((PERCENT - 50.0) / 10.0) ** 2))
    first, second, maximum = gait_peaks(y, PERCENT)
    assert second is None
    assert first == maximum and maximum.percent == 50.0 and maximum.value == pytest.approx(480.0)


def test_percent_body_weight_columns_are_added_beside_the_others():
    curves = pd.DataFrame(
        {
            "percent": [0.0, 50.0, 100.0],
            "hip_r_contact_mag_per_kg": [9.81, 24.525, 4.905],  # 1, 2.5 and 0.5 × g per kg
            "hip_r_contact_mag_per_kg_lo": [0.0, 19.62, 0.0],
            "hip_r_contact_mag_per_kg_hi": [19.62, 29.43, 9.81],
            "glmed_r_per_kg": [1.0, 2.0, 3.0],
        }
    )
    curves.attrs["units"] = {
        "percent": "%",
        "hip_r_contact_mag_per_kg": "N/kg",
        "hip_r_contact_mag_per_kg_lo": "N/kg",
        "hip_r_contact_mag_per_kg_hi": "N/kg",
        "glmed_r_per_kg": "N/kg",
    }
    prediction = SimpleNamespace(curves=curves)
    out = with_contact_percent_bw(prediction)
    np.testing.assert_allclose(out.curves["hip_r_contact_mag_pct_bw"], [100.0, 250.0, 50.0])
    np.testing.assert_allclose(out.curves["hip_r_contact_mag_pct_bw_lo"], [0.0, 200.0, 0.0])
    np.testing.assert_allclose(out.curves["hip_r_contact_mag_pct_bw_hi"], [200.0, 300.0, 100.0])
    assert out.curves.attrs["units"]["hip_r_contact_mag_pct_bw"] == "%BW"
    assert list(out.curves.columns[:5]) == list(curves.columns)  # existing columns kept, in order
    assert "glmed_r_pct_bw" not in out.curves and "hip_r_contact_mag_pct_bw" not in curves
    assert with_contact_percent_bw(out) is out  # already there: nothing to add


def test_readable_names():
    assert contact_label("hip_r_contact_mag_pct_bw") == "hip contact force |F|"
    assert (
        contact_label("hip_l_contact_pelvis_y_per_kg_lo") == "hip contact force y, pelvis frame (+ superior)"
    )
    assert contact_label("glmed_r") is None


def test_in_vivo_constant_is_the_shared_orthoload_table(shared):
    table = shared / "reference" / "orthoload" / "level_walking_peak_hjf.csv"
    if not table.is_file():
        pytest.skip(f"{table} absent (shared OrthoLoad reference)")
    peaks = pd.read_csv(table)["hjf_magnitude_pBW"]
    assert len(peaks) == 10
    assert (round(peaks.mean()), round(peaks.std(ddof=1))) == IN_VIVO_PEAK_PBW
