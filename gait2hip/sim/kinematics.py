"""Full-body walking kinematics for virtual subjects, built from adult normative patterns.

The normative source is van der Zee, Mundinger & Kuo (2022), *A biomechanics dataset of
healthy human walking at various speeds, step lengths and step widths*, Sci Data 9:704,
as OpenSim-convention group means and SDs per treadmill speed (0.7, 1.1, 1.4, 1.8 m/s) in
``shared/reference/vanderzee2022``. From them a walk is generated as follows.

* **Cadence → speed → pattern** (:mod:`gait2hip.sim.normative`): speed from a height-scaled
  walk ratio, each coordinate's mean and SD curve interpolated in speed between the van der
  Zee speeds (no extrapolation: the fast condition, ≈ 2 m/s, walks with the 1.8 m/s pattern
  on its own, shorter stride time).
* **Smoothness.** Every curve is a truncated Fourier series over the gait cycle
  (``N_HARMONICS`` harmonics), so the walk is periodic, C∞ within a stride and has exact
  first and second derivatives: inverse dynamics sees sane accelerations, also at the cycle
  boundaries, because several consecutive strides are generated and only inner ones are
  labelled.
* **Between-subject variation.** Per subject and coordinate, three modes drawn once and
  kept at every cadence (a subject keeps its style): an offset (SD = the van der Zee
  between-subject SD averaged over the cycle, capped at OFFSET_CAP_DEG), an excursion scale
  (SD AMPLITUDE_SD) and a timing shift (SD TIMING_SD of the cycle). The two legs share
  BILATERAL_SHARE of the variance. The pelvis orientation gets no offset (hip angles are
  measured from the pelvis, so a tilted pelvis would swing both feet away from under the
  body) and pelvis/lumbar curves keep the group shape, the lumbar offset being the trunk's
  own (TRUNK_OFFSET_DEG): random, independent trunk motion would demand ground reactions no
  foot can supply.
* **Measurement offsets** (:func:`measurement_offsets`, new in 2.0). Real people's joint
  angles differ between subjects more than the 3° cap: the SD of per-subject cycle means is
  6.6–6.9° for hip flexion, 4.4–4.7° for hip rotation and 3.7–4.4° for knee flexion in
  Fukuchi et al. (2018, 30 adults, three speeds) and larger still in van der Zee's SDs (9–10,
  8 and 4–6°); much of it is marker placement and segment-frame definition. Put into the
  model's joints, offsets that large push the hip past what its muscles can hold (2.0 trials:
  fast-walk cycles failing QA went from 5 to 10 of 18 in six subjects), so the part of the real
  SD beyond the simulated one, ``sqrt(real² − simulated²)``, is added to the INPUT angles
  only, as a per-subject offset (MEASUREMENT_OFFSET_SD_DEG), like a marker-placement error:
  the labels stay those of the simulated body.
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

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from gait2hip.sim.alteration import GaitAlteration, right_leg_warp
from gait2hip.sim.fourier import N_HARMONICS, fourier_coefficients, fourier_evaluate  # noqa: F401
from gait2hip.sim.normative import (  # noqa: F401  (re-exported: the generator's public names)
    MAX_OUTSIDE_M_S,
    REFERENCE_HEIGHT_M,
    TRANSLATIONS,
    VANDERZEE_SPEEDS,
    VZ_COORDINATES,
    WALK_RATIO,
    NormativeGait,
    cadence_to_speed,
    load_vanderzee,
    normative_at_speed,
)

#: Between-subject variation: offset SD = the van der Zee SD (cycle average) capped here, deg.
OFFSET_CAP_DEG = 3.0
#: Per-subject offsets of the INPUT angles only (measurement offsets), SD in deg: the SD of
#: per-subject cycle means in Fukuchi et al. (2018; hip flexion 6.6, hip rotation 4.4, knee
#: 3.7°, lowest over the three speeds) beyond the simulated OFFSET_CAP_DEG, sqrt(real² − 3²).
#: Hip adduction (2.2–2.6°) and ankle (2.5–2.7°) vary less than the simulated 3° already.
MEASUREMENT_OFFSET_SD_DEG = {"hip_flexion": 5.9, "hip_rotation": 3.2, "knee_angle": 2.2}
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


def variation_scales(normative: NormativeGait) -> np.ndarray:
    """SDs [3, C] of the offset (rad / m), excursion-scale and timing modes per coordinate.

    Offsets: the van der Zee between-subject SD (cycle average) capped at OFFSET_CAP_DEG.
    Pelvis orientation gets no offset (hip angles are measured from the pelvis, so a tilted or
    oblique pelvis would swing both feet away from under the body, 5° ≈ 8 cm at the foot).
    Pelvis translations vary in neither
    size nor timing (their SDs reflect treadmill position and body size; random changes would
    demand whole-body accelerations no person produces), and pelvis/lumbar curves keep the
    group shape (independent trunk sway would demand lateral ground reactions no foot supplies).
    """
    names = VZ_COORDINATES
    offset_sd = np.minimum(normative.sd.mean(axis=0), np.radians(OFFSET_CAP_DEG))
    translation_cols = [names.index(n) for n in TRANSLATIONS]
    trunk_cols = [j for j, n in enumerate(names) if n.startswith(("pelvis_", "lumbar_"))]
    offset_sd[translation_cols] = 0.0
    offset_sd[[names.index(n) for n in ("pelvis_tilt", "pelvis_list", "pelvis_rotation")]] = 0.0
    scale = np.stack([offset_sd, np.full_like(offset_sd, AMPLITUDE_SD), np.full_like(offset_sd, TIMING_SD)])
    scale[1:, translation_cols] = 0.0
    scale[1:, trunk_cols] = 0.0
    return scale


def subject_offsets(modes: np.ndarray, offset_sd: np.ndarray) -> np.ndarray:
    """A pelvis offset comes with the opposite lumbar offset (trunk kept upright, e.g. more
    anterior pelvic tilt with more lordosis); the trunk's own offset is TRUNK_OFFSET_DEG."""
    names = VZ_COORDINATES
    modes = modes.copy()
    for pelvis_name, lumbar_name in TRUNK_PAIRS:
        pelvis, lumbar = names.index(pelvis_name), names.index(lumbar_name)
        own = modes[0, lumbar] / max(offset_sd[lumbar], 1e-12) * np.radians(TRUNK_OFFSET_DEG)
        modes[0, lumbar] = -modes[0, pelvis] + own
    return modes


def measurement_offsets(rng: np.random.Generator) -> dict[str, float]:
    """A subject's measurement offsets of the input angles, deg (module docstring), keyed by
    coordinate (``hip_flexion_r`` …); the legs share BILATERAL_SHARE of the variance."""
    a, b = np.sqrt(BILATERAL_SHARE), np.sqrt(1 - BILATERAL_SHARE)
    out = {}
    for family, sd in MEASUREMENT_OFFSET_SD_DEG.items():
        common, right, left = rng.standard_normal(3)
        out[f"{family}_r"] = float(sd * (a * common + b * right))
        out[f"{family}_l"] = float(sd * (a * common + b * left))
    return out


@dataclass(frozen=True)
class _PatternTrack:
    """A subject's Fourier mean pattern with its persistent and stride-to-stride modes."""

    mean_coef: np.ndarray
    subject_modes: np.ndarray  # [3, C]: offset, excursion scale, timing
    stride_spline: CubicSpline  # global phase -> [3, C] stride-to-stride modes

    def evaluate(self, phase: np.ndarray, phase_global: np.ndarray, d: int = 2) -> list[np.ndarray]:
        """q = m̄ + (1 + a)·(M(φ + δ) − m̄) + o, with a, δ, o slowly varying in global phase;
        returns q and its first d derivatives with respect to phase."""
        cycle_mean = self.mean_coef[0]
        modes = [self.stride_spline(phase_global, m) for m in range(d + 1)]
        modes[0] = modes[0] + self.subject_modes
        off, amp, lag = ([modes[m][:, i] for m in range(d + 1)] for i in range(3))
        shifted = phase[:, None] + lag[0]
        big_m = [fourier_evaluate(self.mean_coef, shifted, derivative=m) for m in range(d + 1)]
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


def _altered_pattern(
    track: _PatternTrack,
    *,
    cyc: np.ndarray,
    phi: np.ndarray,
    normative: NormativeGait,
    alteration: GaitAlteration,
) -> list[np.ndarray]:
    """The pattern's values and phase derivatives [T, C] with the patient alterations applied."""
    names = VZ_COORDINATES
    q, dq, ddq = track.evaluate(cyc, phi)
    if alteration.stance_shortening:
        # Right leg: time warp (shorter affected stance) applied to the right-leg columns.
        shift, dw, ddw = right_leg_warp(
            cyc, toe_off=normative.toe_off_r, shortening=alteration.stance_shortening
        )
        q_w = track.evaluate(np.mod(cyc + shift, 1.0), phi + shift)
        right_cols = [j for j, n in enumerate(names) if n.endswith("_r")]
        q[:, right_cols] = q_w[0][:, right_cols]
        ddq[:, right_cols] = q_w[2][:, right_cols] * dw[:, None] ** 2 + q_w[1][:, right_cols] * ddw[:, None]
        dq[:, right_cols] = q_w[1][:, right_cols] * dw[:, None]
    if alteration.hip_rom_reduction:
        j = names.index("hip_flexion_r")
        peak = float(fourier_evaluate(track.mean_coef, np.linspace(0, 1, 200, endpoint=False))[:, j].max())
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
        q[:, j] += alteration.trunk_lean_rad * 0.5 * (1 + np.cos(w * (cyc - centre)))
        dq[:, j] += alteration.trunk_lean_rad * -0.5 * w * np.sin(w * (cyc - centre))
        ddq[:, j] += alteration.trunk_lean_rad * -0.5 * w**2 * np.cos(w * (cyc - centre))
    return [q, dq, ddq]


def _place_pelvis(
    motion: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    phase: tuple[np.ndarray, np.ndarray, np.ndarray],
    stride_length: float,
    scale: float,
    base_height: float,
    mean_height: float,
) -> None:
    """Pelvis translations in place: forward progression (distance = speed × time on average,
    plus the pattern's surge), the vertical bob about the standing height, sideways sway; the
    pattern's excursions scaled with the subject's height."""
    q, vel, acc = motion
    phi, dphi, ddphi = phase
    tx, ty, tz = (VZ_COORDINATES.index(n) for n in TRANSLATIONS)
    q[:, tx] = stride_length * phi + scale * q[:, tx]
    vel[:, tx] = stride_length * dphi + scale * vel[:, tx]
    acc[:, tx] = stride_length * ddphi + scale * acc[:, tx]
    q[:, ty] = base_height + scale * (q[:, ty] - mean_height)
    for j, array in itertools.product((ty, tz), (vel, acc)):
        array[:, j] *= scale
    q[:, tz] *= scale


def _model_columns(
    motion: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    cyc: np.ndarray,
    dphi: np.ndarray,
    ddphi: np.ndarray,
    speed: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every MODEL_COORDINATES column: the pattern, the patella couplers and the arms."""
    names, cols = VZ_COORDINATES, list(MODEL_COORDINATES)
    out = [np.zeros((len(cyc), len(cols))) for _ in range(3)]
    for full, part in zip(out, motion, strict=True):
        full[:, : len(names)] = part
        for side in ("r", "l"):
            full[:, cols.index(f"knee_angle_{side}_beta")] = part[:, names.index(f"knee_angle_{side}")]
    eps = 1e-4
    arms, arms_p, arms_m = (_arm_curves(cyc + e, speed) for e in (0.0, eps, -eps))
    for name, value in arms.items():
        j = cols.index(name)
        d1 = (arms_p[name] - arms_m[name]) / (2 * eps)
        d2 = (arms_p[name] - 2 * value + arms_m[name]) / eps**2
        out[0][:, j] = value
        out[1][:, j] = d1 * dphi
        out[2][:, j] = d2 * dphi**2 + d1 * ddphi
    return out[0], out[1], out[2]


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
    phi, dphi, ddphi = (phase_spline(time, d) for d in range(3))

    mean_coef = fourier_coefficients(normative.mean)
    mode_scale = variation_scales(normative)
    subject_modes = subject_offsets(style.draw_.stacked() * mode_scale, mode_scale[0])  # [3, C]
    # Stride-to-stride: one draw per stride, splined across stride centres (C², extrapolated
    # smoothly over the outer half strides, which are never labelled).
    stride_modes = np.stack(
        [VariationDraw.draw(rng).stacked() * mode_scale * STRIDE_VARIATION for _ in range(n_strides)]
    )  # [S, 3, C]
    stride_spline = CubicSpline(np.arange(n_strides) + 0.5, stride_modes, axis=0, bc_type="natural")
    cyc = np.mod(phi, 1.0)
    track = _PatternTrack(mean_coef=mean_coef, subject_modes=subject_modes, stride_spline=stride_spline)
    q, dq, ddq = _altered_pattern(track, cyc=cyc, phi=phi, normative=normative, alteration=alteration)
    # Chain rule from cycle phase to time.
    vel = dq * dphi[:, None]
    acc = ddq * dphi[:, None] ** 2 + dq * ddphi[:, None]
    scale = height_m / REFERENCE_HEIGHT_M
    base = pelvis_height_m if pelvis_height_m is not None else scale * float(normative.mean[:, 4].mean())
    _place_pelvis(
        (q, vel, acc),
        phase=(phi, dphi, ddphi),
        stride_length=normative.speed_m_s * mean_stride,
        scale=scale,
        base_height=base,
        mean_height=float(normative.mean[:, 4].mean()),
    )
    values, vels, accs = _model_columns(
        (q, vel, acc), cyc=cyc, dphi=dphi, ddphi=ddphi, speed=normative.speed_m_s
    )
    dense_t = np.linspace(0.0, knots_t[-1], 20 * n_strides + 1)
    dense_phi = phase_spline(dense_t)

    def when(fraction: float) -> np.ndarray:
        return np.interp(np.arange(n_strides) + fraction, dense_phi, dense_t)

    return Walk(
        time=time,
        values=values,
        velocities=vels,
        accelerations=accs,
        heel_strikes_r=knots_t.copy(),
        heel_strikes_l=when(normative.heel_strike_l),
        toe_offs_r=when(normative.toe_off_r - alteration.stance_shortening),
        toe_offs_l=when(normative.toe_off_l),
        speed_m_s=normative.speed_m_s,
        cadence_spm=cadence_spm,
    )
