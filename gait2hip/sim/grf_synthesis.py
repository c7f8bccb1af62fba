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
3. **Split between the feet** (steps 2–3 live in :mod:`gait2hip.sim.grf_split`). In single
   support the stance foot takes everything, its centre of pressure at the zero-moment point.
   In double support the trailing foot's
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

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import write_storage
from gait2hip.sim.grf_split import FOOT_BODIES, FootLoads, GaitEvents, split_between_feet
from gait2hip.sim.opensim_env import import_opensim, load_model

#: Height of the calcaneus origin above the sole in the generic Rajagopal/gait2392 feet, m.
HEEL_HEIGHT_M = 0.015
#: Largest free (vertical) moment a foot transmits, fraction of body weight × height.
MAX_FREE_MOMENT_BWH = 0.005

PELVIS_FORCES = ("pelvis_tx_force", "pelvis_ty_force", "pelvis_tz_force")
PELVIS_MOMENTS = ("pelvis_tilt_moment", "pelvis_list_moment", "pelvis_rotation_moment")


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
