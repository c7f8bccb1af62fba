"""Static optimisation (SO): muscle forces that produce the inverse-dynamics moments while
minimising the sum of squared activations, frame by frame.

Two solvers share one problem definition (model + reserve actuators + kinematics + loads):

* ``'opensim'`` — OpenSim's own StaticOptimization analysis run by an AnalyzeTool, the
  reference (IPOPT on every frame; ≈ 10 s per gait cycle on Rajagopal2016).
* ``'fast'`` — gait2hip's solver (:mod:`gait2hip.sim.fast_so`): the same formulation solved
  exactly per frame from cached moment arms, vectorised across frames.

``'default'`` picks the fast solver: it matches OpenSim's SO within 1 % of peak force on
every hip muscle of the shared OpenSim example trials (``tests/test_sim_fast_so.py``;
measured: ≤ 0.01 % on gait2392, ≤ 0.03 % on moco-3d-walking, 0.05 % on rajagopal-walk
after its own scale + IK) when OpenSim's IPOPT is converged (tolerance 1e-8); on the few
frames where IPOPT stops short of the optimum (2 of 115 on rajagopal-walk) OpenSim's Σa²
is the higher one. At OpenSim's default tolerance (1e-4) OpenSim's own answer is
off its optimum by up to 7.5 % of peak on gait2392 hip muscles (tfl_r), so the fast
solver is the more exact of the two; ``gait2hip bench label`` prints both figures.

Formulation (OpenSim 4 ``StaticOptimizationTarget``, use_model_force_set and
use_muscle_physiology on): every actuator i has a control x_i within its
[min_control, max_control]; a muscle's force is x_i · F_i, where F_i is its rigid-tendon
active fibre force at full activation (force–length, force–velocity, pennation) at the
frame's state — passive fibre force is not added because SO overrides the actuation; a
coordinate actuator's force is x_i · optimal_force. Minimise Σ x_i² subject to the
accelerations of every unconstrained coordinate matching the kinematics.

Reserve actuators (added to a copy of the model, never to the user's file): residual
actuators on the coordinates of the joint to ground (the pelvis: no muscle crosses it),
weak reserves (``reserve_optimal_force``, 1 N m by default, so a reserve torque τ costs τ²)
on muscle-actuated coordinates, and strong ones on coordinates with neither muscles nor
actuators of their own.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage, write_storage
from gait2hip.sim.opensim_env import (
    coordinate_table,
    filter_time_range,
    import_opensim,
    load_model,
    quiet_stdout,
)

SOLVERS = ("default", "fast", "opensim")

#: Prefixes of the actuators gait2hip adds.
RESIDUAL_PREFIX = "residual_"
RESERVE_PREFIX = "reserve_"


@dataclass(frozen=True)
class ReserveConfig:
    """Optimal forces (N or N m per unit control) of the actuators added for SO.

    Parameters
    ----------
    reserve_optimal_force
        Reserves on muscle-actuated coordinates. Small on purpose: a reserve torque τ
        costs (τ / reserve_optimal_force)², so muscles are used first.
    residual_optimal_force
        Residual actuators on the coordinates of the joint to ground (pelvis).
    unactuated_optimal_force
        Coordinates with neither muscles nor an actuator of their own (arms of some models).
    """

    reserve_optimal_force: float = 1.0
    residual_optimal_force: float = 1000.0
    unactuated_optimal_force: float = 100.0

    def __post_init__(self) -> None:
        for name in ("reserve_optimal_force", "residual_optimal_force", "unactuated_optimal_force"):
            if not getattr(self, name) > 0:
                raise Gait2HipInputError(f"{name} must be > 0 (got {getattr(self, name)}).")


@dataclass
class SOResult:
    """Static-optimisation result for one trial.

    Attributes
    ----------
    forces
        Actuator forces indexed by time: muscles in N, coordinate actuators in N m (or N).
    activations
        Controls (muscle activations; reserve controls) indexed by time.
    muscles
        Muscle names, in model order.
    reserves
        Added reserve/residual actuator name → the coordinate it acts on.
    solver
        'opensim' or 'fast'.
    elapsed_s
        Wall time of the solve (model loading included).
    """

    forces: pd.DataFrame
    activations: pd.DataFrame
    muscles: tuple[str, ...]
    reserves: dict[str, str]
    solver: str
    elapsed_s: float = float("nan")
    info: dict = field(default_factory=dict)

    @property
    def muscle_forces(self) -> pd.DataFrame:
        """Muscle forces in N (time × muscle)."""
        return self.forces[list(self.muscles)]

    @property
    def reserve_forces(self) -> pd.DataFrame:
        """Reserve and residual actuator forces (time × actuator), N m or N."""
        return self.forces[[name for name in self.reserves if name in self.forces]]

    def reserve_by_coordinate(self) -> pd.DataFrame:
        """Reserve/residual actuation per coordinate (columns: coordinate names)."""
        frame = self.reserve_forces.copy()
        frame.columns = [self.reserves[name] for name in frame.columns]
        return frame


# ------------------------------------------------------------------------ model set-up
def free_coordinates(model: Any, state: Any) -> list[str]:
    """Coordinates SO must balance: not locked, not prescribed, not a coupled dependent."""
    coords = model.getCoordinateSet()
    return [
        coords.get(i).getName() for i in range(coords.getSize()) if not coords.get(i).isConstrained(state)
    ]


def ground_joint_coordinates(model: Any) -> list[str]:
    """Coordinates of the joint(s) whose parent is ground (the pelvis free joint)."""
    names: list[str] = []
    joints = model.getJointSet()
    for i in range(joints.getSize()):
        joint = joints.get(i)
        parent = joint.getParentFrame().findBaseFrame().getName()
        if parent == model.getGround().getName():
            for k in range(joint.numCoordinates()):
                names.append(joint.get_coordinates(k).getName())
    return names


def muscle_spanned_coordinates(model: Any, *, coordinates: list[str], step: float = 1e-4) -> set[str]:
    """Coordinates that change some muscle's length, tested at two poses.

    Parameters
    ----------
    model
        An initialised model (its working state is used and left at defaults).
    coordinates
        Candidate coordinates.
    """
    state = model.initializeState()
    coords = model.getCoordinateSet()
    muscles = model.getMuscles()
    spanned: set[str] = set()
    for pose_angle in (0.0, 0.35):
        for name in coordinates:
            coord = coords.get(name)
            if pose_angle and coord.getMotionType() == coord.Rotational:
                low, high = coord.getRangeMin(), coord.getRangeMax()
                coord.setValue(state, float(np.clip(pose_angle, low, high)), False)
        for name in coordinates:
            if name in spanned:
                continue
            coord = coords.get(name)
            value = coord.getValue(state)
            lengths = []
            for sign in (1.0, -1.0):
                coord.setValue(state, value + sign * step, False)
                model.realizePosition(state)
                lengths.append(np.array([muscles.get(i).getLength(state) for i in range(muscles.getSize())]))
            coord.setValue(state, value, False)
            if np.any(np.abs(lengths[0] - lengths[1]) > 1e-9):
                spanned.add(name)
    return spanned


def add_reserve_actuators(model: Any, *, config: ReserveConfig = ReserveConfig()) -> dict[str, str]:
    """Add residual/reserve CoordinateActuators to ``model`` (in place); return name → coordinate.

    Coordinates that already have a CoordinateActuator in the model keep only that one.
    """
    osim = import_opensim()
    state = model.initSystem()
    free = free_coordinates(model, state)
    actuated: set[str] = set()
    forces = model.getForceSet()
    for i in range(forces.getSize()):
        actuator = osim.CoordinateActuator.safeDownCast(forces.get(i))
        if actuator is not None:
            actuated.add(actuator.get_coordinate())
    ground = set(ground_joint_coordinates(model))
    spanned = muscle_spanned_coordinates(model, coordinates=[c for c in free if c not in ground])
    added: dict[str, str] = {}
    for name in free:
        if name in ground:
            prefix, optimal = RESIDUAL_PREFIX, config.residual_optimal_force
        elif name in actuated:
            continue
        elif name in spanned:
            prefix, optimal = RESERVE_PREFIX, config.reserve_optimal_force
        else:
            prefix, optimal = RESERVE_PREFIX, config.unactuated_optimal_force
        actuator = osim.CoordinateActuator(name)
        actuator.setName(prefix + name)
        actuator.setOptimalForce(float(optimal))
        actuator.setMinControl(-float("inf"))
        actuator.setMaxControl(float("inf"))
        model.addForce(actuator)
        added[prefix + name] = name
    model.finalizeConnections()
    return added


def prepare_so_model(
    model: str | Path | Any, *, folder: Path, config: ReserveConfig = ReserveConfig()
) -> tuple[Path, dict[str, str]]:
    """Write a copy of the model with reserves into ``folder``; return (path, reserves)."""
    loaded = load_model(model)
    reserves = add_reserve_actuators(loaded, config=config)
    path = folder / "model_with_reserves.osim"
    loaded.printToXML(str(path))
    return path, reserves


# ------------------------------------------------------------------------ the entry point
def run_static_optimization(
    *,
    model: str | Path | Any,
    coordinates: str | Path | pd.DataFrame,
    external_loads: str | Path | None,
    time_range: tuple[float, float] | None = None,
    solver: str = "default",
    grf: str | Path | None = None,
    lowpass_hz: float | None = None,
    in_degrees: bool | None = None,
    reserves: ReserveConfig = ReserveConfig(),
    convergence_criterion: float = 1e-4,
    max_iterations: int = 100,
    out_dir: str | Path | None = None,
) -> SOResult:
    """Muscle forces by static optimisation.

    Parameters
    ----------
    model
        Scaled model (.osim path or ``opensim.Model``; never modified).
    coordinates
        IK output (.mot/.sto) or DataFrame (see :func:`run_inverse_dynamics`).
    external_loads
        ExternalLoads .xml (None: no external loads; only sensible for tests).
    time_range
        (start, end) in s; default: the whole kinematics.
    solver
        'default' (= 'fast'), 'fast' or 'opensim'.
    grf
        GRF .mot replacing the loads file's ``<datafile>``.
    lowpass_hz
        Low-pass cut-off applied to the coordinates (OpenSim's padded IIR), None: none.
    in_degrees
        Unit of DataFrame angles when there is no header.
    reserves
        Optimal forces of the added reserve / residual actuators.
    convergence_criterion, max_iterations
        IPOPT settings of the 'opensim' solver (OpenSim's defaults: 1e-4, 100). The fast
        solver solves each frame exactly and ignores them.
    out_dir
        Also write ``so_force.sto`` and ``so_activation.sto`` here.

    Returns
    -------
    SOResult
    """
    if solver not in SOLVERS:
        raise Gait2HipInputError(
            f"unknown static-optimisation solver '{solver}'.", fix=f"use one of {', '.join(SOLVERS)}."
        )
    if lowpass_hz is not None and not lowpass_hz > 0:
        raise Gait2HipInputError(f"low-pass cut-off {lowpass_hz} Hz must be > 0 (or None for no filter).")
    started = time.perf_counter()
    if solver in ("default", "fast"):
        from gait2hip.sim.fast_so import run_fast_static_optimization

        result = run_fast_static_optimization(
            model=model,
            coordinates=coordinates,
            external_loads=external_loads,
            grf=grf,
            time_range=time_range,
            lowpass_hz=lowpass_hz,
            in_degrees=in_degrees,
            reserves=reserves,
        )
    else:
        result = _run_opensim_so(
            model=model,
            coordinates=coordinates,
            external_loads=external_loads,
            grf=grf,
            time_range=time_range,
            lowpass_hz=lowpass_hz,
            in_degrees=in_degrees,
            reserves=reserves,
            convergence_criterion=convergence_criterion,
            max_iterations=max_iterations,
        )
    result.elapsed_s = time.perf_counter() - started
    if out_dir is not None:
        write_so_result(result, out_dir)
    return result


def write_so_result(result: SOResult, out_dir: str | Path, *, prefix: str = "so") -> tuple[Path, Path]:
    """Write forces and activations as OpenSim .sto files (``<prefix>_force.sto`` ...)."""
    out = Path(out_dir)
    forces = write_storage(out / f"{prefix}_force.sto", result.forces, name="Static Optimization Forces")
    activations = write_storage(
        out / f"{prefix}_activation.sto", result.activations, name="Static Optimization Activations"
    )
    return forces, activations


def _run_opensim_so(
    *,
    model: str | Path | Any,
    coordinates: str | Path | pd.DataFrame,
    external_loads: str | Path | None,
    grf: str | Path | None,
    time_range: tuple[float, float] | None,
    lowpass_hz: float | None,
    in_degrees: bool | None,
    reserves: ReserveConfig,
    convergence_criterion: float,
    max_iterations: int,
) -> SOResult:
    from gait2hip.sim.inverse_dynamics import external_loads_file

    osim = import_opensim()
    with tempfile.TemporaryDirectory(prefix="gait2hip-so-") as tmp:
        folder = Path(tmp)
        model_path, added = prepare_so_model(model, folder=folder, config=reserves)
        loaded = load_model(model_path, init=True)
        table = coordinate_table(loaded, coordinates, in_degrees=in_degrees)
        t0, t1 = filter_time_range(table, time_range)
        coords_file = write_storage(folder / "coordinates.sto", table, name="Coordinates", in_degrees=False)
        muscles = tuple(loaded.getMuscles().get(i).getName() for i in range(loaded.getMuscles().getSize()))
        tool = osim.AnalyzeTool()
        tool.setName("gait2hip")
        tool.setModelFilename(str(model_path))
        tool.setCoordinatesFileName(str(coords_file))
        tool.setLowpassCutoffFrequency(-1.0 if lowpass_hz is None else float(lowpass_hz))
        if external_loads is not None:
            tool.setExternalLoadsFileName(str(external_loads_file(external_loads, grf=grf, folder=folder)))
        tool.setInitialTime(t0)
        tool.setFinalTime(t1)
        tool.setResultsDir(str(folder / "results"))
        analysis = osim.StaticOptimization()
        analysis.setName("StaticOptimization")
        analysis.setStartTime(t0)
        analysis.setEndTime(t1)
        analysis.setUseModelForceSet(True)
        analysis.setActivationExponent(2.0)
        analysis.setUseMusclePhysiology(True)
        analysis.setConvergenceCriterion(float(convergence_criterion))
        analysis.setMaxIterations(int(max_iterations))
        tool.getAnalysisSet().cloneAndAppend(analysis)
        setup = folder / "analyze_setup.xml"
        tool.printToXML(str(setup))
        # An AnalyzeTool built in Python only runs once printed and reloaded (measured).
        reloaded = osim.AnalyzeTool(str(setup))
        with quiet_stdout():
            reloaded.run()
        force_file = folder / "results" / "gait2hip_StaticOptimization_force.sto"
        activation_file = folder / "results" / "gait2hip_StaticOptimization_activation.sto"
        if not force_file.is_file():
            raise Gait2HipInputError(
                "OpenSim static optimisation produced no output.",
                fix="check that the kinematics, loads and time range belong together.",
            )
        forces = read_storage(force_file).data
        activations = read_storage(activation_file).data
    return SOResult(forces=forces, activations=activations, muscles=muscles, reserves=added, solver="opensim")
