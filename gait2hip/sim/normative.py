"""Adult normative walking patterns: van der Zee et al. (2022) group means per speed.

The source is van der Zee, Mundinger & Kuo (2022), *A biomechanics dataset of healthy human
walking at various speeds, step lengths and step widths*, Sci Data 9:704, as
OpenSim-convention group means and SDs per treadmill speed (0.7, 1.1, 1.4, 1.8 m/s) in
``shared/reference/vanderzee2022``.

* **Cadence → speed.** Speed = step length × step rate with step length = walk ratio ×
  cadence, walk ratio 0.0065 m/(steps/min) for a 1.758 m adult, scaled with height
  (Sekiya & Nagasaki 1998, Gait Posture 7:225; the van der Zee group means give
  0.0063–0.0068 at their four speeds, which confirms the value). So 78 / 115 / 135
  steps/min ≈ 0.66 / 1.43 / 1.97 m/s for a 1.758 m adult.
* **Speed → pattern.** Each coordinate's mean and SD curve is interpolated linearly in
  speed between the two neighbouring van der Zee speeds; outside 0.7–1.8 m/s the nearest
  end pattern is used unchanged (no extrapolation). Right and left toe-off are interpolated
  the same way from the GRF curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from gait2hip.data.references import GRAVITY, read_vanderzee
from gait2hip.data.references import VANDERZEE_SPEEDS as _FILE_SPEEDS
from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import shared_dir

VANDERZEE_SPEEDS: tuple[float, ...] = tuple(_FILE_SPEEDS)
#: Group height of van der Zee et al. (2022), m, as stored in the JSON.
REFERENCE_HEIGHT_M = 1.758
#: Walk ratio (step length / cadence) for a REFERENCE_HEIGHT_M adult, m per (steps/min).
WALK_RATIO = 0.0065
GRF_CONTACT_BW = 0.05
#: Speeds this far outside 0.7–1.8 m/s use the nearest end pattern (no extrapolation).
MAX_OUTSIDE_M_S = 0.5

#: Van der Zee coordinates, in file order (after the index column).
VZ_COORDINATES: tuple[str, ...] = (
    "pelvis_tilt", "pelvis_list", "pelvis_rotation", "pelvis_tx", "pelvis_ty", "pelvis_tz",
    "hip_flexion_r", "hip_adduction_r", "hip_rotation_r", "knee_angle_r", "ankle_angle_r",
    "subtalar_angle_r", "mtp_angle_r", "hip_flexion_l", "hip_adduction_l", "hip_rotation_l",
    "knee_angle_l", "ankle_angle_l", "subtalar_angle_l", "mtp_angle_l",
    "lumbar_extension", "lumbar_bending", "lumbar_rotation",
)  # fmt: skip
TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")


@dataclass(frozen=True)
class NormativeGait:
    """Group-mean walking pattern at one speed (van der Zee 2022 layout, radians / metres).

    Attributes
    ----------
    speed_m_s
        Treadmill speed.
    mean, sd
        [100, 23] coordinate means and between-subject SDs, rows 0..99 % of the cycle
        from right heel strike, columns :data:`VZ_COORDINATES`.
    grf_mean, grf_sd
        [100, 6] right Fx Fy Fz, left Fx Fy Fz in body weights.
    moment_mean, moment_sd
        [100, 23] inverse-dynamics generalized forces, N·m/kg (rotations) and N/kg.
    toe_off_r, heel_strike_l, toe_off_l
        Gait events as fractions of the cycle.
    cadence_spm
        Group cadence at that speed, steps/min.
    """

    speed_m_s: float
    mean: np.ndarray
    sd: np.ndarray
    grf_mean: np.ndarray
    grf_sd: np.ndarray
    moment_mean: np.ndarray
    moment_sd: np.ndarray
    toe_off_r: float
    heel_strike_l: float
    toe_off_l: float
    cadence_spm: float


def _events(grf: np.ndarray) -> tuple[float, float, float]:
    """Right toe-off, left heel strike, left toe-off (cycle fractions) from vertical GRF."""
    n = len(grf)
    right = grf[:, 1] > GRF_CONTACT_BW
    left = grf[:, 4] > GRF_CONTACT_BW
    # Right stance starts at row 0; toe-off = first unloaded row after mid-cycle contact.
    toe_off_r = float(np.argmin(right[1:]) + 1) / n
    left_off = np.flatnonzero(~left)
    toe_off_l = float(left_off[0]) / n
    heel_strike_l = float(left_off[-1] + 1) / n
    return toe_off_r, heel_strike_l, toe_off_l


def _zxy_matrix(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Rz(a)·Rx(b)·Ry(c), the pelvis rotation of the OpenSim ground_pelvis joint, [T, 3, 3]."""
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rz = np.zeros((len(a), 3, 3))
    rz[:, 0, 0], rz[:, 0, 1], rz[:, 1, 0], rz[:, 1, 1], rz[:, 2, 2] = ca, -sa, sa, ca, 1
    rx = np.zeros_like(rz)
    rx[:, 0, 0], rx[:, 1, 1], rx[:, 1, 2], rx[:, 2, 1], rx[:, 2, 2] = 1, cb, -sb, sb, cb
    ry = np.zeros_like(rz)
    ry[:, 0, 0], ry[:, 0, 2], ry[:, 1, 1], ry[:, 2, 0], ry[:, 2, 2] = cc, sc, 1, -sc, cc
    return rz @ rx @ ry


def _remove_heading(ik: np.ndarray, ik_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-express the pelvis in a frame where the subject walks along +x.

    The van der Zee treadmill frame has the subject heading about −90° (pelvis_rotation ≈
    −1.5 rad). Because heading is the LAST rotation of the Z-X-Y sequence, simply subtracting
    it would mislabel obliquity as tilt; instead the full pelvis orientation is rotated by the
    mean heading about vertical and decomposed again, and translations are rotated alike.
    """
    ik, ik_sd = ik.copy(), ik_sd.copy()
    heading = float(ik[:, 2].mean())
    turn = _zxy_matrix(np.zeros(1), np.zeros(1), np.array([-heading]))[0]
    rot = turn @ _zxy_matrix(ik[:, 0], ik[:, 1], ik[:, 2])
    ik[:, 1] = np.arcsin(np.clip(rot[:, 2, 1], -1, 1))
    ik[:, 2] = np.arctan2(-rot[:, 2, 0], rot[:, 2, 2])
    ik[:, 0] = np.arctan2(-rot[:, 0, 1], rot[:, 1, 1])
    trans = (turn @ (ik[:, 3:6] - ik[:, 3:6].mean(axis=0)).T).T
    ik[:, 3], ik[:, 5] = trans[:, 0], trans[:, 2]
    # SDs follow the same axis swap (the heading is ≈ a quarter turn).
    swap = abs(np.sin(heading)) > np.sqrt(0.5)
    if swap:
        ik_sd[:, [0, 1]] = ik_sd[:, [1, 0]]
        ik_sd[:, [3, 5]] = ik_sd[:, [5, 3]]
    return ik, ik_sd


def _load_one(raw: dict, path: Path) -> NormativeGait:
    header = list(raw["ik_header"][1:])
    if tuple(header) != VZ_COORDINATES:
        raise Gait2HipInputError(
            f"unexpected coordinate header {header[:4]}...",
            file=path,
            column="ik_header",
            fix="use the van der Zee 2022 files from predsim_benchmark_data unmodified.",
        )
    ik = np.asarray(raw["ik"], dtype=float)[:, 1:]
    ik_sd = np.asarray(raw["ik_std"], dtype=float)[:, 1:]
    grf = np.asarray(raw["grf"], dtype=float)[:, 1:]
    grf_sd = np.asarray(raw["grf_std"], dtype=float)[:, 1:]
    leg = float(raw["leglength"])
    g = GRAVITY
    # Moments are normalised by m·g·L, forces by m·g (see the reference README).
    scale = np.array([g if c in TRANSLATIONS else g * leg for c in VZ_COORDINATES])
    moment = np.asarray(raw["id"], dtype=float)[:, 1:] * scale
    moment_sd = np.asarray(raw["id_std"], dtype=float)[:, 1:] * scale
    ik, ik_sd = _remove_heading(ik, ik_sd)
    stride_hz = float(raw["stride_frequency"]) * np.sqrt(g / leg)
    toe_off_r, heel_strike_l, toe_off_l = _events(grf)
    return NormativeGait(
        speed_m_s=float(raw["speed"]),
        mean=ik,
        sd=ik_sd,
        grf_mean=grf,
        grf_sd=grf_sd,
        moment_mean=moment,
        moment_sd=moment_sd,
        toe_off_r=toe_off_r,
        heel_strike_l=heel_strike_l,
        toe_off_l=toe_off_l,
        cadence_spm=120.0 * stride_hz,
    )


@lru_cache(maxsize=4)
def load_vanderzee(folder: str | None = None) -> tuple[NormativeGait, ...]:
    """The four van der Zee (2022) speeds, slowest first.

    Parameters
    ----------
    folder
        Folder with ``vanderzee2022_<speed>ms.json``; default ``shared/reference/vanderzee2022``.
    """
    if folder is None:
        root = shared_dir(required=True)
        assert root is not None
        folder = str(root / "reference" / "vanderzee2022")
    return tuple(_load_one(*read_vanderzee(folder, speed=speed)) for speed in VANDERZEE_SPEEDS)


def normative_at_speed(speed_m_s: float, table: tuple[NormativeGait, ...]) -> NormativeGait:
    """Linear interpolation (or limited extrapolation) of the normative pattern in speed."""
    speeds = np.array([g.speed_m_s for g in table])
    lo_limit, hi_limit = speeds[0] - MAX_OUTSIDE_M_S, speeds[-1] + MAX_OUTSIDE_M_S
    if not lo_limit <= speed_m_s <= hi_limit:
        raise Gait2HipInputError(
            f"walking speed {speed_m_s:.2f} m/s is outside what the normative data support "
            f"({lo_limit:.1f}–{hi_limit:.1f} m/s).",
            fix="choose a cadence between about 70 and 140 steps/min.",
        )
    requested = float(speed_m_s)
    speed_m_s = float(np.clip(speed_m_s, speeds[0], speeds[-1]))
    i = int(np.clip(np.searchsorted(speeds, speed_m_s) - 1, 0, len(speeds) - 2))
    a, b = table[i], table[i + 1]
    w = (speed_m_s - a.speed_m_s) / (b.speed_m_s - a.speed_m_s)

    def mix(x: np.ndarray | float, y: np.ndarray | float):
        return (1 - w) * x + w * y

    return NormativeGait(
        speed_m_s=requested,
        mean=mix(a.mean, b.mean),
        sd=np.maximum(mix(a.sd, b.sd), 0.0),
        grf_mean=mix(a.grf_mean, b.grf_mean),
        grf_sd=np.maximum(mix(a.grf_sd, b.grf_sd), 0.0),
        moment_mean=mix(a.moment_mean, b.moment_mean),
        moment_sd=np.maximum(mix(a.moment_sd, b.moment_sd), 0.0),
        toe_off_r=float(mix(a.toe_off_r, b.toe_off_r)),
        heel_strike_l=float(mix(a.heel_strike_l, b.heel_strike_l)),
        toe_off_l=float(mix(a.toe_off_l, b.toe_off_l)),
        cadence_spm=float(mix(a.cadence_spm, b.cadence_spm)),
    )


def cadence_to_speed(cadence_spm: float, *, height_m: float) -> float:
    """Walking speed (m/s) at a cadence, from a height-scaled walk ratio (Sekiya & Nagasaki 1998)."""
    if not 40 <= cadence_spm <= 180:
        raise Gait2HipInputError(
            f"cadence {cadence_spm} steps/min is not a walking cadence.",
            column="cadence_spm",
            fix="give a cadence between 40 and 180 steps/min.",
        )
    step_length = WALK_RATIO * (height_m / REFERENCE_HEIGHT_M) * cadence_spm
    return step_length * cadence_spm / 60.0
