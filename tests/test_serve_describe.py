"""What the web page shows about a prediction (gait2hip.serve.describe): the left / right symmetry."""

from __future__ import annotations

import pytest

from gait2hip.serve.describe import symmetry


def test_symmetry_averages_each_sides_peak_magnitudes_and_skips_contact_components():
    targets = [
        dict(key="glmed_r", kind="force", label="Gluteus medius", unit_per_kg="N/kg"),
        dict(key="hip_contact_mag", kind="contact", label="Contact", unit_per_kg="%BW"),
        dict(key="hip_contact_pelvis_x", kind="contact", label="Contact x", unit_per_kg="%BW"),
    ]

    def cycle(side, glmed, contact):
        peaks = {"glmed_r": {"per_kg": glmed}, "hip_contact_mag": {"per_kg": contact}}
        return dict(side=side, peaks=peaks)

    # right peaks |−3| and 5 → mean 4; left 2 → SI = 100·(4 − 2) / 3 = 66.7 %; contact equal → 0 %
    cycles = [cycle("right", -3.0, 250.0), cycle("right", 5.0, 250.0), cycle("left", 2.0, 250.0)]
    result = symmetry(cycles, targets)
    assert result["available"] and set(result["indices"]) == {"glmed_r", "hip_contact_mag"}
    glmed = result["indices"]["glmed_r"]
    assert glmed["right_peak"] == 4.0 and glmed["left_peak"] == 2.0
    assert glmed["si_percent"] == pytest.approx(66.7)
    assert result["indices"]["hip_contact_mag"]["si_percent"] == 0.0
    one_side = symmetry(cycles[:2], targets)
    assert not one_side["available"] and one_side["indices"] == {}
