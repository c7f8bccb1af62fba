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
from pathlib import Path
from typing import Any

import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage, write_storage
from gait2hip.sim.opensim_env import (
    coordinate_table,
    filter_time_range,
    import_opensim,
    load_model,
)
from gait2hip.sim.so_model import (
    SOLVERS,
    ReserveConfig,
    SOResult,
    analyze_tool,
    prepare_so_model,
    run_analyze_tool,
)


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
    reserves: ReserveConfig = ReserveConfig(),  # noqa: B008 (frozen dataclass)
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
    problem = dict(
        model=model,
        coordinates=coordinates,
        external_loads=external_loads,
        grf=grf,
        time_range=time_range,
        lowpass_hz=lowpass_hz,
        in_degrees=in_degrees,
        reserves=reserves,
    )
    if solver in ("default", "fast"):
        from gait2hip.sim.fast_so import run_fast_static_optimization

        result = run_fast_static_optimization(**problem)
    else:
        result = _run_opensim_so(
            **problem, convergence_criterion=convergence_criterion, max_iterations=max_iterations
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

    osim = import_opensim()
    with tempfile.TemporaryDirectory(prefix="gait2hip-so-") as tmp:
        folder = Path(tmp)
        model_path, added = prepare_so_model(model, folder=folder, config=reserves)
        loaded = load_model(model_path, init=True)
        table = coordinate_table(loaded, coordinates, in_degrees=in_degrees)
        t0, t1 = filter_time_range(table, time_range)
        coords_file = write_storage(folder / "coordinates.sto", table, name="Coordinates", in_degrees=False)
        muscles = tuple(loaded.getMuscles().get(i).getName() for i in range(loaded.getMuscles().getSize()))
        tool = analyze_tool(
            name="gait2hip", model_path=model_path, coordinates_file=coords_file, folder=folder,
            time_range=(t0, t1), lowpass_hz=lowpass_hz, external_loads=external_loads, grf=grf,
        )  # fmt: skip
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
        run_analyze_tool(tool, folder)
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
