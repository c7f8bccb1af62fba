"""The static-optimisation problem shared by both solvers: solver names, reserve actuators
and the result type.

:mod:`gait2hip.sim.static_optimization` (OpenSim's solver, the entry point) and
:mod:`gait2hip.sim.fast_so` (gait2hip's solver) both build on this module, so neither
imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.sim.opensim_env import import_opensim, load_model

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


def analyze_tool(
    *,
    name: str,
    model_path: Path,
    coordinates_file: Path,
    folder: Path,
    time_range: tuple[float, float],
    lowpass_hz: float | None,
    external_loads: str | Path | None,
    grf: str | Path | None,
) -> Any:
    """An OpenSim AnalyzeTool over ``time_range`` with the settings static optimisation and the
    JointReaction reference share (model, coordinates, filter, external loads, results in
    ``folder/results``); the caller appends its analyses and runs it with :func:`run_analyze_tool`."""
    from gait2hip.sim.inverse_dynamics import external_loads_file

    tool = import_opensim().AnalyzeTool()
    tool.setName(name)
    tool.setModelFilename(str(model_path))
    tool.setCoordinatesFileName(str(coordinates_file))
    tool.setLowpassCutoffFrequency(-1.0 if lowpass_hz is None else float(lowpass_hz))
    if external_loads is not None:
        tool.setExternalLoadsFileName(str(external_loads_file(external_loads, grf=grf, folder=folder)))
    tool.setInitialTime(time_range[0])
    tool.setFinalTime(time_range[1])
    tool.setResultsDir(str(folder / "results"))
    return tool


def run_analyze_tool(tool: Any, folder: Path) -> None:
    """Run ``tool`` quietly. An AnalyzeTool built in Python only runs once printed to XML and
    reloaded (measured), so it is printed to ``folder/analyze_setup.xml`` and run from there."""
    from gait2hip.sim.opensim_env import quiet_stdout

    setup = folder / "analyze_setup.xml"
    tool.printToXML(str(setup))
    reloaded = import_opensim().AnalyzeTool(str(setup))
    with quiet_stdout():
        reloaded.run()
