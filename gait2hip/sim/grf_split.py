"""Steps 2–3 of the GRF synthesis (:mod:`gait2hip.sim.grf_synthesis`, whose docstring gives the
method and sources): the zero-moment point of the total external wrench, and its split between
the feet — smooth-transition vertical load in double support, horizontal forces along the legs,
delayed leading-foot shear, centres of pressure on the feet.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Decay rate of the smooth-transition function (fitted on the gait2392 example trial, see realism.py).
STA_RATE = 1.5
#: Leading-foot shear after heel strike: none for SHEAR_DELAY_S, then rising with time
#: constant SHEAR_RISE_S (s; measured on the example trials, grf_synthesis docstring).
SHEAR_DELAY_S = 0.04
SHEAR_RISE_S = 0.04
FOOT_BODIES = {"r": ("calcn_r", "toes_r"), "l": ("calcn_l", "toes_l")}
#: Foot support polygon around the heel→metatarsal line of the generic foot, m (scaled):
#: behind the calcaneus origin, beyond the toes origin (toe tips), and half-width.
HEEL_BACK_M = 0.03
TOE_TIP_M = 0.06
FOOT_HALF_WIDTH_M = 0.045


@dataclass(frozen=True)
class GaitEvents:
    """Heel-strike and toe-off times (s) of both feet."""

    heel_strikes_r: np.ndarray
    toe_offs_r: np.ndarray
    heel_strikes_l: np.ndarray
    toe_offs_l: np.ndarray

    def contact(self, side: str, time: np.ndarray) -> np.ndarray:
        """Boolean contact of foot ``side`` ('r' / 'l') at each time."""
        hs = np.sort(np.asarray(getattr(self, f"heel_strikes_{side}"), dtype=float))
        to = np.sort(np.asarray(getattr(self, f"toe_offs_{side}"), dtype=float))
        events = [(t, 1) for t in hs] + [(t, 0) for t in to]
        events.sort()
        # In contact before the first event iff that event is a toe-off.
        state = 1 if events and events[0][1] == 0 else 0
        out = np.zeros(len(time), dtype=bool)
        edges = [t for t, _ in events]
        kinds = [k for _, k in events]
        idx = np.searchsorted(edges, time, side="right")
        for i, j in enumerate(idx):
            out[i] = bool(kinds[j - 1]) if j > 0 else bool(state)
        return out


def zero_moment_point(
    force: np.ndarray, moment: np.ndarray, origin: np.ndarray, floor_y: float
) -> tuple[np.ndarray, np.ndarray]:
    """Point on the floor (y = floor_y) where the horizontal moment vanishes, and the free moment.

    Returns ``(point [T, 3], free_moment_y [T])``.
    """
    fx, fy, fz = force.T
    safe_fy = np.where(np.abs(fy) > 1e-6, fy, np.nan)
    ry = floor_y - origin[:, 1]
    rz = (ry * fz - moment[:, 0]) / safe_fy
    rx = (moment[:, 2] + ry * fx) / safe_fy
    point = np.column_stack([origin[:, 0] + rx, np.full(len(fy), floor_y), origin[:, 2] + rz])
    free = moment[:, 1] - (rz * fx - rx * fz)
    return point, free


def _stance_progress(time: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Fraction (0→1) of the current stance elapsed, NaN in swing; open stances use 0.6 s."""
    progress = np.full(len(time), np.nan)
    edges = np.flatnonzero(np.diff(contact.astype(int)) != 0) + 1
    bounds = np.concatenate([[0], edges, [len(time)]])
    for a, b in itertools.pairwise(bounds):
        if not contact[a]:
            continue
        t0 = time[a] if a > 0 else None
        t1 = time[b - 1] if b < len(time) else None
        seg = time[a:b]
        if t0 is not None and t1 is not None:
            progress[a:b] = (seg - t0) / max(t1 - t0, 1e-6)
        elif t1 is not None:  # stance cut at the start: assume it ends at t1 after ~0.6 s
            progress[a:b] = 1 - (t1 - seg) / 0.6
        elif t0 is not None:
            progress[a:b] = (seg - t0) / 0.6
        else:
            progress[a:b] = 0.5
    return np.clip(progress, 0.0, 1.0)


def project_to_foot(
    point: np.ndarray, heel: np.ndarray, toe: np.ndarray, *, scale: float = 1.0
) -> np.ndarray:
    """Clip floor points [T, 3] into each frame's foot support rectangle (x/z plane).

    The rectangle runs along heel → toes-origin from HEEL_BACK_M behind the heel to
    TOE_TIP_M beyond the metatarsal heads, FOOT_HALF_WIDTH_M either side (all × scale).
    """
    axis = (toe - heel)[:, [0, 2]]
    length = np.linalg.norm(axis, axis=1, keepdims=True)
    unit = axis / np.maximum(length, 1e-9)
    normal = np.column_stack([-unit[:, 1], unit[:, 0]])
    rel = (point - heel)[:, [0, 2]]
    u = np.clip(np.sum(rel * unit, axis=1), -HEEL_BACK_M * scale, length[:, 0] + TOE_TIP_M * scale)
    v = np.clip(np.sum(rel * normal, axis=1), -FOOT_HALF_WIDTH_M * scale, FOOT_HALF_WIDTH_M * scale)
    flat = heel[:, [0, 2]] + u[:, None] * unit + v[:, None] * normal
    out = point.copy()
    out[:, 0], out[:, 2] = flat[:, 0], flat[:, 1]
    return out


# --------------------------------------------------------------------- split
def transition_decay(tau: np.ndarray, rate: float | None = None) -> np.ndarray:
    """Trailing-foot share of its heel-strike-time load after a fraction τ of double support.

    ``exp(-(rate·τ)²) - τ·exp(-rate²)``: Ren et al.'s smooth Gaussian-type decay, corrected
    linearly so it reaches exactly zero at toe-off (no jump in the foot's load).
    """
    rate = STA_RATE if rate is None else rate
    tau = np.clip(tau, 0.0, 1.0)
    return np.exp(-((rate * tau) ** 2)) - tau * np.exp(-(rate**2))


def shear_onset(since_contact_s: np.ndarray) -> np.ndarray:
    """Fraction (0→1) of its leg-direction shear a foot carries ``since_contact_s`` after heel strike."""
    late = np.maximum(np.asarray(since_contact_s, dtype=float) - SHEAR_DELAY_S, 0.0)
    return 1.0 - np.exp(-late / SHEAR_RISE_S)


def _shared_zmp_offset(
    point: dict[str, np.ndarray],
    force: dict[str, np.ndarray],
    free: dict[str, np.ndarray],
    kinematic: dict[str, np.ndarray],
    zmp: np.ndarray,
    double: np.ndarray,
) -> None:
    """Double support, in place: both centres of pressure on their kinematic roll-over lines,
    shifted by one horizontal vector so that together they reproduce the zero-moment point
    (Σ F_y·(p − zmp) = 0; the common shift is the one minimising Σ F_y·|shift|²). The vertical
    moment the feet's forces then exert about the ZMP is taken off their free moments in
    proportion to vertical load, so the total wrench stays exact."""
    idx = np.flatnonzero(double)
    fy = {s: force[s][idx, 1] for s in ("r", "l")}
    total = np.maximum(fy["r"] + fy["l"], 1e-6)
    mean_kin = (fy["r"][:, None] * kinematic["r"][idx] + fy["l"][:, None] * kinematic["l"][idx]) / total[
        :, None
    ]
    shift = zmp[idx] - mean_kin
    shift[:, 1] = 0.0
    vertical = np.zeros(len(idx))
    for s in ("r", "l"):
        point[s][idx] = kinematic[s][idx] + shift
        r = point[s][idx] - zmp[idx]
        vertical += r[:, 2] * force[s][idx, 0] - r[:, 0] * force[s][idx, 2]
    for s in ("r", "l"):
        free[s][idx] -= vertical * fy[s] / total


@dataclass
class FootLoads:
    """Synthesised ground reaction of both feet (ground frame)."""

    time: np.ndarray
    force: dict[str, np.ndarray]  # side -> [T, 3] N
    point: dict[str, np.ndarray]  # side -> [T, 3] m
    torque: dict[str, np.ndarray]  # side -> [T, 3] N·m (free moment, vertical)
    floor_y: float

    def frame(self) -> pd.DataFrame:
        """GRF table in the OpenSim example convention, indexed by time."""
        data = {}
        for side in ("r", "l"):
            for i, axis in enumerate("xyz"):
                data[f"ground_force_{side}_v{axis}"] = self.force[side][:, i]
            for i, axis in enumerate("xyz"):
                data[f"ground_force_{side}_p{axis}"] = self.point[side][:, i]
            for i, axis in enumerate("xyz"):
                data[f"ground_torque_{side}_{axis}"] = self.torque[side][:, i]
        return pd.DataFrame(data, index=pd.Index(self.time, name="time"))


def split_between_feet(
    *,
    time: np.ndarray,
    force: np.ndarray,
    moment: np.ndarray,
    origin: np.ndarray,
    events: GaitEvents,
    landmarks: dict[str, np.ndarray],
    floor_y: float,
    scale: float = 1.0,
    max_free_moment_nm: float | None = None,
) -> FootLoads:
    """Share the total external wrench between the feet (``grf_synthesis`` docstring, steps 2–3).

    Centres of pressure are finally kept inside each foot's support polygon and free
    moments within ``max_free_moment_nm``: where the kinematics ask for more (a zero-moment
    point outside the feet, i.e. a motion no real foot could support), the difference stays
    as a pelvis residual in inverse dynamics, where quality control sees it.
    """
    contact = {s: events.contact(s, time) for s in ("r", "l")}
    progress = {s: _stance_progress(time, contact[s]) for s in ("r", "l")}
    zmp, free = zero_moment_point(force, moment, origin, floor_y)
    n = len(time)
    double = contact["r"] & contact["l"]
    f_out = {s: np.zeros((n, 3)) for s in ("r", "l")}
    free_out = {s: np.zeros(n) for s in ("r", "l")}
    for s, other in (("r", "l"), ("l", "r")):
        single = contact[s] & ~contact[other]  # single support: the stance foot takes everything
        f_out[s][single] = force[single]
        free_out[s][single] = free[single]
    kinematic = _kinematic_cops(landmarks, progress, floor_y=floor_y, scale=scale)
    edges = np.flatnonzero(np.diff(double.astype(int)) != 0) + 1
    bounds = np.concatenate([[0], edges, [n]])
    lever = np.maximum(origin[:, 1] - floor_y, 0.3)
    wrench = dict(time=time, force=force, free=free, origin=origin, lever=lever)
    for a, b in itertools.pairwise(bounds):
        if double[a]:
            _split_double_support(a, b, wrench, contact, progress, kinematic, out=(f_out, free_out))
    # Centres of pressure.
    point = {s: np.where(contact[s][:, None], zmp, kinematic[s]) for s in ("r", "l")}
    _shared_zmp_offset(point, f_out, free_out, kinematic, zmp, double)
    _keep_on_feet(
        point, f_out, free_out, contact, landmarks, scale=scale, max_free_moment_nm=max_free_moment_nm
    )
    # Unloaded feet: zero force; keep the CoP on the foot so files stay clean.
    torque = {}
    for s in ("r", "l"):
        off = ~contact[s]
        f_out[s][off] = 0.0
        free_out[s][off] = 0.0
        point[s][off] = kinematic[s][off]
        t = np.zeros((n, 3))
        t[:, 1] = free_out[s]
        torque[s] = t
    return FootLoads(time=time, force=f_out, point=point, torque=torque, floor_y=floor_y)


def _kinematic_cops(
    landmarks: dict[str, np.ndarray], progress: dict[str, np.ndarray], *, floor_y: float, scale: float
) -> dict[str, np.ndarray]:
    """Kinematic centres of pressure: heel → toe tip over the stance, on the floor."""
    kinematic = {}
    for s, (heel, toe) in FOOT_BODIES.items():
        axis = landmarks[toe] - landmarks[heel]
        axis[:, 1] = 0.0
        unit = axis / np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-9)
        tip = landmarks[toe] + TOE_TIP_M * scale * unit
        p = np.nan_to_num(progress[s], nan=0.0)[:, None]
        line = landmarks[heel] + p * (tip - landmarks[heel])
        line[:, 1] = floor_y
        kinematic[s] = line
    return kinematic


def _split_double_support(
    a: int,
    b: int,
    wrench: dict[str, np.ndarray],
    contact: dict[str, np.ndarray],
    progress: dict[str, np.ndarray],
    kinematic: dict[str, np.ndarray],
    *,
    out: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
) -> None:
    """One double support (samples a..b-1), in place in ``out`` (forces, free moments per foot).

    ``wrench``: time, total force, free moment at the ZMP, pelvis origin, lever (origin height).
    """
    time, force, free, origin, lever = (wrench[k] for k in ("time", "force", "free", "origin", "lever"))
    f_out, free_out = out
    n = len(time)
    # Trailing foot: the one whose contact ends at the end of this double support.
    end_contact = {s: (b < n and not contact[s][b]) for s in ("r", "l")}
    if end_contact["r"] != end_contact["l"]:
        trail = "r" if end_contact["r"] else "l"
    else:  # cut by the record's end: the foot further along its stance trails
        trail = "r" if np.nanmean(progress["r"][a:b]) > np.nanmean(progress["l"][a:b]) else "l"
    lead = "l" if trail == "r" else "r"
    start = a - 1 if a > 0 else a  # last single-support sample before the heel strike
    t0, t1 = time[start], time[b] if b < n else time[b - 1] + (time[1] - time[0])
    tau = (time[a:b] - t0) / max(t1 - t0, 1e-6)
    decay = transition_decay(tau)
    # Vertical force and free moment: smooth transition (Ren et al. 2008).
    f_out[trail][a:b, 1] = force[start, 1] * decay
    f_out[lead][a:b, 1] = force[a:b, 1] - f_out[trail][a:b, 1]
    since = time[a:b] - time[start]
    free_out[lead][a:b] = (free[a:b] - free[start] * decay) * shear_onset(since)
    free_out[trail][a:b] = free[a:b] - free_out[lead][a:b]
    # Horizontal force: each leg pushes along itself, i.e. its force points from its CoP
    # to near the centre of mass (pelvis origin as proxy; Gruben & Boehm 2012, Hum Mov Sci
    # 31:649); what the two legs' directions do not explain is shared by vertical load.
    fy_total = np.where(np.abs(force[a:b, 1]) > 1e-6, force[a:b, 1], 1e-6)
    pointed = {}
    for foot in (trail, lead):
        towards = (origin[a:b] - kinematic[foot][a:b])[:, [0, 2]] / lever[a:b, None]
        pointed[foot] = f_out[foot][a:b, 1:2] * towards
    pointed[lead] *= shear_onset(since)[:, None]
    remainder = force[a:b][:, [0, 2]] - pointed[trail] - pointed[lead]
    for foot in (trail, lead):
        horizontal = pointed[foot] + remainder * (f_out[foot][a:b, 1] / fy_total)[:, None]
        f_out[foot][a:b, 0], f_out[foot][a:b, 2] = horizontal[:, 0], horizontal[:, 1]


def _keep_on_feet(
    point: dict[str, np.ndarray],
    f_out: dict[str, np.ndarray],
    free_out: dict[str, np.ndarray],
    contact: dict[str, np.ndarray],
    landmarks: dict[str, np.ndarray],
    *,
    scale: float,
    max_free_moment_nm: float | None,
) -> None:
    """In place: each centre of pressure clipped onto its foot, the vertical moment about the ground
    origin kept by adjusting the free moment, then the free moment bounded."""
    for s_, (heel, toe) in FOOT_BODIES.items():
        on = contact[s_]
        clipped = project_to_foot(point[s_], landmarks[heel], landmarks[toe], scale=scale)
        shift = clipped - point[s_]
        free_out[s_][on] -= (shift[:, 2] * f_out[s_][:, 0] - shift[:, 0] * f_out[s_][:, 2])[on]
        point[s_][on] = clipped[on]
        if max_free_moment_nm is not None:
            free_out[s_] = np.clip(free_out[s_], -max_free_moment_nm, max_free_moment_nm)
