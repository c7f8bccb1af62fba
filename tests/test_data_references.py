"""OpenSim-convention reference curves: van der Zee (2022) and the OpenSim example trials."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait2hip.data.references import (
    example_trial_curves,
    heel_strike_percent,
    stance_percent,
    vanderzee_curves,
)
from gait2hip.errors import Gait2HipInputError


def test_vanderzee_units_and_events(shared: Path) -> None:
    folder = shared / "reference" / "vanderzee2022"
    slow, fast = (vanderzee_curves(folder, speed=s) for s in (0.7, 1.8))
    for curves in (slow, fast):
        assert curves["hip_flexion"].shape == (101,)
        assert 50 < np.ptp(curves["knee_angle"]) < 70  # degrees, flexion positive
        assert curves["knee_angle"].max() > 50
        # hip extensor moment in early stance, Nm/kg (the files store moment / (m g L))
        assert -2.5 < curves["hip_flexion_moment"][:20].min() < -0.4
    assert np.ptp(fast["hip_flexion_moment"]) > np.ptp(slow["hip_flexion_moment"])
    assert float(slow["stance_percent"]) > float(fast["stance_percent"])  # stance shortens with speed
    assert 45 < float(slow["left_heel_strike_percent"]) < 55


def test_vanderzee_unknown_speed_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(Gait2HipInputError):
        vanderzee_curves(tmp_path, speed=1.0)
    with pytest.raises(Gait2HipInputError) as info:
        vanderzee_curves(tmp_path, speed=1.1)
    assert "vanderzee2022_1p1ms.json" in str(info.value.file)


def test_example_trials(shared: Path) -> None:
    trials = example_trial_curves(shared)
    assert set(trials) == {"gait2392-subject01", "moco-3d-walking"}
    for curves in trials.values():
        assert curves["knee_angle"].max() > 50  # gait2392's negative knee flipped
    gait2392 = trials["gait2392-subject01"]["hip_flexion_moment"]
    assert np.isnan(gait2392).any() and np.isfinite(gait2392).sum() > 60  # ID output covers part of the cycle
    assert np.isfinite(trials["moco-3d-walking"]["hip_flexion_moment"]).all()


def test_events_on_a_synthetic_force() -> None:
    p = np.linspace(0, 100, 101)
    force = np.where(p <= 60.5, 1.0, 0.0)
    assert stance_percent(force, threshold=0.5) == pytest.approx(60.5, abs=0.01)
    other = np.where((p >= 10.25) & (p <= 60), 1.0, 0.0)
    assert heel_strike_percent(other, threshold=0.5) == pytest.approx(10.5, abs=0.01)
