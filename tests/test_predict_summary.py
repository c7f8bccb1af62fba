"""The long per-trial summary: the contact force's peaks in % body weight and where they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait2hip.predict.summary import trial_summary

PERCENT = np.linspace(0.0, 100.0, 101)


def _cycle(number: int, side: str, first: tuple[float, float], second: tuple[float, float]) -> pd.DataFrame:
    """One cycle of |F| in %BW: 60 + two Gaussian humps at (centre %, height)."""
    y = 60.0 + first[1] * np.exp(-(((PERCENT - first[0]) / 6.0) ** 2))
    y += second[1] * np.exp(-(((PERCENT - second[0]) / 7.0) ** 2))
    code = side[0]
    frame = pd.DataFrame({"cycle": number, "side": side, "percent": PERCENT})
    frame[f"hip_{code}_contact_mag_pct_bw"] = y
    return frame


def _curves() -> pd.DataFrame:
    curves = pd.concat(
        [
            _cycle(1, "right", (14.0, 240.0), (50.0, 300.0)),  # peaks 300 at 14 %, 360 at 50 %
            _cycle(2, "right", (16.0, 260.0), (48.0, 340.0)),  # peaks 320 at 16 %, 400 at 48 %
            _cycle(3, "left", (15.0, 250.0), (49.0, 300.0)),  # peaks 310 at 15 %, 360 at 49 %
        ],
        ignore_index=True,
    )
    curves.attrs["units"] = {
        "cycle": "1",
        "side": "",
        "percent": "%",
        "hip_r_contact_mag_pct_bw": "%BW",
        "hip_l_contact_mag_pct_bw": "%BW",
    }
    return curves


def _value(long: pd.DataFrame, side: str, measure: str, statistic: str = "mean") -> float:
    row = long.query("variable == 'hip_contact_mag' and side == @side and measure == @measure")
    return float(row.set_index("statistic").loc[statistic, "value"])


def test_peaks_in_percent_body_weight_and_percent_of_cycle():
    long = trial_summary(_curves(), file="walk.mot")
    assert _value(long, "right", "peak1") == pytest.approx(310.0, abs=1e-6)  # (300 + 320) / 2
    assert _value(long, "right", "peak1_at") == pytest.approx(15.0)  # (14 + 16) / 2
    assert _value(long, "right", "peak2") == pytest.approx(380.0, abs=1e-6)
    assert _value(long, "right", "peak2_at") == pytest.approx(49.0)
    assert _value(long, "right", "peak2", "sd") == pytest.approx(np.std([360.0, 400.0], ddof=1), abs=1e-6)
    assert _value(long, "right", "peak_max") == pytest.approx(380.0, abs=1e-6)
    assert _value(long, "right", "peak_max_at") == pytest.approx(49.0)
    assert _value(long, "left", "peak1") == pytest.approx(310.0, abs=1e-6)
    assert _value(long, "left", "peak2_at") == pytest.approx(49.0)
    units = long[long["variable"] == "hip_contact_mag"].groupby("measure")["unit"].first()
    assert units["peak1"] == units["peak_max"] == "%BW" and units["peak1_at"] == "% gait cycle"
    assert set(long.loc[long["variable"] == "hip_contact_mag", "label"]) == {"hip contact force |F|"}
    si = long.query("measure == 'peak_max' and statistic == 'symmetry_index_pct'")["value"].iloc[0]
    assert si == pytest.approx(100 * (380.0 - 360.0) / 370.0, abs=1e-6)


def test_only_the_cycles_asked_for_count():
    long = trial_summary(_curves(), file="walk.mot", cycles=[2])
    assert _value(long, "right", "peak1") == pytest.approx(320.0, abs=1e-6)
    assert _value(long, "right", "peak1", "n_cycles") == 1
    assert "left" not in set(long["side"])
