"""Hip joint contact force from a static-optimisation solution, as OpenSim's JointReaction.

The hip contact force is the force the pelvis applies to the femur at the hip joint centre:
the constraint force of the hip mobilizer, which balances every muscle's line of action
(all path points and wrapping contacts of every muscle, not only those crossing the hip),
the reserve actuators, the external loads, gravity and the inertia of the leg.

How it is computed (:func:`hip_contact_forces`), per frame: the model with the same reserve
actuators and external loads the fast SO uses (the SO's cached model, so no second load), the
state set to the SO's kinematics (the AnalyzeTool's filtered q and spline speeds u), every
actuator's force overridden with its SO value, the system realised to accelerations, and
``Joint.calcReactionOnChildExpressedInGround`` read, then expressed in the femur and pelvis
body frames. That is what OpenSim's ``JointReaction`` analysis does with an SO force file
(``forces_file``), so the two agree to round-off rather than approximately: with the same SO
forces, ≤ 4e-7 % of the peak |F| on the three example trials; the whole chain (fast SO + this)
against OpenSim's (StaticOptimization at IPOPT 1e-8, then JointReaction) ≤ 0.012 % of peak
(``python -m gait2hip.sim.contact_realism --agreement``; ``tests/test_sim_joint_reaction.py``).
Cost: one ``realizeAcceleration`` and one override per actuator per frame: 0.06 s CPU for the
75 frames of the gait2392 example's cycle (115 actuators) with the fast SO's own q and u
(0.27 s when the filter and splines are re-derived), against 0.36 s for the fast SO itself; in
the cohort generator 1.5 s of a subject's 11.7 s (three walks, four cycles each). A linearised
alternative (subtree Newton–Euler sums reusing the fast SO's
unit-tension body forces) could be faster but would re-implement Simbody's reaction algebra
and differ from JointReaction wherever the SO leaves a constraint residual.

Forward dynamics with the SO forces reproduces the measured accelerations because SO meets
the equations of motion exactly (residual and reserve actuators are unbounded), so it does
not matter that JointReaction uses the forces rather than the kinematics' accelerations.

Columns: :data:`gait2hip.data.columns.CONTACT_R` / ``CONTACT_L`` (N);
:func:`contact_in_percent_bw` divides by body weight (m · 9.81 m/s²) × 100.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from gait2hip.data.columns import CONTACT_L, CONTACT_R
from gait2hip.data.dataset import GRAVITY
from gait2hip.data.lab import contact_from_table
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage, write_storage
from gait2hip.sim.opensim_env import coordinate_table, filter_time_range, import_opensim
from gait2hip.sim.static_optimization import ReserveConfig

#: Hip joint per side: (joint name, child body, parent body) of Rajagopal and gait2392 models.
HIP_JOINTS: dict[str, tuple[str, str, str]] = {
    "right": ("hip_r", "femur_r", "pelvis"),
    "left": ("hip_l", "femur_l", "pelvis"),
}
COLUMNS = {"right": CONTACT_R, "left": CONTACT_L}


class MissingHipJointError(Gait2HipInputError):
    """The model has no ``hip_r`` / ``hip_l`` joint between pelvis and femur (contact force undefined)."""


def _hip_joints(model: Any, *, file: Any = None) -> dict[str, tuple[Any, Any, Any]]:
    """Side → (joint, femur body, pelvis body) objects; a clear error when the model has none."""
    joints, bodies = model.getJointSet(), model.getBodySet()
    found = {}
    for side, (joint, femur, pelvis) in HIP_JOINTS.items():
        if not (joints.contains(joint) and bodies.contains(femur) and bodies.contains(pelvis)):
            raise MissingHipJointError(
                f"the model has no joint '{joint}' between bodies '{pelvis}' and '{femur}'.",
                file=file,
                fix="use a Rajagopal or gait2392 model (hip joints hip_r / hip_l).",
            )
        found[side] = (joints.get(joint), bodies.get(femur), bodies.get(pelvis))
    return found


def _reaction_frames(
    model: Any,
    state: Any,
    q: pd.DataFrame,
    u: pd.DataFrame,
    forces: pd.DataFrame,
    hips: dict[str, tuple[Any, Any, Any]],
) -> dict[str, np.ndarray]:
    """Per frame and side the hip reaction force on the femur [F, 3] in ground, femur, pelvis."""
    osim = import_opensim()
    coords = model.getCoordinateSet()
    coordinate_objects = [coords.get(name) for name in q.columns]
    force_set = model.getForceSet()
    actuators = []
    for name in forces.columns:
        actuator = osim.ScalarActuator.safeDownCast(force_set.get(name)) if force_set.contains(name) else None
        if actuator is None:
            raise Gait2HipInputError(
                f"the SO force column '{name}' is not an actuator of the model.",
                column=name,
                fix="give the static-optimisation forces of this model (with its reserve actuators).",
            )
        actuator.setAppliesForce(state, True)
        actuator.overrideActuation(state, True)
        actuators.append(actuator)
    ground = model.getGround()
    frames = ("ground", "femur", "pelvis")
    out = {f"{side}_{frame}": np.empty((len(q), 3)) for side in hips for frame in frames}
    q_values, u_values, f_values = q.to_numpy(), u.to_numpy(), forces.to_numpy()
    for f in range(len(q)):
        state.setTime(float(q.index[f]))
        for c, coordinate in enumerate(coordinate_objects):
            coordinate.setValue(state, float(q_values[f, c]), False)
            coordinate.setSpeedValue(state, float(u_values[f, c]))
        for k, actuator in enumerate(actuators):
            actuator.setOverrideActuation(state, float(f_values[f, k]))
        model.realizeAcceleration(state)
        for side, (joint, femur, pelvis) in hips.items():
            force = joint.calcReactionOnChildExpressedInGround(state).get(1)
            out[f"{side}_ground"][f] = [force.get(i) for i in range(3)]
            for frame, body in (("femur", femur), ("pelvis", pelvis)):
                expressed = ground.expressVectorInAnotherFrame(state, force, body)
                out[f"{side}_{frame}"][f] = [expressed.get(i) for i in range(3)]
    for actuator in actuators:
        actuator.overrideActuation(state, False)
    return out


def contact_table(frames: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """The CONTACT columns (N) from the per-frame forces in the femur and pelvis frames."""
    columns: dict[str, np.ndarray] = {}
    for side in HIP_JOINTS:
        names = COLUMNS[side]
        columns[names[0]] = np.linalg.norm(frames[f"{side}_femur"], axis=1)
        for k in range(3):
            columns[names[1 + k]] = frames[f"{side}_femur"][:, k]
            columns[names[4 + k]] = frames[f"{side}_pelvis"][:, k]
    return pd.DataFrame(columns, index=index)[list(CONTACT_R + CONTACT_L)]


def hip_contact_forces(
    *,
    model: str | Path | Any,
    coordinates: str | Path | pd.DataFrame,
    external_loads: str | Path | None,
    forces: pd.DataFrame,
    grf: str | Path | None = None,
    lowpass_hz: float | None = None,
    in_degrees: bool | None = None,
    reserves: ReserveConfig | None = None,
    kinematics: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    method: Literal["fast", "opensim"] = "fast",
) -> pd.DataFrame:
    """Right and left hip contact force (N) at the frames of a static-optimisation solution.

    Parameters
    ----------
    model, coordinates, external_loads, grf, lowpass_hz, in_degrees, reserves
        Exactly as given to :func:`gait2hip.sim.static_optimization.run_static_optimization`
        (the kinematics are processed the same way and the same reserves are added).
    forces
        SO actuator forces (``SOResult.forces``: every muscle and reserve, time index).
    kinematics
        (q, u) the SO used (the fast solver's ``SOResult.info['kinematics']``), so they are not
        derived again (the filter and splines are most of this function's cost); None: derived
        from ``coordinates`` as the AnalyzeTool does (``method='opensim'`` always derives them).
    method
        'fast': the per-frame computation of the module docstring; 'opensim': the reference,
        OpenSim's own JointReaction analysis (:func:`_opensim_joint_reaction`), same columns.

    Returns
    -------
    pandas.DataFrame
        Time × ``CONTACT_R + CONTACT_L`` in N (force on the femur by the pelvis).
    """
    from gait2hip.sim.fast_so import analyze_tool_kinematics, prepared_model

    osim = import_opensim()
    reserves = ReserveConfig() if reserves is None else reserves
    if method == "opensim":
        tool_options = dict(lowpass_hz=lowpass_hz, external_loads=external_loads, grf=grf)
        return _opensim_joint_reaction(model, coordinates, forces, reserves, in_degrees, tool_options)
    if method != "fast":
        raise Gait2HipInputError(f"unknown method '{method}'.", fix="use 'fast' or 'opensim'.")
    with tempfile.TemporaryDirectory(prefix="gait2hip-jr-") as tmp:
        prepared = prepared_model(
            model, external_loads=external_loads, grf=grf, reserves=reserves, folder=Path(tmp)
        )
        if kinematics is None:
            table = coordinate_table(prepared.model, coordinates, in_degrees=in_degrees)
            q, u, _ = analyze_tool_kinematics(table, lowpass_hz=lowpass_hz, folder=Path(tmp))
        else:
            q, u = kinematics
    times = q.index.to_numpy()
    wanted = forces.index.to_numpy(dtype=float)
    rows = np.clip(np.searchsorted(times, wanted), 1, len(times) - 1)
    rows = np.where(np.abs(times[rows - 1] - wanted) < np.abs(times[rows] - wanted), rows - 1, rows)
    if np.abs(times[rows] - wanted).max(initial=0.0) > 1e-6:
        raise Gait2HipInputError(
            "the SO forces' times are not samples of the kinematics.",
            fix="give the forces computed from these coordinates (same file, same time range).",
        )
    hips = _hip_joints(prepared.model, file=model if isinstance(model, (str, Path)) else None)
    state = osim.State(prepared.state)  # a copy: the cached state keeps its actuator settings
    frames = _reaction_frames(prepared.model, state, q.iloc[rows], u.iloc[rows], forces, hips)
    return contact_table(frames, pd.Index(wanted, name="time"))


def contact_in_percent_bw(contact: pd.DataFrame, *, mass_kg: float) -> pd.DataFrame:
    """Contact forces in % body weight (N / (m · 9.81) × 100)."""
    if not mass_kg > 0:
        raise Gait2HipInputError(f"body mass {mass_kg} kg must be > 0.", column="mass_kg")
    return contact * (100.0 / (float(mass_kg) * GRAVITY))


# ------------------------------------------------------------------ OpenSim's own analysis
def _opensim_joint_reaction(
    model: str | Path | Any,
    coordinates: str | Path | pd.DataFrame,
    forces: pd.DataFrame,
    reserves: ReserveConfig,
    in_degrees: bool | None,
    tool_options: dict,
) -> pd.DataFrame:
    """The reference: OpenSim's JointReaction analysis (AnalyzeTool, SO force file).

    Two JointReaction analyses (hip_r and hip_l on the child body, expressed in the child and
    in the parent frame) run in one AnalyzeTool over the forces' time range; ``tool_options``
    are the AnalyzeTool's filter and loads (``lowpass_hz``, ``external_loads``, ``grf``).
    """
    from gait2hip.sim.opensim_env import load_model
    from gait2hip.sim.so_model import analyze_tool, prepare_so_model, run_analyze_tool

    osim = import_opensim()
    with tempfile.TemporaryDirectory(prefix="gait2hip-jr-ref-") as tmp:
        folder = Path(tmp)
        model_path, _ = prepare_so_model(model, folder=folder, config=reserves)
        table = coordinate_table(load_model(model_path, init=True), coordinates, in_degrees=in_degrees)
        t0, t1 = float(forces.index[0]), float(forces.index[-1])
        filter_time_range(table, (t0, t1))
        coords_file = write_storage(folder / "coordinates.sto", table, name="Coordinates", in_degrees=False)
        forces_file = write_storage(folder / "so_force.sto", forces, name="Static Optimization Forces")
        tool = analyze_tool(
            name="reference", model_path=model_path, coordinates_file=coords_file, folder=folder,
            time_range=(t0, t1), **tool_options,
        )  # fmt: skip
        for frame in ("child", "parent"):
            analysis = osim.JointReaction()
            analysis.setName(f"JR_{frame}")
            analysis.setStartTime(t0)
            analysis.setEndTime(t1)
            analysis.setForcesFileName(str(forces_file))
            names, on, expressed = osim.ArrayStr(), osim.ArrayStr(), osim.ArrayStr()
            for joint, _, _ in HIP_JOINTS.values():
                names.append(joint)
                on.append("child")
                expressed.append(frame)
            analysis.setJointNames(names)
            analysis.setOnBody(on)
            analysis.setInFrame(expressed)
            tool.getAnalysisSet().cloneAndAppend(analysis)
        run_analyze_tool(tool, folder)
        child = read_storage(folder / "results" / "reference_JR_child_ReactionLoads.sto").data
        parent = read_storage(folder / "results" / "reference_JR_parent_ReactionLoads.sto").data
    both = pd.concat([child, parent.set_axis(child.index)], axis=1)
    return pd.concat([contact_from_table(both, hip) for hip in HIP_JOINTS], axis=1)
