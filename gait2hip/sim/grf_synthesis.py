"""Ground reaction forces synthesised from kinematics by whole-body dynamics.

1. **Total external wrench.** Inverse dynamics with *no* external loads (the labelling
   pipeline's :func:`gait2hip.sim.inverse_dynamics.run_inverse_dynamics`) leaves the whole
   body's unbalanced dynamics on the six pelvis coordinates. The Rajagopal / gait2392
   ``ground_pelvis`` CustomJoint translates along the ground axes, so the three pelvis
   translation "forces" are the total external force in ground; the three rotation
   "moments" are the total external moment about the pelvis origin projected onto the
   joint's rotation axes (tilt about ground z, list about the once-rotated x, rotation
   about the twice-rotated y), which we invert to get the moment vector.
2. **Centre of pressure.** The total force acts at the zero-moment point on the floor — the
   point where the horizontal moment components vanish — leaving only a vertical free
   moment (Dijkstra & Gutierrez-Farewik 2015, J Biomech 48:3776).
3. **Split between the feet.** In single support the stance foot takes everything, its
   centre of pressure at the zero-moment point. In double support the trailing foot's
   vertical force and free moment follow the smooth-transition assumption of Ren, Jones &
   Howard (2008, J Biomech 41:2750): they decay smoothly from their value at the
   contralateral heel strike to zero at its own toe-off, here as
   ``exp(-(STA_RATE·τ)²) − τ·exp(-STA_RATE²)`` with τ the fraction of double support
   elapsed; the leading foot takes the rest. The horizontal forces are shared so that each
   foot's force points from its centre of pressure towards the pelvis (a proxy of the
   centre of mass: the ground reaction of a walking leg points near it; Gruben & Boehm 2012,
   Hum Mov Sci 31:649), the part those directions leave unexplained shared by vertical load.
   The LEADING foot's shear builds up only after contact: zero for SHEAR_DELAY_S, then
   rising as ``1 − exp(−(t − delay)/SHEAR_RISE_S)``. Measured at all five heel strikes of the
   two example trials, its fore-aft force stays at 0 to +0.03 BW (forward) for the first
   ≈ 40 ms while its vertical load reaches ≈ 0.25 BW, and reaches the leg-direction value
   (aimed at ≈ the pelvis origin) by ≈ 100–130 ms. Generator 1.x aimed it along the leg from
   the first instant: ≈ 0.05 BW of braking too much right after heel strike, which at hip
   height takes ≈ 0.45 N m/kg off the early-stance hip EXTENSION moment.
   Both feet's centres of pressure follow their kinematic roll-over lines (heel → toe tip
   over the stance) shifted by one common horizontal vector so that together they reproduce
   the zero-moment point (1.x fixed the less loaded foot and solved the other, which made
   the centres of pressure jump where the loads cross). Centres of pressure are finally kept
   inside each foot's support polygon and free moments bounded; what the feet cannot carry that way (a motion
   whose zero-moment point leaves the feet) stays as a pelvis residual for quality control.
   STA_RATE, the horizontal rule and the shear delay were chosen on the two measured example
   trials (so those are no independent test); see ``realism.py`` for the resulting errors.
4. **Files.** A GRF ``.mot`` in the OpenSim example convention (``ground_force_r_v*``,
   ``ground_force_r_p*``, ``ground_torque_r_*``, then ``_l``) and an ExternalLoads ``.xml``
   applying them to ``calcn_r`` / ``calcn_l``, forces and points in ground.

Gait events (heel strikes, toe-offs) come from the caller: the generator knows them, and the
realism check (``realism.py``) takes them from the measured force plates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import write_storage
from gait2hip.sim.opensim_env import import_opensim, load_model

#: Decay rate of the smooth-transition function (fitted on the gait2392 example trial, see realism.py).
STA_RATE = 1.5
#: Leading-foot shear after heel strike: none for SHEAR_DELAY_S, then rising with time
#: constant SHEAR_RISE_S (s; measured on the example trials, module docstring).
SHEAR_DELAY_S = 0.04
SHEAR_RISE_S = 0.04
FOOT_BODIES = {"r": ("calcn_r", "toes_r"), "l": ("calcn_l", "toes_l")}
#: Height of the calcaneus origin above the sole in the generic Rajagopal/gait2392 feet, m.
HEEL_HEIGHT_M = 0.015

#: Foot support polygon around the heel→metatarsal line of the generic foot, m (scaled):
#: behind the calcaneus origin, beyond the toes origin (toe tips), and half-width.
HEEL_BACK_M = 0.03
TOE_TIP_M = 0.06
FOOT_HALF_WIDTH_M = 0.045
#: Largest free (vertical) moment a foot transmits, fraction of body weight × height.
MAX_FREE_MOMENT_BWH = 0.005

PELVIS_FORCES = ("pelvis_tx_force", "pelvis_ty_force", "pelvis_tz_force")
PELVIS_MOMENTS = ("pelvis_tilt_moment", "pelvis_list_moment", "pelvis_rotation_moment")


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


# --------------------------------------------------------------------- total wrench
def pelvis_rotation_axes(tilt: np.ndarray, list_: np.ndarray) -> np.ndarray:
    """Ground-frame unit axes of pelvis tilt, list and rotation, [T, 3, 3] (columns)."""
    c1, s1 = np.cos(tilt), np.sin(tilt)
    c2, s2 = np.cos(list_), np.sin(list_)
    n = len(tilt)
    axes = np.zeros((n, 3, 3))
    axes[:, 2, 0] = 1.0  # z
    axes[:, 0, 1], axes[:, 1, 1] = c1, s1  # Rz(tilt)·x
    # Rz(tilt)·Rx(list)·y = Rz(tilt)·(0, c2, s2)
    axes[:, 0, 2], axes[:, 1, 2], axes[:, 2, 2] = -s1 * c2, c1 * c2, s2
    return axes


def total_external_wrench(
    residuals: pd.DataFrame, coordinates: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total external force, moment about the pelvis origin, and that origin (all ground).

    Parameters
    ----------
    residuals
        Inverse dynamics without external loads, indexed by time.
    coordinates
        Model coordinates in radians / metres, indexed by time (same times).
    """
    missing = [c for c in PELVIS_FORCES + PELVIS_MOMENTS if c not in residuals]
    if missing:
        raise Gait2HipInputError(
            "inverse dynamics output lacks the pelvis generalized forces.",
            column=missing[0],
            fix="use a model whose pelvis is a 6-DOF ground_pelvis joint (Rajagopal, gait2392).",
        )
    coords = coordinates.reindex(residuals.index, method="nearest")
    force = residuals[list(PELVIS_FORCES)].to_numpy(dtype=float)
    tau = residuals[list(PELVIS_MOMENTS)].to_numpy(dtype=float)
    axes = pelvis_rotation_axes(coords["pelvis_tilt"].to_numpy(), coords["pelvis_list"].to_numpy())
    # tau = axesᵀ · M  →  M = axes⁻ᵀ · tau
    moment = np.linalg.solve(np.transpose(axes, (0, 2, 1)), tau[:, :, None])[:, :, 0]
    origin = coords[["pelvis_tx", "pelvis_ty", "pelvis_tz"]].to_numpy(dtype=float)
    return force, moment, origin


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


# --------------------------------------------------------------------- feet
def foot_landmarks(model: Any, coordinates: pd.DataFrame) -> dict[str, np.ndarray]:
    """Ground positions [T, 3] of ``calcn_*`` and ``toes_*`` origins (heel, metatarsal heads)."""
    import_opensim()
    model = load_model(model)
    state = model.initSystem()
    coord_set = model.getCoordinateSet()
    names = [n for n in coordinates.columns if coord_set.contains(n)]
    handles = [coord_set.get(n) for n in names]
    values = coordinates[names].to_numpy(dtype=float)
    bodies = {b: model.getBodySet().get(b) for pair in FOOT_BODIES.values() for b in pair}
    out = {b: np.zeros((len(values), 3)) for b in bodies}
    for i, row in enumerate(values):
        for handle, value in zip(handles, row, strict=True):
            handle.setValue(state, float(value), False)
        model.realizePosition(state)
        for name, body in bodies.items():
            p = body.getPositionInGround(state)
            out[name][i] = (p.get(0), p.get(1), p.get(2))
    return out


def floor_height(
    landmarks: dict[str, np.ndarray], contact: dict[str, np.ndarray], scale: float = 1.0
) -> float:
    """Floor level: median height of the stance feet's lowest landmark minus the heel pad."""
    lows = []
    for side, (heel, toe) in FOOT_BODIES.items():
        low = np.minimum(landmarks[heel][:, 1], landmarks[toe][:, 1])
        if contact[side].any():
            lows.append(low[contact[side]])
    if not lows:
        raise Gait2HipInputError("no foot is ever in contact with the ground.", fix="check the gait events.")
    return float(np.median(np.concatenate(lows))) - HEEL_HEIGHT_M * scale


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
    """Share the total external wrench between the feet (module docstring, steps 2–3).

    Centres of pressure are finally kept inside each foot's support polygon and free
    moments within ``max_free_moment_nm``: where the kinematics ask for more (a zero-moment
    point outside the feet, i.e. a motion no real foot could support), the difference stays
    as a pelvis residual in inverse dynamics, where quality control sees it.
    """
    contact = {s: events.contact(s, time) for s in ("r", "l")}
    progress = {s: _stance_progress(time, contact[s]) for s in ("r", "l")}
    zmp, free = zero_moment_point(force, moment, origin, floor_y)
    n = len(time)
    share = {s: np.zeros(n) for s in ("r", "l")}
    single_r = contact["r"] & ~contact["l"]
    single_l = contact["l"] & ~contact["r"]
    share["r"][single_r] = 1.0
    share["l"][single_l] = 1.0
    double = contact["r"] & contact["l"]
    f_out = {s: np.zeros((n, 3)) for s in ("r", "l")}
    free_out = {s: np.zeros(n) for s in ("r", "l")}
    for s in ("r", "l"):
        f_out[s][share[s] == 1] = force[share[s] == 1]
        free_out[s][share[s] == 1] = free[share[s] == 1]
    # Kinematic centres of pressure: heel → toe tip over the stance.
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
    # Double-support intervals.
    edges = np.flatnonzero(np.diff(double.astype(int)) != 0) + 1
    bounds = np.concatenate([[0], edges, [n]])
    lever = np.maximum(origin[:, 1] - floor_y, 0.3)
    for a, b in itertools.pairwise(bounds):
        if not double[a]:
            continue
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
    # Centres of pressure.
    point = {s: np.where(contact[s][:, None], zmp, kinematic[s]) for s in ("r", "l")}
    _shared_zmp_offset(point, f_out, free_out, kinematic, zmp, double)
    # Keep each centre of pressure on its foot; keep the vertical moment about the ground
    # origin unchanged by moving it, then bound the free moment.
    for s_, (heel, toe) in FOOT_BODIES.items():
        on = contact[s_]
        clipped = project_to_foot(point[s_], landmarks[heel], landmarks[toe], scale=scale)
        shift = clipped - point[s_]
        free_out[s_][on] -= (shift[:, 2] * f_out[s_][:, 0] - shift[:, 0] * f_out[s_][:, 2])[on]
        point[s_][on] = clipped[on]
        if max_free_moment_nm is not None:
            free_out[s_] = np.clip(free_out[s_], -max_free_moment_nm, max_free_moment_nm)
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


# --------------------------------------------------------------------- files
def write_external_loads(
    loads: FootLoads, *, grf_file: str | Path, xml_file: str | Path
) -> tuple[Path, Path]:
    """Write the GRF ``.mot`` and an ExternalLoads ``.xml`` pointing at it (absolute path)."""
    osim = import_opensim()
    grf_file, xml_file = Path(grf_file), Path(xml_file)
    write_storage(grf_file, loads.frame(), name="synthesised_grf", in_degrees=False)
    external = osim.ExternalLoads()
    for side, body in (("r", "calcn_r"), ("l", "calcn_l")):
        ef = osim.ExternalForce()
        ef.setName(f"{'right' if side == 'r' else 'left'}_grf")
        ef.set_applied_to_body(body)
        ef.set_force_expressed_in_body("ground")
        ef.set_point_expressed_in_body("ground")
        ef.set_force_identifier(f"ground_force_{side}_v")
        ef.set_point_identifier(f"ground_force_{side}_p")
        ef.set_torque_identifier(f"ground_torque_{side}_")
        external.cloneAndAppend(ef)
    external.setDataFileName(str(grf_file.resolve()))
    xml_file.parent.mkdir(parents=True, exist_ok=True)
    external.printToXML(str(xml_file))
    return grf_file, xml_file


def synthesize_grf(
    *,
    model: str | Path | Any,
    coordinates: pd.DataFrame,
    events: GaitEvents,
    residuals: pd.DataFrame | None = None,
    scale: float = 1.0,
    floor_y: float | None = None,
    body_weight_height: float | None = None,
) -> FootLoads:
    """Both feet's ground reactions from kinematics alone.

    Parameters
    ----------
    model
        The subject's scaled model.
    coordinates
        Complete coordinate table (radians / metres) indexed by time, e.g. from
        :func:`gait2hip.sim.opensim_env.coordinate_table`.
    events
        Heel strikes and toe-offs of both feet.
    residuals
        Inverse dynamics without external loads on these coordinates; computed when None.
    scale
        The model's size relative to the generic model (for the heel-pad height).
    floor_y
        Floor height in ground, m; estimated from the stance feet when None.
    body_weight_height
        Body weight × height (N·m) to bound the free moments (MAX_FREE_MOMENT_BWH); None: unbounded.
    """
    if residuals is None:
        from gait2hip.sim.inverse_dynamics import run_inverse_dynamics

        residuals = run_inverse_dynamics(model=model, coordinates=coordinates, in_degrees=False)
    coords = coordinates.reindex(residuals.index, method="nearest")
    force, moment, origin = total_external_wrench(residuals, coords)
    landmarks = foot_landmarks(model, coords)
    time = residuals.index.to_numpy(dtype=float)
    contact = {s: events.contact(s, time) for s in ("r", "l")}
    if floor_y is None:
        floor_y = floor_height(landmarks, contact, scale)
    return split_between_feet(
        time=time,
        force=force,
        moment=moment,
        origin=origin,
        events=events,
        landmarks=landmarks,
        floor_y=floor_y,
        scale=scale,
        max_free_moment_nm=None if body_weight_height is None else MAX_FREE_MOMENT_BWH * body_weight_height,
    )
