"""Convention checks: a real walker passes, a sign or side error is named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gait2hip
from gait2hip.data.checks import convention_problems, events_side_problem, is_walking

REAL = Path(gait2hip.__file__).parent / "resources" / "real" / "fukuchi2018.npz"


@pytest.fixture(scope="module")
def real_cycles():
    data = np.load(REAL)
    return [dict(zip(data["in_cols"].tolist(), x.T, strict=True)) for x in data["X"]]


def test_every_real_cycle_passes(real_cycles):
    """178 cycles of 30 real healthy adults (fukuchi2018): no convention problem, all walking."""
    assert all(convention_problems(c) == [] and is_walking(c) for c in real_cycles)


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"hip_flexion_r": -1, "hip_flexion_l": -1}, "hip flexion sign looks inverted"),
        ({"knee_angle_r": -1, "knee_angle_l": -1}, "knee flexion is negative"),
        ({"hip_adduction_l": -1}, "adduction curves are mirror images"),
    ],
)
def test_sign_errors_are_named(real_cycles, change, cause):
    named = 0
    for cycle in real_cycles:
        bad = {k: v * change.get(k, 1) for k, v in cycle.items()}
        named += any(cause in p for p in convention_problems(bad))
    assert named == len(real_cycles)


def test_standing_is_not_walking(real_cycles):
    standing = {k: np.full(101, 5.0) + np.random.default_rng(0).normal(0, 1, 101) for k in real_cycles[0]}
    assert not is_walking(standing)


def test_events_swapped_against_the_kinematics():
    right, left = np.array([0.6, 1.8, 3.0]), np.array([1.2, 2.4])
    assert "swapped" in events_side_problem(kinematic={"right": right, "left": left},
                                            given={"right": left, "left": right}, stride_s=1.2)  # fmt: skip
    assert events_side_problem(kinematic={"right": right, "left": left},
                               given={"right": right + 0.02, "left": left}, stride_s=1.2) is None  # fmt: skip
