"""Pathological changes to the generated walk (the simulated patients, see ``patients.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait2hip.errors import Gait2HipInputError


@dataclass(frozen=True)
class GaitAlteration:
    """Changes to the healthy pattern (used for the simulated patients, see ``patients.py``).

    Attributes
    ----------
    hip_rom_reduction
        Fraction by which the right hip's sagittal range of motion shrinks, taken off the
        extension end (peak flexion kept).
    stance_shortening
        Cycle fraction by which the right stance phase ends earlier (right leg time-warp).
    trunk_lean_rad
        Peak lumbar bending towards the right during right single support.
    """

    hip_rom_reduction: float = 0.0
    stance_shortening: float = 0.0
    trunk_lean_rad: float = 0.0


#: Half-width (cycle fraction) of the local time warp that shortens the right stance.
WARP_HALF_WIDTH = 0.3


def right_leg_warp(
    phase: np.ndarray, *, toe_off: float, shortening: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local phase warp w(φ) = φ + Δ·b(φ) that maps the new (earlier) right toe-off onto the
    normative one, so the right leg reaches its toe-off posture Δ sooner.

    b is a squared raised cosine centred on the new toe-off, WARP_HALF_WIDTH wide on each
    side (zero with two derivatives at its edges, so accelerations stay continuous); the
    right leg's timing is untouched elsewhere (a global sinusoidal warp would speed the leg up
    and slow it down all over the cycle, inventing large limb accelerations). Returns
    w(φ) − φ, w'(φ) and w''(φ).
    """
    if not 0 <= shortening <= 0.08:
        raise Gait2HipInputError(
            f"stance shortening {shortening} is outside 0–0.08 of the cycle.", fix="use a smaller shortening."
        )
    centre = toe_off - shortening
    x = (np.mod(phase - centre + 0.5, 1.0) - 0.5) / WARP_HALF_WIDTH
    inside = np.abs(x) < 1
    k = np.pi / WARP_HALF_WIDTH
    u = np.where(inside, 0.5 * (1 + np.cos(np.pi * x)), 0.0)
    du = np.where(inside, -0.5 * k * np.sin(np.pi * x), 0.0)
    ddu = np.where(inside, -0.5 * k**2 * np.cos(np.pi * x), 0.0)
    return shortening * u**2, 1 + shortening * 2 * u * du, shortening * (2 * du**2 + 2 * u * ddu)
