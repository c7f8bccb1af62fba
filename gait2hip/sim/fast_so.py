"""gait2hip's static-optimisation solver: OpenSim's SO problem, solved exactly and fast.

Same problem as OpenSim 4's StaticOptimization (see :mod:`gait2hip.sim.static_optimization`
for the formulation); what changes is how it is solved:

1. Kinematics are processed exactly like the AnalyzeTool does (padded IIR low-pass, quintic
   GCV splines for speeds, splines of the speeds for accelerations), with OpenSim's own
   ``Storage`` / ``GCVSplineSet``, so both solvers balance the same accelerations.
2. Per frame, OpenSim gives the inverse-dynamics generalized forces with every actuator
   off (``InverseDynamicsSolver``, external loads on), each muscle's rigid-tendon active
   force at full activation (``calcInextensibleTendonActiveFiberForce(s, 1)``, as SO uses)
   and its generalized forces per newton of tension, from the path's own force application
   (what OpenSim applies when SO overrides a muscle), projected onto the independent
   coordinates (a coupled dependent's share folds onto its independent coordinate).
   Coordinate actuators enter analytically; any other actuator (PointActuator,
   TorqueActuator, ...) by one extra inverse-dynamics solve per frame with it pushing.
3. The per-frame problem ``min Σ x² s.t. A x = τ, lo ≤ x ≤ hi`` is a strictly convex QP
   (:func:`gait2hip.sim.so_qp.solve_min_squares_qp`).
   Its dual is smooth and piecewise quadratic; a semismooth Newton method with Armijo
   backtracking solves it for all frames at once (batched numpy linear algebra): the
   primal solution is ``x = clip(Aᵀλ, lo, hi)``, exact up to round-off, no tolerance to tune.
   Legs, trunk and pelvis share no variables, so the batched system is block-diagonal in
   effect and every frame converges in a handful of iterations.

The frame loop that calls OpenSim is the only Python loop; the solve itself is
vectorised. Loaded models (with their reserves and external loads) are cached per model
file, so a batch over many trials of one subject pays the set-up once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.io.opensim import write_storage
from gait2hip.sim.opensim_env import (
    coordinate_table,
    filter_time_range,
    import_opensim,
    load_model,
)
from gait2hip.sim.so_model import (
    ReserveConfig,
    SOResult,
    add_reserve_actuators,
    free_coordinates,
)
from gait2hip.sim.so_qp import solve_min_squares_qp


# ------------------------------------------------------------------------ cached model
@dataclass
class _PreparedModel:
    model: Any
    state: Any
    reserves: dict[str, str]
    actuators: list[str]
    muscles: list[str]
    free: list[str]
    lower: np.ndarray
    upper: np.ndarray
    optimal_force: np.ndarray
    actuator_coordinate: dict[str, int]
    couplers: list[tuple[str, list[str], Any]]
    others: list[str]


#: Prepared models by (file, mtime, size, reserves, loads); least recently used dropped first.
_MODEL_CACHE: OrderedDict[tuple, _PreparedModel] = OrderedDict()
_MODEL_CACHE_SIZE = 4


def _model_key(model: str | Path | Any, config: ReserveConfig, loads_key: str) -> tuple | None:
    if isinstance(model, (str, Path)):
        path = Path(model).resolve()
        if path.is_file():
            stat = path.stat()
            return (str(path), stat.st_mtime_ns, stat.st_size, config, loads_key)
    return None


def _couplers(model: Any) -> list[tuple[str, list[str], Any]]:
    osim = import_opensim()
    found = []
    constraints = model.getConstraintSet()
    for i in range(constraints.getSize()):
        coupler = osim.CoordinateCouplerConstraint.safeDownCast(constraints.get(i))
        if coupler is None or not coupler.get_isEnforced():
            continue
        names = coupler.getIndependentCoordinateNames()
        found.append(
            (
                coupler.getDependentCoordinateName(),
                [names.get(k) for k in range(names.getSize())],
                coupler.getFunction(),
            )
        )
    return found


def _loads_signature(xml: Path, grf: Path | None) -> str:
    """Identity of the external loads for the model cache: both files' paths, sizes and times.

    The cached model holds the GRF data it read; a GRF file rewritten under the same name
    (e.g. a regenerated synthetic trial) must not reuse it.
    """
    import xml.etree.ElementTree as ET

    if grf is None:
        try:
            datafile = (ET.parse(xml).getroot().findtext(".//datafile") or "").strip()
        except (ET.ParseError, OSError):
            datafile = ""
        grf = (Path(datafile) if Path(datafile).is_absolute() else xml.parent / datafile) if datafile else xml
    parts = []
    for path in (xml, grf):
        path = path.resolve()
        stat = path.stat() if path.is_file() else None
        parts.append(f"{path}:{stat.st_mtime_ns if stat else 0}:{stat.st_size if stat else 0}")
    return "|".join(parts)


def _prepare(
    model: str | Path | Any, *, external_loads: Path | None, config: ReserveConfig, loads_key: str = ""
) -> _PreparedModel:
    osim = import_opensim()
    key = _model_key(model, config, f"{external_loads}|{loads_key}")
    if key is not None and key in _MODEL_CACHE:
        _MODEL_CACHE.move_to_end(key)
        return _MODEL_CACHE[key]
    loaded = load_model(model)
    reserves = add_reserve_actuators(loaded, config=config)
    if external_loads is not None:
        loads = osim.ExternalLoads(str(external_loads), True)
        loaded.addModelComponent(loads)
    state = loaded.initSystem()
    free = free_coordinates(loaded, state)
    forces = loaded.getForceSet()
    actuators, lower, upper, optimal, act_coord = [], [], [], [], {}
    muscles, others = [], []
    for i in range(forces.getSize()):
        actuator = osim.ScalarActuator.safeDownCast(forces.get(i))
        if actuator is None or not actuator.get_appliesForce():
            continue
        name = actuator.getName()
        actuators.append(name)
        lower.append(actuator.getMinControl())
        upper.append(actuator.getMaxControl())
        muscle = osim.Muscle.safeDownCast(forces.get(i))
        coordinate_actuator = osim.CoordinateActuator.safeDownCast(forces.get(i))
        if muscle is not None:
            muscles.append(name)
            optimal.append(np.nan)
        elif coordinate_actuator is not None:
            coordinate = coordinate_actuator.get_coordinate()
            if coordinate in free:
                act_coord[name] = free.index(coordinate)
            optimal.append(coordinate_actuator.getOptimalForce())
        else:
            # PointActuator, TorqueActuator, ...: generalized forces measured per frame.
            others.append(name)
            optimal.append(actuator.getOptimalForce())
    prepared = _PreparedModel(
        model=loaded,
        state=state,
        reserves=reserves,
        actuators=actuators,
        muscles=muscles,
        free=free,
        lower=np.array(lower, dtype=float),
        upper=np.array(upper, dtype=float),
        optimal_force=np.array(optimal, dtype=float),
        actuator_coordinate=act_coord,
        couplers=_couplers(loaded),
        others=others,
    )
    if key is not None:
        _MODEL_CACHE[key] = prepared
        while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
            _MODEL_CACHE.popitem(last=False)
    return prepared


# ------------------------------------------------------------------------ kinematics
def _storage_frame(storage: Any) -> pd.DataFrame:
    osim = import_opensim()
    labels = storage.getColumnLabels()
    times = osim.ArrayDouble()
    storage.getTimeColumn(times)
    columns = {}
    for i in range(1, labels.getSize()):
        column = osim.ArrayDouble()
        # The start-time argument defaults to 0, which would drop padded (negative-time) rows.
        storage.getDataColumn(labels.get(i), column, -1e30)
        columns[labels.get(i)] = column.getAsVector().to_numpy().copy()
    return pd.DataFrame(columns, index=pd.Index(times.getAsVector().to_numpy().copy(), name="time"))


def analyze_tool_kinematics(
    table: pd.DataFrame, *, lowpass_hz: float | None, folder: Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """q, u, u̇ exactly as OpenSim's AnalyzeTool + StaticOptimization derive them.

    Padded IIR low-pass (if asked), quintic GCV splines of q for u, quintic GCV splines
    of u for u̇, all at the (padded) sample times.
    """
    osim = import_opensim()
    source = write_storage(folder / "q_input.sto", table, name="Coordinates", in_degrees=False)
    storage = osim.Storage(str(source))
    if lowpass_hz is not None:
        storage.pad(storage.getSize() // 2)
        storage.lowpassIIR(float(lowpass_hz))
    q = _storage_frame(storage)
    speeds = osim.GCVSplineSet(5, storage).constructStorage(1)
    u = _storage_frame(speeds)
    udot = _storage_frame(osim.GCVSplineSet(5, speeds).constructStorage(1))
    u.index, udot.index = q.index, q.index
    return q, u, udot


# ------------------------------------------------------------------------ per-frame terms
def _frame_terms(
    prepared: _PreparedModel, q: pd.DataFrame, u: pd.DataFrame, udot: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: target generalized forces [F, m], muscle max active forces [F, nm],
    muscle generalized forces per newton [F, m, nm] and those of the other (non-muscle,
    non-coordinate) actuators per unit actuation [F, m, no], all on the free coordinates."""
    osim = import_opensim()
    model, state = prepared.model, prepared.state
    coords = model.getCoordinateSet()
    muscles = model.getMuscles()
    muscle_objects = [muscles.get(name) for name in prepared.muscles]
    paths = [muscle.getGeometryPath() for muscle in muscle_objects]
    n_bodies = model.getBodySet().getSize() + 1  # + ground
    forces = model.getForceSet()
    for name in prepared.actuators:
        forces.get(name).setAppliesForce(state, False)
    solver = osim.InverseDynamicsSolver(model)
    names = list(q.columns)
    coordinate_objects = [coords.get(n) for n in names]
    speed_order = _speed_order(model, state, names)
    inverse_order = speed_order_inverse(speed_order)
    free_index = {name: names.index(name) for name in prepared.free}
    fold = np.zeros((len(prepared.free), len(names)))
    for k, name in enumerate(prepared.free):
        fold[k, free_index[name]] = 1.0
    n_frames, n_free, n_muscles = len(q), len(prepared.free), len(prepared.muscles)
    tau = np.empty((n_frames, n_free))
    fmax = np.empty((n_frames, n_muscles))
    arms = np.zeros((n_frames, n_free, n_muscles))
    others = np.zeros((n_frames, n_free, len(prepared.others)))
    other_objects = [osim.ScalarActuator.safeDownCast(forces.get(name)) for name in prepared.others]
    for actuator in other_objects:
        actuator.overrideActuation(state, True)
        actuator.setOverrideActuation(state, 1.0)
    q_values, u_values, a_values = q.to_numpy(), u.to_numpy(), udot.to_numpy()
    for f in range(n_frames):
        state.setTime(float(q.index[f]))
        for c, coord in enumerate(coordinate_objects):
            coord.setValue(state, float(q_values[f, c]), False)
            coord.setSpeedValue(state, float(u_values[f, c]))
        model.realizeVelocity(state)
        for j, muscle in enumerate(muscle_objects):
            fmax[f, j] = muscle.calcInextensibleTendonActiveFiberForce(state, 1.0)
        udot_vector = osim.Vector([float(a_values[f, c]) for c in speed_order])
        generalized = solver.solve(state, udot_vector)
        generalized = np.array([generalized.get(i) for i in range(generalized.size())])
        by_coordinate = generalized[inverse_order]
        # Generalized forces of coupled dependents fold onto their independent coordinates.
        projection = fold + _coupler_slopes(prepared, state, names)
        tau[f] = projection @ by_coordinate
        arms[f] = projection @ _unit_tension_forces(prepared, state, paths, n_bodies, inverse_order)
        for k, actuator in enumerate(other_objects):
            # Its generalized force = how much less the rest must supply when it pushes with 1 unit.
            actuator.setAppliesForce(state, True)
            with_actuator = solver.solve(state, udot_vector)
            actuator.setAppliesForce(state, False)
            pushed = np.array([with_actuator.get(i) for i in range(with_actuator.size())])[inverse_order]
            others[f, :, k] = projection @ (by_coordinate - pushed)
    return tau, fmax, arms, others


def speed_order_inverse(order: list[int]) -> np.ndarray:
    """Permutation taking state-u order back to table-column order."""
    inverse = np.empty(len(order), dtype=int)
    inverse[np.asarray(order)] = np.arange(len(order))
    return inverse


def _speed_order(model: Any, state: Any, names: list[str]) -> list[int]:
    """For each mobility (state u index), the table column of its coordinate.

    Found by probing: nudge one coordinate's speed and see which u slot moves (the
    tree order is not exposed to Python).
    """
    coords = model.getCoordinateSet()
    order = [-1] * state.getNU()
    for column, name in enumerate(names):
        coord = coords.get(name)
        before = state.getU().to_numpy().copy()
        original = coord.getSpeedValue(state)
        coord.setSpeedValue(state, original + 1.0)
        moved = np.flatnonzero(state.getU().to_numpy() != before)
        coord.setSpeedValue(state, original)
        if len(moved) != 1:
            raise RuntimeError(f"cannot locate the mobility of coordinate {name}")
        order[int(moved[0])] = column
    return order


def _function_derivative(osim: Any, function: Any, component: int, values: list[float]) -> float:
    """d function / d x[component] at ``values``, by a central difference on ``calcValue``.

    OpenSim's own ``Function.calcDerivative`` takes a SWIG ``std::vector<int>``, and when another
    SWIG extension (ezc3d) registered that type first, no wrapper is accepted any more: the
    result would depend on import order. Coupler functions are linear functions or C2 cubic
    splines of an angle, so a central difference with a 1e-6 rad step is exact to ~1e-10.
    """
    step = 1e-6
    upper, lower = list(values), list(values)
    upper[component] += step
    lower[component] -= step
    return (function.calcValue(osim.Vector(upper)) - function.calcValue(osim.Vector(lower))) / (2 * step)


def _coupler_slopes(prepared: _PreparedModel, state: Any, names: list[str]) -> np.ndarray:
    """[n_free, n_coords]: d(dependent)/d(independent) for each coupler (0 elsewhere)."""
    osim = import_opensim()
    slopes = np.zeros((len(prepared.free), len(names)))
    coords = prepared.model.getCoordinateSet()
    for dependent, independent, function in prepared.couplers:
        values = [float(coords.get(n).getValue(state)) for n in independent]
        for k, name in enumerate(independent):
            if name in prepared.free:
                derivative = _function_derivative(osim, function, k, values)
                slopes[prepared.free.index(name), names.index(dependent)] = derivative
    return slopes


def _unit_tension_forces(
    prepared: _PreparedModel, state: Any, paths: list[Any], n_bodies: int, inverse_order: np.ndarray
) -> np.ndarray:
    """[n_coords (table order), n_muscles]: generalized forces of each muscle path at 1 N.

    Uses the path's own force application (``addInEquivalentForces``, then Jᵀ), i.e. what
    OpenSim applies when SO overrides a muscle's actuation. This equals −∂L/∂q for smooth
    paths but not always (wrapping quirks): matching OpenSim means using its forces.
    """
    osim = import_opensim()
    matter = prepared.model.getMatterSubsystem()
    n_u = state.getNU()
    columns = np.empty((n_u, len(paths)))
    zero = osim.SpatialVec(osim.Vec3(0.0), osim.Vec3(0.0))
    for j, path in enumerate(paths):
        body_forces = osim.VectorOfSpatialVec(n_bodies, zero)
        mobility = osim.Vector(n_u, 0.0)
        path.addInEquivalentForces(state, 1.0, body_forces, mobility)
        generalized = osim.Vector(n_u, 0.0)
        matter.multiplyBySystemJacobianTranspose(state, body_forces, generalized)
        columns[:, j] = generalized.to_numpy() + mobility.to_numpy()
    return columns[inverse_order]


def prepared_model(
    model: str | Path | Any,
    *,
    external_loads: str | Path | None,
    grf: str | Path | None,
    reserves: ReserveConfig,
    folder: Path,
) -> _PreparedModel:
    """The model with SO's reserves and the external loads, initialised (cached per inputs).

    Also used by :mod:`gait2hip.sim.joint_reaction`, so the contact force after an SO reuses
    the SO's loaded model. ``folder`` holds a rewritten loads XML while it is read.
    """
    from gait2hip.sim.inverse_dynamics import external_loads_file

    loads, signature = None, "none"
    if external_loads is not None:
        loads = external_loads_file(external_loads, grf=grf, folder=folder)
        signature = _loads_signature(Path(external_loads), None if grf is None else Path(grf))
        if grf is not None:
            # The rewritten XML lives in a temporary folder; the cached model keeps using its
            # data, so give it a stable file named after the inputs.
            digest = hashlib.sha1(signature.encode()).hexdigest()[:16]
            stable = Path(tempfile.gettempdir()) / f"gait2hip-loads-{digest}-{os.getpid()}.xml"
            stable.write_text(loads.read_text())
            loads = stable
    return _prepare(model, external_loads=loads, config=reserves, loads_key=signature)


# ------------------------------------------------------------------------ entry point
def run_fast_static_optimization(
    *,
    model: str | Path | Any,
    coordinates: str | Path | pd.DataFrame,
    external_loads: str | Path | None,
    grf: str | Path | None = None,
    time_range: tuple[float, float] | None = None,
    lowpass_hz: float | None = None,
    in_degrees: bool | None = None,
    reserves: ReserveConfig | None = None,
) -> SOResult:
    """Static optimisation with gait2hip's solver (arguments as :func:`run_static_optimization`)."""
    reserves = ReserveConfig() if reserves is None else reserves
    with tempfile.TemporaryDirectory(prefix="gait2hip-fastso-") as tmp:
        folder = Path(tmp)
        prepared = prepared_model(
            model, external_loads=external_loads, grf=grf, reserves=reserves, folder=folder
        )
        table = coordinate_table(prepared.model, coordinates, in_degrees=in_degrees)
        t0, t1 = filter_time_range(table, time_range)
        q, u, udot = analyze_tool_kinematics(table, lowpass_hz=lowpass_hz, folder=folder)
    times = q.index.to_numpy()
    keep = _frames_in_range(times, t0, t1)
    q, u, udot = q.iloc[keep], u.iloc[keep], udot.iloc[keep]
    tau, fmax, arms, others = _frame_terms(prepared, q, u, udot)
    n_frames, n_free = tau.shape
    n_act = len(prepared.actuators)
    A = np.zeros((n_frames, n_free, n_act))
    muscle_columns = [prepared.actuators.index(m) for m in prepared.muscles]
    A[:, :, muscle_columns] = arms * fmax[:, None, :]
    for name, row in prepared.actuator_coordinate.items():
        A[:, row, prepared.actuators.index(name)] = prepared.optimal_force[prepared.actuators.index(name)]
    for k, name in enumerate(prepared.others):
        column = prepared.actuators.index(name)
        A[:, :, column] = others[:, :, k] * prepared.optimal_force[column]
    controls, violation = solve_min_squares_qp(A, tau, prepared.lower, prepared.upper)
    force_scale = np.where(np.isnan(prepared.optimal_force), 0.0, prepared.optimal_force)
    force_scale = np.broadcast_to(force_scale, (n_frames, n_act)).copy()
    force_scale[:, muscle_columns] = fmax
    index = pd.Index(q.index.to_numpy(), name="time")
    forces = pd.DataFrame(controls * force_scale, index=index, columns=prepared.actuators)
    activations = pd.DataFrame(controls, index=index, columns=prepared.actuators)
    return SOResult(
        forces=forces,
        activations=activations,
        muscles=tuple(prepared.muscles),
        reserves=dict(prepared.reserves),
        solver="fast",
        # q and u at the solved frames, for the contact force (sim.joint_reaction) to reuse.
        info={"max_constraint_violation": float(violation.max(initial=0.0)), "kinematics": (q, u)},
    )


def _frames_in_range(times: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Sample indices the AnalyzeTool visits: from the sample at t0 to the sample at t1."""
    # Storage::findIndex: the last sample at or before the requested time.
    first = int(np.searchsorted(times, t0 + 1e-9, side="right")) - 1
    last = int(np.searchsorted(times, t1 + 1e-9, side="right")) - 1
    first = min(max(first, 0), len(times) - 1)
    last = max(min(last, len(times) - 1), first)
    return np.arange(first, last + 1)
