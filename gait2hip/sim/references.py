"""Real people's hip-moment curves that the virtual cohort is judged against (realism gate).

Two independent real sources, both read-only inputs from the shared folder:

* **van der Zee, Mundinger & Kuo (2022)**, Sci Data 9:704: OpenSim inverse-dynamics group means
  and between-subject SDs of treadmill walking at 0.7, 1.1, 1.4 and 1.8 m/s
  (``reference/vanderzee2022``, loaded by :func:`gait2hip.sim.kinematics.load_vanderzee`,
  moments = stored value × g × leg length). A cohort cadence is compared at the speed it maps
  to (:func:`gait2hip.sim.kinematics.cadence_to_speed` at the group height), interpolated
  between the measured speeds and clipped to 0.7–1.8 m/s.
* **Fukuchi, Fukuchi & Duarte (2018)**, PeerJ 6:e4640 (CC BY 4.0): one mean gait cycle per
  subject (30 healthy adults) at self-selected slow, comfortable and fast OVERGROUND speeds
  (``real/fukuchi2018``, Visual3D). Cohort cadence labels map to the conditions
  slow → ``S``, med → ``C``, fast → ``F`` (the files hold no speeds).

Fukuchi's Visual3D conventions are converted to OpenSim's (:data:`FUKUCHI_HIP_MOMENTS`):
``RHipMomentZ`` is the sagittal moment with OpenSim's sign (extension negative in early stance,
flexion positive near 50 %); ``RHipMomentX`` is the frontal moment with the OPPOSITE sign (its
stance abductor moment is positive, OpenSim's ``hip_adduction_r_moment`` negative); the
transverse ``RHipMomentY`` correlates negatively with van der Zee's ``hip_rotation_r_moment``
at all three speeds, so it enters with its sign flipped too (``tests/test_sim_references.py``
checks these signs on the data). Missing values: a subject whose curve has a NaN run longer
than :data:`MAX_GAP` samples is dropped (``WBDS15walkOF`` right side), shorter runs are
interpolated linearly (single missing first rows in three files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import shared_dir

AXES = ("flexion", "adduction", "rotation")
#: OpenSim right-hip moment column, Fukuchi column and sign, per axis.
FUKUCHI_HIP_MOMENTS = {
    "flexion": ("hip_flexion_r_moment", "RHipMomentZ", 1.0),
    "adduction": ("hip_adduction_r_moment", "RHipMomentX", -1.0),
    "rotation": ("hip_rotation_r_moment", "RHipMomentY", -1.0),
}
FUKUCHI_CONDITIONS = {"slow": "S", "med": "C", "fast": "F"}
#: Longest run of missing samples that is interpolated (longer: the subject is dropped).
MAX_GAP = 3


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


def _fill_gaps(curve: np.ndarray) -> np.ndarray | None:
    """Interpolate NaN runs of at most MAX_GAP samples; None when a longer run exists."""
    bad = ~np.isfinite(curve)
    if not bad.any():
        return curve
    if bad.all():
        return None
    edges = np.diff(np.concatenate([[0], bad.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if (ends - starts).max() > MAX_GAP:
        return None
    x = np.arange(len(curve))
    return np.interp(x, x[~bad], curve[~bad])


def fukuchi_subject_curves(label: str, *, folder: str | Path | None = None) -> np.ndarray:
    """Per-subject right-hip moments [n_subjects, 101, 3] (N m/kg, OpenSim convention).

    Parameters
    ----------
    label
        Cohort cadence label: ``'slow'``, ``'med'`` or ``'fast'``.
    folder
        ``real/fukuchi2018`` folder; default inside the shared folder.
    """
    if label not in FUKUCHI_CONDITIONS:
        raise Gait2HipInputError(f"unknown cadence label {label!r}.", fix="use slow, med or fast.")
    if folder is None:
        root = shared_dir(required=True)
        assert root is not None
        folder = root / "real" / "fukuchi2018"
    files = sorted(Path(folder).glob(f"WBDS*walkO{FUKUCHI_CONDITIONS[label]}knt.tsv"))
    if not files:
        raise Gait2HipInputError(
            "no Fukuchi 2018 kinetics files found.",
            file=Path(folder),
            fix="point GAIT2HIP_SHARED at the shared folder with real/fukuchi2018.",
        )
    subjects = []
    for path in files:
        table = pd.read_csv(path, sep="\t", comment="#")
        if len(table) != 101:
            raise Gait2HipInputError(
                f"{len(table)} rows instead of 101.", file=path, fix="use the unmodified extract."
            )
        curves = []
        for _, column, sign in FUKUCHI_HIP_MOMENTS.values():
            if column not in table:
                raise Gait2HipInputError(
                    "column missing.", file=path, column=column, fix="use the unmodified extract."
                )
            curves.append(_fill_gaps(sign * table[column].to_numpy(dtype=float)))
        if all(c is not None for c in curves):
            subjects.append(np.column_stack(curves))
    return np.stack(subjects)


def fukuchi_reference(label: str, *, folder: str | Path | None = None) -> ReferenceCurves:
    """Fukuchi (2018) group mean and between-subject SD at the overground condition of ``label``."""
    curves = fukuchi_subject_curves(label, folder=folder)[:, :100]
    condition = {"S": "slow", "C": "comfortable", "F": "fast"}[FUKUCHI_CONDITIONS[label]]
    return ReferenceCurves(
        name=f"Fukuchi 2018 overground {condition}",
        mean=curves.mean(axis=0),
        sd=curves.std(axis=0, ddof=1),
        n_subjects=len(curves),
    )
