"""Real hip-moment references of the realism gate: van der Zee 2022 and Fukuchi 2018 in OpenSim convention."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.sim.references import (
    AXES,
    fukuchi_reference,
    fukuchi_subject_curves,
    vanderzee_reference,
)


@pytest.mark.parametrize(("label", "cadence"), [("slow", 78.0), ("med", 115.0), ("fast", 135.0)])
def test_fukuchi_conventions_agree_with_the_opensim_reference(shared, label, cadence):
    """Every axis of Fukuchi's Visual3D moments, after the sign conversion, correlates positively with
    van der Zee's OpenSim moments (measured r: flexion 0.95-0.96, adduction 0.84-0.97, rotation 0.75)."""
    fukuchi = fukuchi_reference(label)
    vdz = vanderzee_reference(cadence, folder=shared / "reference" / "vanderzee2022")
    for k, axis in enumerate(AXES):
        r = np.corrcoef(fukuchi.mean[:, k], vdz.mean[:, k])[0, 1]
        assert r > 0.6, axis
    # The physiology the signs must reproduce: an early-stance hip EXTENSION moment, a stance-long
    # ABDUCTOR moment (negative adduction moment) and a flexion moment in late stance.
    flexion, adduction = fukuchi.mean[:, 0], fukuchi.mean[:, 1]
    assert flexion[:15].min() < -0.3 and flexion[45:60].max() > 0.3
    assert adduction[15:45].max() < -0.4


def test_fukuchi_unusable_legs_are_dropped_and_single_gaps_filled():
    fast = fukuchi_subject_curves("fast")
    # WBDS15walkOF has no right-side data at all: 29 of 30 subjects remain.
    assert fast.shape == (29, 101, 3)
    assert np.isfinite(fast).all()
    # WBDS23walkOCknt misses row 0 of its right hip moments: kept, filled from its 100 % twin.
    assert fukuchi_subject_curves("med").shape[0] == 30


def test_vanderzee_reference_clips_to_the_measured_speeds(shared):
    folder = shared / "reference" / "vanderzee2022"
    fast = vanderzee_reference(135.0, folder=folder)
    assert "1.80 m/s" in fast.name  # 135 steps/min ≈ 1.97 m/s, beyond the fastest measured speed
    assert fast.mean.shape == (100, 3) and (fast.sd >= 0).all()
