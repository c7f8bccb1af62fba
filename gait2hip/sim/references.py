"""Real people's hip-moment curves that the virtual cohort is judged against (realism gate).

Two independent real sources:

* **van der Zee, Mundinger & Kuo (2022)**, Sci Data 9:704: OpenSim inverse-dynamics group means
  and between-subject SDs of treadmill walking at 0.7, 1.1, 1.4 and 1.8 m/s
  (shared ``reference/vanderzee2022``, loaded by :func:`gait2hip.sim.kinematics.load_vanderzee`,
  moments = stored value × g × leg length). A cohort cadence is compared at the speed it maps
  to (:func:`gait2hip.sim.kinematics.cadence_to_speed` at the group height), interpolated
  between the measured speeds and clipped to 0.7–1.8 m/s.
* **Fukuchi, Fukuchi & Duarte (2018)**, PeerJ 6:e4640 (CC BY 4.0): one mean gait cycle per
  subject (30 healthy adults) at self-selected slow, comfortable and fast OVERGROUND speeds,
  read from the embedded real dataset ``fukuchi2018`` (:mod:`gait2hip.data.fukuchi`: converted
  once from ``real/fukuchi2018`` with the established Visual3D mapping
  :data:`~gait2hip.data.conventions.FUKUCHI_VISUAL3D`, one sample per leg, its missing samples
  repaired or the leg dropped as its data card says). The right legs are used; cohort cadence
  labels are the dataset's (slow → ``S``, med → ``C``, fast → ``F``; the files hold no speeds).

The sign conversion to OpenSim's convention is the dataset's (``tests/test_sim_references.py``
checks the signs against van der Zee's OpenSim moments).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gait2hip.data.columns import MOMENTS_R
from gait2hip.errors import Gait2HipInputError

AXES = ("flexion", "adduction", "rotation")
#: Right-hip moment column of each axis (the cohort's and the fukuchi2018 dataset's names).
HIP_MOMENT_COLUMNS = dict(zip(AXES, MOMENTS_R, strict=True))


@dataclass(frozen=True)
class ReferenceCurves:
    """Right-hip moment curves of a real group, N m/kg, 0..99 % of the cycle.

    Attributes
    ----------
    name
        Source and condition, e.g. ``'van der Zee 2022, 1.43 m/s'``.
    mean, sd
        [100, 3] group mean and between-subject SD (flexion, adduction, rotation).
    n_subjects
        Subjects behind the curves (0 when only the summary is published).
    """

    name: str
    mean: np.ndarray
    sd: np.ndarray
    n_subjects: int


def vanderzee_reference(cadence_spm: float, *, folder: str | Path | None = None) -> ReferenceCurves:
    """Van der Zee (2022) right-hip moments at the speed a cohort cadence maps to."""
    from gait2hip.sim.kinematics import (
        REFERENCE_HEIGHT_M,
        VZ_COORDINATES,
        cadence_to_speed,
        load_vanderzee,
        normative_at_speed,
    )

    table = load_vanderzee(None if folder is None else str(folder))
    speed = cadence_to_speed(cadence_spm, height_m=REFERENCE_HEIGHT_M)
    norm = normative_at_speed(speed, table)
    cols = [VZ_COORDINATES.index(f"hip_{axis}_r") for axis in AXES]
    used = float(np.clip(speed, table[0].speed_m_s, table[-1].speed_m_s))
    return ReferenceCurves(
        name=f"van der Zee 2022 treadmill {used:.2f} m/s",
        mean=norm.moment_mean[:, cols],
        sd=norm.moment_sd[:, cols],
        n_subjects=0,
    )


def fukuchi_subject_curves(label: str) -> np.ndarray:
    """Per-subject right-hip moments [n_subjects, 101, 3] (N m/kg, OpenSim convention).

    Parameters
    ----------
    label
        Cohort cadence label: ``'slow'``, ``'med'`` or ``'fast'``.
    """
    from gait2hip.data.fukuchi import CADENCE_LABEL, load_fukuchi2018

    if label not in CADENCE_LABEL.values():
        raise Gait2HipInputError(f"unknown cadence label {label!r}.", fix="use slow, med or fast.")
    right = load_fukuchi2018().select(cadences=[label], sides=["right"])
    columns = [right.target_columns.index(c) for c in MOMENTS_R]
    return right.Y[:, :, columns].astype(float)


def fukuchi_reference(label: str) -> ReferenceCurves:
    """Fukuchi (2018) group mean and between-subject SD at the overground condition of ``label``."""
    from gait2hip.data.fukuchi import CADENCE_LABEL, CONDITIONS

    curves = fukuchi_subject_curves(label)[:, :100]
    condition = next(CONDITIONS[c] for c, name in CADENCE_LABEL.items() if name == label)
    return ReferenceCurves(
        name=f"Fukuchi 2018 overground {condition}",
        mean=curves.mean(axis=0),
        sd=curves.std(axis=0, ddof=1),
        n_subjects=len(curves),
    )
