"""Simulated ONFH-like antalgic gait (the external 'patient' cohort).

Gait studies specific to osteonecrosis of the femoral head (ONFH) are few and small, so the
alterations below borrow from the better-documented antalgic gait of painful hip disease
(hip osteoarthritis), which shares the mechanism: pain and loss of motion at the hip.
The affected side is always the RIGHT hip, the side the release's targets describe.
Every patient gets their own random severity, drawn uniformly inside the stated ranges.

====================================  ===================  ==========================================
assumption                            range                source
====================================  ===================  ==========================================
reduced right-hip sagittal range of   12–30 % of the ROM,  Hurwitz et al. 1997, J Orthop Res 15:629
motion, lost at the extension end     i.e. ≈ 5–14° less    (less peak extension and sagittal ROM,
(peak flexion kept)                   peak extension       related to pain and passive motion);
                                                           Ornetti et al. 2010, Joint Bone Spine 77:421
shorter affected (right) stance       1–4 % of the cycle   Constantinou et al. 2014, J Orthop Sports
                                                           Phys Ther 44:291 (meta-analysis: shorter
                                                           single-limb support on the affected side)
slower self-selected cadence          N(100, 5) steps/min  Constantinou et al. 2014 (lower cadence and
                                      in 90–110            speed than controls; healthy self-selected
                                                           ≈ 105–115 steps/min)
shorter steps                         walk ratio × 0.90    Constantinou et al. 2014 (shorter step
                                                           length)
trunk lean towards the affected side  3–8° peak lumbar     Watelain et al. 2001, Arch Phys Med Rehabil
during its single support             bending              82:1705 (trunk/pelvis compensation in early
                                                           hip OA); Hurwitz et al. 1997
====================================  ===================  ==========================================

The shorter stance is a local time warp of the right leg's curves around toe-off
(``alteration.right_leg_warp``), so the leg leaves the ground earlier without speeding up
elsewhere in the cycle (generator 1.1.0; 1.0.0 used a global sinusoidal warp whose limb
accelerations made the contralateral hip moments implausible for the largest shortenings).

These are assumptions about a population, not measurements of one: the data card says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait2hip.sim.kinematics import GaitAlteration

HIP_ROM_REDUCTION = (0.12, 0.30)
STANCE_SHORTENING = (0.01, 0.04)
TRUNK_LEAN_DEG = (3.0, 8.0)
CADENCE_SPM = (100.0, 5.0, 90.0, 110.0)  # mean, SD, lower, upper
WALK_RATIO_FACTOR = 0.90


@dataclass(frozen=True)
class PatientGait:
    """One simulated patient's gait: the alteration, cadence and step-length factor."""

    alteration: GaitAlteration
    cadence_spm: float
    walk_ratio_factor: float = WALK_RATIO_FACTOR


def sample_patient_gait(rng: np.random.Generator) -> PatientGait:
    """Draw one patient's severity (ranges and sources in the module docstring)."""
    mean, sd, lo, hi = CADENCE_SPM
    cadence = float(np.clip(rng.normal(mean, sd), lo, hi))
    alteration = GaitAlteration(
        hip_rom_reduction=float(rng.uniform(*HIP_ROM_REDUCTION)),
        stance_shortening=float(rng.uniform(*STANCE_SHORTENING)),
        trunk_lean_rad=float(np.radians(rng.uniform(*TRUNK_LEAN_DEG))),
    )
    return PatientGait(alteration=alteration, cadence_spm=round(cadence, 1))
