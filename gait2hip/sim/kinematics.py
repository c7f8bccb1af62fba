"""Full-body walking kinematics for virtual subjects, built from adult normative patterns.

The normative source is van der Zee, Mundinger & Kuo (2022), *A biomechanics dataset of
healthy human walking at various speeds, step lengths and step widths*, Sci Data 9:704,
as OpenSim-convention group means and SDs per treadmill speed (0.7, 1.1, 1.4, 1.8 m/s) in
``shared/reference/vanderzee2022``. From them a walk is generated as follows.

* **Cadence → speed.** Speed = step length × step rate with step length = walk ratio ×
  cadence, walk ratio 0.0065 m/(steps/min) for a 1.758 m adult, scaled with height
  (Sekiya & Nagasaki 1998, Gait Posture 7:225; the van der Zee group means give
  0.0063–0.0068 at their four speeds, which confirms the value). So 78 / 115 / 135
  steps/min ≈ 0.66 / 1.43 / 1.97 m/s for a 1.758 m adult.
* **Speed → pattern.** Each coordinate's mean and SD curve is interpolated linearly in
  speed between the two neighbouring van der Zee speeds; outside 0.7–1.8 m/s the nearest
  end pattern is used unchanged (no extrapolation: the fast condition, ≈ 2 m/s, walks with
  the 1.8 m/s pattern on its own, shorter stride time). Right and left toe-off are
  interpolated the same way from the GRF curves.
* **Smoothness.** Every curve is a truncated Fourier series over the gait cycle
  (``N_HARMONICS`` harmonics), so the walk is periodic, C∞ within a stride and has exact
  first and second derivatives: inverse dynamics sees sane accelerations, also at the cycle
  boundaries, because several consecutive strides are generated and only inner ones are
  labelled.
* **Between-subject variation.** Per subject and coordinate, three modes drawn once and
  kept at every cadence (a subject keeps its style): an offset (SD = the van der Zee
  between-subject SD averaged over the cycle, capped at OFFSET_CAP_DEG because those SDs
  include marker-placement offsets), an excursion scale (SD AMPLITUDE_SD) and a timing shift
  (SD TIMING_SD of the cycle). The two legs share BILATERAL_SHARE of the variance. The pelvis
  orientation gets no offset (hip angles are measured from the pelvis, so a tilted pelvis
  would swing both feet away from under the body) and pelvis/lumbar curves keep the group
  shape, the lumbar offset being the trunk's own (TRUNK_OFFSET_DEG): random, independent
  trunk motion would demand ground reactions no foot can supply.
* **Stride-to-stride variation.** The same three modes at STRIDE_VARIATION × their size,
  drawn per stride and splined across stride centres (C²); stride times vary with a 2 %
  coefficient of variation (healthy adults 1–3 %, Hausdorff 2007, Hum Mov Sci 26:555).
* **Arms** (not in van der Zee): a documented neutral swing — shoulder flexion opposite to
  the ipsilateral hip, amplitude growing with speed from ±8° at 0.7 m/s to ±20° at 1.8 m/s,
  elbow flexed 20° swinging ±8° with the shoulder (magnitudes after Meyns, Bruijn &
  Duysens 2013, Gait Posture 38:555 and Collins, Adamczyk & Kuo 2009, Proc R Soc B
  276:3679), forearm mid-pronated, wrist neutral.

All angles are radians internally; :meth:`Walk.coordinates_frame` gives an OpenSim-ready
table (angles in degrees, translations in metres).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import shared_dir

VANDERZEE_SPEEDS: tuple[float, ...] = (0.7, 1.1, 1.4, 1.8)
VANDERZEE_FILES = {0.7: "0p7", 1.1: "1p1", 1.4: "1p4", 1.8: "1p8"}
#: Group height of van der Zee et al. (2022), m, as stored in the JSON.
REFERENCE_HEIGHT_M = 1.758
#: Walk ratio (step length / cadence) for a REFERENCE_HEIGHT_M adult, m per (steps/min).
WALK_RATIO = 0.0065
#: Harmonics kept (8 per stride ≈ 5–9 Hz over 78–135 steps/min, the usual 6 Hz gait low-pass).
N_HARMONICS = 8
#: Between-subject variation: offset SD = the van der Zee SD (cycle average) capped here, deg.
OFFSET_CAP_DEG = 3.0
#: Pelvis/lumbar pairs rotating about the same axis, and the SD of the trunk's own offset, deg.
TRUNK_PAIRS = (
    ("pelvis_tilt", "lumbar_extension"),
    ("pelvis_list", "lumbar_bending"),
    ("pelvis_rotation", "lumbar_rotation"),
)
TRUNK_OFFSET_DEG = 1.5
#: Between-subject SD of the excursion scale (fraction) and of the timing (cycles).
AMPLITUDE_SD = 0.05
TIMING_SD = 0.005
#: Stride-to-stride variation as a fraction of the between-subject variation.
STRIDE_VARIATION = 0.3
STRIDE_TIME_CV = 0.02
#: Share of the between-subject variance common to both legs.
BILATERAL_SHARE = 0.8
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
ARM_COORDINATES: tuple[str, ...] = tuple(
    f"{name}_{side}"
    for side in ("r", "l")
    for name in ("arm_flex", "arm_add", "arm_rot", "elbow_flex", "pro_sup", "wrist_flex", "wrist_dev")
)
#: Every coordinate of the Rajagopal (2016) model that the generator writes.
MODEL_COORDINATES: tuple[str, ...] = (
    *VZ_COORDINATES,
    "knee_angle_r_beta",
    "knee_angle_l_beta",
    *ARM_COORDINATES,
)


def _family(name: str) -> str:
    """Coordinate family shared by both legs (``hip_flexion_r`` → ``hip_flexion``)."""
    return name[:-2] if name.endswith(("_r", "_l")) else name


# --------------------------------------------------------------------- Fourier
def fourier_coefficients(samples: np.ndarray, *, n_harmonics: int = N_HARMONICS) -> np.ndarray:
    """Real Fourier coefficients of periodic samples over one cycle (rows = samples).

    Returns an array [1 + 2H, C]: the mean, then cos and sin coefficients of harmonics 1..H.
    """
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    spectrum = np.fft.rfft(samples, axis=0) / n
    h = min(n_harmonics, spectrum.shape[0] - 1)
    coef = np.zeros((1 + 2 * n_harmonics, *samples.shape[1:]))
    coef[0] = spectrum[0].real
    coef[1 : 1 + h] = 2 * spectrum[1 : 1 + h].real
    coef[1 + n_harmonics : 1 + n_harmonics + h] = -2 * spectrum[1 : 1 + h].imag
    return coef


def fourier_evaluate(coef: np.ndarray, phase: np.ndarray, *, derivative: int = 0) -> np.ndarray:
    """Evaluate a Fourier series (from :func:`fourier_coefficients`) or its phase derivative.

    ``phase`` is in cycles (1 = one gait cycle); derivatives are per cycle^derivative.
    """
    phase = np.asarray(phase, dtype=float)
    n_harm = (coef.shape[0] - 1) // 2
    k = np.arange(1, n_harm + 1)
    angle = 2 * np.pi * phase[..., None] * k
    w = (2 * np.pi * k) ** derivative
    # d^n/dφ^n cos = w cos(θ + nπ/2); sin likewise.
    shift = derivative * np.pi / 2
    cos_part = w * np.cos(angle + shift)
    sin_part = w * np.sin(angle + shift)
    if phase.ndim == 2:  # one phase per coordinate column: [T, C]
        out = np.einsum("tck,kc->tc", cos_part, coef[1 : 1 + n_harm])
        out += np.einsum("tck,kc->tc", sin_part, coef[1 + n_harm :])
    else:
        out = cos_part @ coef[1 : 1 + n_harm] + sin_part @ coef[1 + n_harm :]
    if derivative == 0:
        out = out + coef[0]
    return out


# --------------------------------------------------------------------- normative data
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


def _load_one(path: Path) -> NormativeGait:
    with open(path) as handle:
        raw = json.load(handle)
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
    g = 9.81
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
    base = Path(folder)
    out = []
    for speed in VANDERZEE_SPEEDS:
        path = base / f"vanderzee2022_{VANDERZEE_FILES[speed]}ms.json"
        if not path.exists():
            raise Gait2HipInputError(
                "normative walking data file is missing.",
                file=path,
                fix="point GAIT2HIP_SHARED at the shared folder with reference/vanderzee2022.",
            )
        out.append(_load_one(path))
    return tuple(out)


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


# --------------------------------------------------------------------- variation
def _bilateral_normals(rng: np.random.Generator) -> np.ndarray:
    """Standard-normal draw per coordinate where the two legs of a family share
    BILATERAL_SHARE of the variance (the rest is asymmetry)."""
    names = VZ_COORDINATES
    own = rng.standard_normal(len(names))
    families = sorted({_family(n) for n in names if n.endswith(("_r", "_l"))})
    shared = dict(zip(families, rng.standard_normal(len(families)), strict=True))
    a, b = np.sqrt(BILATERAL_SHARE), np.sqrt(1 - BILATERAL_SHARE)
    for j, name in enumerate(names):
        if name.endswith(("_r", "_l")):
            own[j] = a * shared[_family(name)] + b * own[j]
    return own


@dataclass(frozen=True)
class VariationDraw:
    """Unit-normal draws of the three variation modes, one value per coordinate.

    ``offset`` shifts the whole curve (scaled by the van der Zee SD, capped at
    OFFSET_CAP_DEG), ``amplitude`` scales the excursion about the cycle mean (× AMPLITUDE_SD),
    ``timing`` shifts the curve in phase (× TIMING_SD cycles).
    """

    offset: np.ndarray
    amplitude: np.ndarray
    timing: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> VariationDraw:
        return cls(
            offset=_bilateral_normals(rng), amplitude=_bilateral_normals(rng), timing=_bilateral_normals(rng)
        )

    def stacked(self) -> np.ndarray:
        return np.stack([self.offset, self.amplitude, self.timing])


@dataclass(frozen=True)
class SubjectStyle:
    """A subject's persistent deviation from the group pattern (kept across cadences)."""

    draw_: VariationDraw

    @classmethod
    def draw(cls, rng: np.random.Generator) -> SubjectStyle:
        return cls(draw_=VariationDraw.draw(rng))


# --------------------------------------------------------------------- pathology hooks
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


# --------------------------------------------------------------------- the walk
@dataclass
class Walk:
    """Several consecutive strides of one virtual subject at one cadence.

    Attributes
    ----------
    time
        Sample times, s.
    values, velocities, accelerations
        [len(time), len(MODEL_COORDINATES)] in rad / m (and per s, per s²).
    heel_strikes_r, heel_strikes_l, toe_offs_r, toe_offs_l
        Gait-event times, s.
    speed_m_s, cadence_spm
        Average walking speed and cadence.
    """

    time: np.ndarray
    values: np.ndarray
    velocities: np.ndarray
    accelerations: np.ndarray
    heel_strikes_r: np.ndarray
    heel_strikes_l: np.ndarray
    toe_offs_r: np.ndarray
    toe_offs_l: np.ndarray
    speed_m_s: float
    cadence_spm: float
    columns: tuple[str, ...] = field(default=MODEL_COORDINATES)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.columns.index(name)]

    def coordinates_frame(self) -> pd.DataFrame:
        """OpenSim-style table: ``time`` then every coordinate, angles in degrees, translations in m."""
        data = self.values.copy()
        for j, name in enumerate(self.columns):
            if name not in TRANSLATIONS:
                data[:, j] = np.degrees(data[:, j])
        frame = pd.DataFrame(data, columns=list(self.columns))
        frame.insert(0, "time", self.time)
        return frame

    def labelled_cycles(self) -> list[tuple[float, float]]:
        """Right heel strike → next right heel strike windows, excluding the first and last stride."""
        hs = self.heel_strikes_r
        return [(float(hs[i]), float(hs[i + 1])) for i in range(1, len(hs) - 2)]


def _arm_curves(phase: np.ndarray, speed: float) -> dict[str, np.ndarray]:
    """Neutral arm swing (documented in the module docstring), radians."""
    amp = np.radians(np.interp(speed, [0.7, 1.8], [8.0, 20.0]))
    # Right hip flexion peaks near 85-90 % of the right cycle; the right arm swings opposite.
    swing_r = -amp * np.cos(2 * np.pi * (phase - 0.87))
    swing_l = -swing_r
    out: dict[str, np.ndarray] = {}
    for side, swing in (("r", swing_r), ("l", swing_l)):
        out[f"arm_flex_{side}"] = swing
        out[f"arm_add_{side}"] = np.full_like(phase, np.radians(-5.0))
        out[f"arm_rot_{side}"] = np.zeros_like(phase)
        out[f"elbow_flex_{side}"] = np.radians(20.0) + 0.4 * swing
        out[f"pro_sup_{side}"] = np.full_like(phase, np.radians(45.0))
        out[f"wrist_flex_{side}"] = np.zeros_like(phase)
        out[f"wrist_dev_{side}"] = np.zeros_like(phase)
    return out


#: Half-width (cycle fraction) of the local time warp that shortens the right stance.
WARP_HALF_WIDTH = 0.3


def _right_leg_warp(
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


def generate_walk(
    *,
    normative: NormativeGait,
    cadence_spm: float,
    height_m: float,
    style: SubjectStyle,
    rng: np.random.Generator,
    n_strides: int = 4,
    sample_rate_hz: float = 100.0,
    alteration: GaitAlteration | None = None,
    pelvis_height_m: float | None = None,
) -> Walk:
    """Generate ``n_strides`` consecutive strides of overground walking.

    Parameters
    ----------
    normative
        Group pattern at this subject's speed (:func:`normative_at_speed`).
    cadence_spm
        Steps per minute; the mean stride time is 120 / cadence s.
    height_m
        Subject height (scales the pelvis height and forward progression).
    style
        The subject's persistent deviation (:meth:`SubjectStyle.draw`).
    rng
        Random generator for the stride-to-stride variation.
    n_strides
        Strides to generate; the first and last are margins, the middle ones get labelled.
    sample_rate_hz
        Output sampling rate.
    alteration
        Optional pathological changes (simulated patients).
    pelvis_height_m
        Standing pelvis-origin height of the subject's model; default the van der Zee mean
        scaled by height.
    """
    if n_strides < 3:
        raise ValueError("n_strides must be at least 3 (one margin stride on each side)")
    alteration = alteration or GaitAlteration()
    mean_stride = 120.0 / cadence_spm
    durations = mean_stride * (1 + STRIDE_TIME_CV * rng.standard_normal(n_strides))
    knots_t = np.concatenate([[0.0], np.cumsum(durations)])
    # Phase φ(t): C² monotone spline through (t_i, i); derivative ≈ 1/stride time.
    phase_spline = CubicSpline(knots_t, np.arange(n_strides + 1, dtype=float), bc_type="natural")
    time = np.arange(0.0, knots_t[-1], 1.0 / sample_rate_hz)
    phi = phase_spline(time)
    dphi = phase_spline(time, 1)
    ddphi = phase_spline(time, 2)

    names = VZ_COORDINATES
    mean_coef = fourier_coefficients(normative.mean)
    translation_cols = [names.index(n) for n in TRANSLATIONS]
    trunk_cols = [j for j, n in enumerate(names) if n.startswith(("pelvis_", "lumbar_"))]
    cycle_mean = mean_coef[0]
    offset_sd = np.minimum(normative.sd.mean(axis=0), np.radians(OFFSET_CAP_DEG))
    offset_sd[translation_cols] = 0.0
    # No pelvis-orientation offsets: hip angles are measured from the pelvis, so a tilted or
    # oblique pelvis would swing both feet away from under the body (5° ≈ 8 cm at the foot);
    # the individual differences live in the joint angles instead.
    offset_sd[[names.index(n) for n in ("pelvis_tilt", "pelvis_list", "pelvis_rotation")]] = 0.0
    mode_scale = np.stack(
        [offset_sd, np.full_like(offset_sd, AMPLITUDE_SD), np.full_like(offset_sd, TIMING_SD)]
    )
    # No amplitude or timing changes of the pelvis translations either: their SDs mostly reflect
    # treadmill position and body size, and random changes there would demand whole-body
    # accelerations (GRFs) no person produces.
    mode_scale[1:, translation_cols] = 0.0
    # Pelvis and lumbar curves keep the group shape (offsets only): the trunk stays upright
    # because lumbar motion mirrors pelvic motion, and scaling or shifting them independently
    # would make the trunk sway and demand lateral ground reactions no foot can supply.
    mode_scale[1:, trunk_cols] = 0.0
    trunk_pairs = [(names.index(p), names.index(q)) for p, q in TRUNK_PAIRS]

    def with_upright_trunk(modes: np.ndarray) -> np.ndarray:
        """A pelvis offset comes with the opposite lumbar offset (trunk kept upright, e.g. more
        anterior pelvic tilt with more lordosis); the trunk's own offset is TRUNK_OFFSET_DEG."""
        modes = modes.copy()
        for pelvis, lumbar in trunk_pairs:
            own = modes[0, lumbar] / max(offset_sd[lumbar], 1e-12) * np.radians(TRUNK_OFFSET_DEG)
            modes[0, lumbar] = -modes[0, pelvis] + own
        return modes

    subject_modes = with_upright_trunk(style.draw_.stacked() * mode_scale)  # [3, C]
    # Stride-to-stride: one draw per stride, splined across stride centres (C², extrapolated
    # smoothly over the outer half strides, which are never labelled).
    stride_modes = np.stack(
        [VariationDraw.draw(rng).stacked() * mode_scale * STRIDE_VARIATION for _ in range(n_strides)]
    )  # [S, 3, C]
    centres = np.arange(n_strides) + 0.5
    stride_spline = CubicSpline(centres, stride_modes, axis=0, bc_type="natural")
    cyc = np.mod(phi, 1.0)

    def pattern(phase: np.ndarray, d: int) -> list[np.ndarray]:
        """q = m̄ + (1 + a)·(M(φ + δ) − m̄) + o, with a, δ, o slowly varying in global phase;
        returns q and its first d derivatives with respect to phase."""
        modes = [stride_spline(phase_global, m) for m in range(d + 1)]
        modes[0] = modes[0] + subject_modes
        off, amp, lag = ([modes[m][:, i] for m in range(d + 1)] for i in range(3))
        shifted = phase[:, None] + lag[0]
        big_m = [fourier_evaluate(mean_coef, shifted, derivative=m) for m in range(d + 1)]
        centred = big_m[0] - cycle_mean
        out = [cycle_mean + (1 + amp[0]) * centred + off[0]]
        if d >= 1:
            rate = 1 + lag[1]
            out.append(amp[1] * centred + (1 + amp[0]) * big_m[1] * rate + off[1])
        if d >= 2:
            out.append(
                amp[2] * centred
                + 2 * amp[1] * big_m[1] * rate
                + (1 + amp[0]) * (big_m[2] * rate**2 + big_m[1] * lag[2])
                + off[2]
            )
        return out

    phase_global = phi
    q_phi = pattern(cyc, 2)  # values and dq/dφ, d²q/dφ² on the cycle phase

    # Right leg: optional time warp (shorter affected stance) applied to right-leg columns.
    right_cols = [j for j, n in enumerate(names) if n.endswith("_r")]
    if alteration.stance_shortening:
        shift, dw, ddw = _right_leg_warp(
            cyc, toe_off=normative.toe_off_r, shortening=alteration.stance_shortening
        )
        warped = cyc + shift
        phase_global = phi + shift
        q_w = pattern(np.mod(warped, 1.0), 2)
        phase_global = phi
        for j in right_cols:
            q_phi[0][:, j] = q_w[0][:, j]
            q_phi[2][:, j] = q_w[2][:, j] * dw**2 + q_w[1][:, j] * ddw
            q_phi[1][:, j] = q_w[1][:, j] * dw

    q, dq, ddq = q_phi
    if alteration.hip_rom_reduction:
        j = names.index("hip_flexion_r")
        peak = float(fourier_evaluate(mean_coef, np.linspace(0, 1, 200, endpoint=False))[:, j].max())
        r = alteration.hip_rom_reduction
        q[:, j] = peak - (1 - r) * (peak - q[:, j])
        dq[:, j] *= 1 - r
        ddq[:, j] *= 1 - r
    if alteration.trunk_lean_rad:
        j = names.index("lumbar_bending")
        centre = 0.5 * (normative.toe_off_l + normative.heel_strike_l)
        # One stride-frequency harmonic peaking in right single support and zero in left
        # single support: the slowest lean that does the job, so the trunk's lateral
        # acceleration (and the lateral ground reaction it demands) stays physiological.
        w = 2 * np.pi
        bump = 0.5 * (1 + np.cos(w * (cyc - centre)))
        dbump = -0.5 * w * np.sin(w * (cyc - centre))
        ddbump = -0.5 * w**2 * np.cos(w * (cyc - centre))
        q[:, j] += alteration.trunk_lean_rad * bump
        dq[:, j] += alteration.trunk_lean_rad * dbump
        ddq[:, j] += alteration.trunk_lean_rad * ddbump

    # Chain rule from cycle phase to time.
    vel = dq * dphi[:, None]
    acc = ddq * dphi[:, None] ** 2 + dq * ddphi[:, None]

    speed = normative.speed_m_s
    scale = height_m / REFERENCE_HEIGHT_M
    tx, ty, tz = (names.index(n) for n in TRANSLATIONS)
    # Forward progression: distance = speed × time on average, plus the pattern's surge.
    stride_length = speed * mean_stride
    q[:, tx] = stride_length * phi + scale * q[:, tx]
    vel[:, tx] = stride_length * dphi + scale * vel[:, tx]
    acc[:, tx] = stride_length * ddphi + scale * acc[:, tx]
    base = pelvis_height_m if pelvis_height_m is not None else scale * float(normative.mean[:, 4].mean())
    bob = q[:, ty] - float(normative.mean[:, 4].mean())
    q[:, ty] = base + scale * bob
    vel[:, ty] *= scale
    acc[:, ty] *= scale
    q[:, tz] *= scale
    vel[:, tz] *= scale
    acc[:, tz] *= scale

    # Model-only coordinates: patella couplers and arms.
    cols = list(MODEL_COORDINATES)
    values = np.zeros((len(time), len(cols)))
    vels = np.zeros_like(values)
    accs = np.zeros_like(values)
    values[:, : len(names)], vels[:, : len(names)], accs[:, : len(names)] = q, vel, acc
    for side in ("r", "l"):
        src, dst = names.index(f"knee_angle_{side}"), cols.index(f"knee_angle_{side}_beta")
        values[:, dst], vels[:, dst], accs[:, dst] = q[:, src], vel[:, src], acc[:, src]
    eps = 1e-4
    arms = _arm_curves(cyc, speed)
    arms_p = _arm_curves(cyc + eps, speed)
    arms_m = _arm_curves(cyc - eps, speed)
    for name, value in arms.items():
        j = cols.index(name)
        d1 = (arms_p[name] - arms_m[name]) / (2 * eps)
        d2 = (arms_p[name] - 2 * value + arms_m[name]) / eps**2
        values[:, j] = value
        vels[:, j] = d1 * dphi
        accs[:, j] = d2 * dphi**2 + d1 * ddphi

    dense_t = np.linspace(0.0, knots_t[-1], 20 * n_strides + 1)
    dense_phi = phase_spline(dense_t)

    def when(fraction: float) -> np.ndarray:
        targets = np.arange(n_strides) + fraction
        return np.interp(targets, dense_phi, dense_t)

    toe_off_r = normative.toe_off_r - alteration.stance_shortening
    return Walk(
        time=time,
        values=values,
        velocities=vels,
        accelerations=accs,
        heel_strikes_r=knots_t.copy(),
        heel_strikes_l=when(normative.heel_strike_l),
        toe_offs_r=when(toe_off_r),
        toe_offs_l=when(normative.toe_off_l),
        speed_m_s=speed,
        cadence_spm=cadence_spm,
    )
