"""The one-page patient report (gait2hip.serve.report): self-contained, escaped, honest about gaps."""

from __future__ import annotations

import datetime as dt
import re

from gait2hip.serve.report import chart_svg, render_report


def _result(sides: tuple[str, ...]) -> dict:
    percent = [float(p) for p in range(101)]
    target = {
        "key": "glmed",
        "label": "Gluteus medius",
        "unit": "N",
        "unit_per_kg": "N/kg",
        "normative": {"mean": [1.0] * 101, "sd": [0.5] * 101, "unit": "N/kg", "percent": percent},
    }
    cycles = [
        {
            "cycle": i + 1,
            "side": side,
            "stride_s": 1.1,
            "timing": {"stance_percent": 60.0, "swing_percent": 40.0, "toe_off_method": "kinematics"},
            "curves": {"glmed": {"per_kg": [2.0 + (i == 0)] * 101, "value": [140.0] * 101}},
        }
        for i, side in enumerate(sides)
    ]
    return {
        "file": "<script>alert(1)</script>.mot",
        "mass_kg": 70.0,
        "height_m": None,
        "model": {"bundles": ["b"], "simulated": True, "note": "SIMULATED"},
        "ood_summary": {"flag": False, "message": "within range", "method": "m"},
        "symmetry": {"available": False, "reason": "needs both sides", "method": "", "indices": {}},
        "targets": [target],
        "cycles": cycles,
        "percent": percent,
        "notes": [],
    }


def test_report_is_self_contained_and_escaped() -> None:
    html = render_report(_result(("right",)), created=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert not re.search(r"(src|href)\s*=", html)  # nothing loaded from anywhere
    assert "2026-01-02 03:04 UTC" in html and "Not available: needs both sides" in html
    assert "SIMULATED" in html and "@page" in html


def test_chart_scales_to_curves_and_band() -> None:
    result = _result(("right", "left"))
    svg = chart_svg(result["targets"][0], result["cycles"], result["percent"])
    assert svg.count("<path") == 3  # band mean + right + left
    assert "#c0392b" in svg and "#1f5fa8" in svg and "<polygon" in svg
    labels = re.findall(r'text-anchor="end">([-0-9.]+)</text>', svg)
    assert float(labels[0]) == 3.0 and float(labels[1]) == 0.0  # top: the right curve's 3; bottom: zero line
