"""Plausibility checks that tell a real person's gait from a convention error in the inputs.

The out-of-distribution measure (:mod:`gait2hip.models.ood`) says how far a cycle lies from the
training cycles, but an inverted sign or swapped legs and an unusual patient both look "far".
These checks look at relations between the angles that hold for every walking person, whatever
their pathology, and name the likely cause when one fails:

* **Hip–knee coupling.** The knee is most flexed in swing, while the hip flexes: the
  correlation between the hip flexion velocity and the knee flexion angle over a cycle is
  positive. On the 178 real cycles of fukuchi2018 (30 healthy adults, both legs) it is
  0.53–0.96 for every leg (median 0.84); with the hip flexion sign inverted it turns
  negative. When the hip is better coupled to the OTHER leg's knee than to its own, the hip
  and knee columns belong to different legs (left/right labels swapped for some columns):
  own − |cross| coupling is ≥ 0.26 on all 178 real cycles.
* **Knee sign.** A knee that bends below ``KNEE_NEGATIVE_DEG`` is flexion-negative
  (gait2392-like models); :func:`gait2hip.data.angles.angles_from_table` flips a clearly
  negative knee itself, so this catches a sign forced the wrong way.
* **Frontal-plane mirror.** The two hips' adduction curves have the same shape half a cycle
  apart (correlation 0.71–0.97 on the 178 real cycles); a negative correlation means one
  side's adduction sign is mirrored (a lab or global frame instead of the anatomical one).
* **Walking at all.** A hip flexion range below ``MIN_WALKING_HIP_RANGE_DEG`` on both legs is
  not walking (a static or standing trial); gait events found in it are noise.

A swap of ALL of one leg's columns for the other's cannot be seen in the angles alone (both
legs walk alike); :func:`events_side_problem` finds it against the lab's own gait events.

Every function takes angles in degrees in gait2hip's convention (knee flexion positive).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: Below this hip flexion range (max − min, degrees) on both legs a trial is not walking.
#: Walking needs ~40° (fukuchi2018: 33–55° per cycle); standing sway stays within a few degrees.
MIN_WALKING_HIP_RANGE_DEG = 10.0
#: A knee angle below this (degrees) is flexion-negative: knees hyperextend by a few degrees only.
KNEE_NEGATIVE_DEG = -30.0
#: Two event times closer than this fraction of a stride are "the same event".
EVENT_MATCH_FRACTION = 0.15
_OTHER = {"right": "left", "left": "right"}


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def is_walking(angles_deg: Mapping[str, np.ndarray]) -> bool:
    """False when the hip flexion range is below ``MIN_WALKING_HIP_RANGE_DEG`` on both legs."""
    ranges = [
        float(np.ptp(np.asarray(angles_deg[c], dtype=float))) for c in ("hip_flexion_r", "hip_flexion_l")
    ]
    return max(ranges) >= MIN_WALKING_HIP_RANGE_DEG


def convention_problems(cycle_deg: Mapping[str, np.ndarray]) -> list[str]:
    """The likely convention errors of ONE gait cycle (empty when none is seen).

    Parameters
    ----------
    cycle_deg
        The 10 angles of one cycle, resampled to evenly spaced points from heel strike to
        heel strike (e.g. 101), degrees, columns named as in
        :data:`gait2hip.data.columns.INPUT_ANGLES`.

    Returns
    -------
    list of str
        One sentence per problem, naming the likely cause and the fix.
    """
    angles = {k: np.asarray(v, dtype=float) for k, v in cycle_deg.items()}
    problems: list[str] = []
    negative_knees = [k for k in ("knee_angle_r", "knee_angle_l") if np.min(angles[k]) < KNEE_NEGATIVE_DEG]
    if negative_knees:
        problems.append(
            f"knee flexion is negative ({', '.join(negative_knees)} down to "
            f"{min(np.min(angles[k]) for k in negative_knees):.0f}°): the knee sign is inverted "
            "(gait2392-like models measure flexion negative); let gait2hip detect it "
            "(knee_flexion_sign='auto', the command line's default) or negate the knee columns"
        )
        return problems  # the hip-knee coupling below assumes a flexion-positive knee
    own = {s: _corr(np.gradient(angles[f"hip_flexion_{s}"]), angles[f"knee_angle_{s}"]) for s in "rl"}
    other = {"r": "l", "l": "r"}
    cross = {
        s: _corr(np.gradient(angles[f"hip_flexion_{s}"]), angles[f"knee_angle_{other[s]}"]) for s in "rl"
    }
    inverted = [s for s in "rl" if own[s] < 0]
    if inverted and all(cross[s] > abs(own[s]) for s in inverted):
        problems.append(
            "the hips move with the OTHER leg's knee (hip–knee coupling "
            + ", ".join(f"{s}: own {own[s]:+.2f}, other {cross[s]:+.2f}" for s in inverted)
            + "): left and right are swapped in some columns (hip vs knee); check the column names"
        )
    elif inverted:
        legs = " and ".join({"r": "right", "l": "left"}[s] for s in inverted)
        problems.append(
            f"the hip flexion sign looks inverted on the {legs} leg{'s' if len(inverted) > 1 else ''} "
            "(hip flexion velocity vs knee flexion "
            f"correlates {', '.join(f'{own[s]:+.2f}' for s in inverted)}; every real walker is positive): "
            "hip flexion must be positive when the thigh swings forward; negate the hip_flexion column(s)"
        )
    n = len(angles["hip_adduction_r"])
    mirror = _corr(angles["hip_adduction_r"], np.roll(angles["hip_adduction_l"], n // 2))
    if mirror < 0:
        problems.append(
            f"the left and right hip adduction curves are mirror images (correlation {mirror:+.2f} half a "
            "cycle apart; real walkers ≥ +0.7): one side's adduction sign is inverted (a lab or global "
            "frame instead of the anatomical one); negate that side's hip_adduction (and check hip_rotation)"
        )
    return problems


def events_side_problem(
    *,
    kinematic: Mapping[str, np.ndarray],
    given: Mapping[str, np.ndarray],
    stride_s: float,
) -> str | None:
    """A sentence when the given heel strikes of each side match the OTHER side's kinematics.

    Parameters
    ----------
    kinematic
        Heel-strike times per side ('right', 'left') found from the angles.
    given
        Heel-strike times per side from the lab (C3D or an events CSV).
    stride_s
        A typical stride (s), to decide which events coincide.
    """

    def matched(a: np.ndarray, b: np.ndarray) -> float:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if not len(a) or not len(b):
            return float("nan")
        gaps = np.min(np.abs(a[:, None] - b[None, :]), axis=1)
        return float(np.mean(gaps < EVENT_MATCH_FRACTION * stride_s))

    pairs = [
        (matched(given[s], kinematic.get(s, [])), matched(given[s], kinematic.get(_OTHER[s], [])))
        for s in given
    ]
    pairs = [(same, swapped) for same, swapped in pairs if np.isfinite(same) and np.isfinite(swapped)]
    if pairs and all(same < 0.5 <= swapped for same, swapped in pairs):
        return (
            "the lab's right-foot events coincide with the LEFT leg's heel strikes in the angles (and "
            "vice versa): left and right are swapped between the events and the angle columns"
        )
    return None
