"""Labelling benchmark (``gait2hip bench label``): throughput of ID / OpenSim SO / fast SO on this
machine, the fast solver's agreement with OpenSim, and our SO vs the example's reference CMC.

On the gait2392 example's right gait cycle (0.618–1.853 s, 75 frames at 60 Hz, 92 muscles,
6 Hz low-pass, both feet's GRF) it measures, in gait cycles per second:

* inverse dynamics alone (OpenSim's InverseDynamicsTool);
* OpenSim's static optimisation (AnalyzeTool + StaticOptimization, OpenSim's default IPOPT
  settings), ID not included;
* gait2hip's fast SO, first call (model set-up included) and warm (model cached, the batch
  case: many trials of one subject);

once in one process and once with ``--jobs`` processes in parallel (each process labels
its own copies; throughput = cycles done / wall time of the slowest process).

It also measures the agreement of the fast solver with OpenSim's SO (hip muscles, max error
as % of each muscle's peak force) at OpenSim's default tolerance and converged, and — for
the record, not a pass/fail — the hip muscle-group forces of our SO against the example's
reference CMC forces (RMSE, Pearson r per group over the cycle). SO and CMC differ by
method (CMC: RRA-adjusted model and kinematics, activation dynamics, tracking), so they
are not expected to agree closely.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import GAIT2392_GROUPS_R, MUSCLE_GROUPS_R, mirror_mapping
from gait2hip.sim.examples import RAJAGOPAL_LEFT_CYCLE, prepare_rajagopal_walk
from gait2hip.workers import exit_with_parent

CYCLE = (0.618, 1.853)
EXAMPLE = "opensim-examples/gait2392-subject01"


def _trial(shared: Path) -> dict:
    folder = shared / EXAMPLE
    return dict(
        model=folder / "subject01_simbody.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=folder / "subject01_walk1_grf.xml",
        lowpass_hz=6.0,
        time_range=CYCLE,
    )


def _time_method(method: str, shared: str, repeats: int) -> tuple[int, float, float]:
    """Run ``method`` ``repeats`` times after a warm-up; return (cycles, wall s, CPU s). Worker.

    OpenSim and the fast solver are single-threaded, so the process CPU time is what the
    work costs on an idle core, whatever else the machine is doing.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.static_optimization import run_static_optimization

    trial = _trial(Path(shared))

    def once() -> None:
        if method == "id":
            run_inverse_dynamics(**trial)
        elif method == "opensim_so":
            run_static_optimization(solver="opensim", **trial)
        else:
            run_static_optimization(solver="fast", **trial)

    if method == "fast_so_cold":
        from gait2hip.sim import fast_so

        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            fast_so._MODEL_CACHE.clear()
            once()
        return repeats, time.perf_counter() - started, time.process_time() - cpu
    if method in ("id", "fast_so_warm"):
        once()  # warm-up: imports, caches
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        once()
    return repeats, time.perf_counter() - started, time.process_time() - cpu


def measure_throughput(*, shared: Path, jobs: int, repeats: dict[str, int] | None = None) -> pd.DataFrame:
    """Cycles/s per method in 1 process and in ``jobs`` processes."""
    repeats = repeats or {"id": 4, "opensim_so": 1, "fast_so_cold": 2, "fast_so_warm": 4}
    rows = []
    for method, count in repeats.items():
        cycles, seconds, cpu = _time_method(method, str(shared), count)
        row = {
            "method": method,
            "cycles_per_s_1proc": cycles / seconds,
            "s_per_cycle_1proc": seconds / cycles,
            "cpu_s_per_cycle": cpu / cycles,
        }
        if jobs > 1:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=jobs, mp_context=context, initializer=exit_with_parent
            ) as pool:
                results = list(pool.map(_time_method, [method] * jobs, [str(shared)] * jobs, [count] * jobs))
            total = sum(c for c, _, _ in results)
            row[f"cycles_per_s_{jobs}proc"] = total / max(s for _, s, _ in results)
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def solver_agreement(*, shared: Path) -> dict[str, float]:
    """Max |fast − OpenSim| / peak over the gait2392 hip muscles (both legs), two IPOPT tolerances."""
    from gait2hip.sim.static_optimization import run_static_optimization

    trial = _trial(shared)
    muscles = [
        m
        for table in (GAIT2392_GROUPS_R, mirror_mapping(GAIT2392_GROUPS_R))
        for g in table.values()
        for m in g
    ]
    fast = run_static_optimization(solver="fast", **trial).forces[muscles].to_numpy()
    figures = {}
    for label, tolerance, iterations in (
        ("opensim_default_1e-4", 1e-4, 100),
        ("opensim_converged_1e-8", 1e-8, 2000),
    ):
        reference = (
            run_static_optimization(
                solver="opensim", convergence_criterion=tolerance, max_iterations=iterations, **trial
            )
            .forces[muscles]
            .to_numpy()
        )
        figures[label] = float((np.abs(fast - reference).max(axis=0) / np.abs(reference).max(axis=0)).max())
    return figures


def compare_solvers(
    trial: dict, *, muscles: list[str], tolerance: float = 1e-8, max_iterations: int = 2000
) -> dict[str, float]:
    """Fast SO vs OpenSim SO on one trial, with an optimality check frame by frame.

    Both solve the same strictly convex problem, whose optimum is unique. On a frame where
    OpenSim's Σ activation² exceeds ours (both satisfy the dynamics), IPOPT stopped short
    of the optimum, and a force difference there measures OpenSim's error, not ours.

    Returns
    -------
    dict
        ``max_error_all`` (max |fast − OpenSim| / peak over ``muscles`` and all frames),
        ``max_error_optimal_frames`` (same, frames where OpenSim reached the optimum within
        1e-6 in the objective), ``frames``, ``frames_opensim_suboptimal``,
        ``max_objective_excess_fast`` (largest Σa²(fast) − Σa²(OpenSim); ≤ 0 up to
        round-off means ours is never the worse solution) and the fast solver's
        ``max_constraint_violation``.
    """
    from gait2hip.sim.static_optimization import run_static_optimization

    fast = run_static_optimization(solver="fast", **trial)
    reference = run_static_optimization(
        solver="opensim", convergence_criterion=tolerance, max_iterations=max_iterations, **trial
    )
    columns = list(fast.activations.columns)
    excess = (fast.activations[columns].to_numpy() ** 2).sum(axis=1) - (
        reference.activations[columns].to_numpy() ** 2
    ).sum(axis=1)
    optimal = excess > -1e-6
    muscles = [m for m in muscles if m in fast.forces]
    f, r = fast.forces[muscles].to_numpy(), reference.forces[muscles].to_numpy()
    peak = np.abs(r).max(axis=0)
    return {
        "max_error_all": float((np.abs(f - r).max(axis=0) / peak).max()),
        "max_error_optimal_frames": float((np.abs(f - r)[optimal].max(axis=0) / peak).max()),
        "frames": len(excess),
        "frames_opensim_suboptimal": int((~optimal).sum()),
        "max_objective_excess_fast": float(excess.max()),
        "max_constraint_violation": float(fast.info["max_constraint_violation"]),
    }


def compare_with_cmc(*, shared: Path, solver: str = "fast") -> pd.DataFrame:
    """Right hip muscle-group forces: our SO vs the example's reference CMC, over the right cycle.

    Both are time-normalised to 101 points of the cycle; RMSE in N and Pearson r per group.
    """
    from gait2hip.data.cycles import time_normalize
    from gait2hip.data.muscle_mapping import aggregate_muscles
    from gait2hip.io.opensim import read_storage
    from gait2hip.sim.static_optimization import run_static_optimization

    so = run_static_optimization(solver=solver, **_trial(shared)).muscle_forces
    cmc = read_storage(
        shared / EXAMPLE / "OutputReference/ResultsCMC/subject01_walk1_Actuation_force.sto"
    ).data
    ours = aggregate_muscles(so, GAIT2392_GROUPS_R)
    theirs = aggregate_muscles(cmc, GAIT2392_GROUPS_R)
    a = time_normalize(ours.index.to_numpy(), ours[list(MUSCLE_GROUPS_R)].to_numpy(), *CYCLE)
    b = time_normalize(theirs.index.to_numpy(), theirs[list(MUSCLE_GROUPS_R)].to_numpy(), *CYCLE)
    rows = []
    for k, group in enumerate(MUSCLE_GROUPS_R):
        x, y = a[:, k], b[:, k]
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan")
        rows.append(
            {
                "group": group,
                "rmse_N": float(np.sqrt(np.mean((x - y) ** 2))),
                "pearson_r": r,
                "peak_so_N": float(x.max()),
                "peak_cmc_N": float(y.max()),
            }
        )
    return pd.DataFrame(rows).set_index("group")


def rajagopal_solver_comparison(*, shared: Path) -> dict:
    """Scale + IK the rajagopal-walk example, then compare fast vs converged OpenSim SO on its left
    cycle (hip muscles of both legs); the figures of :func:`compare_solvers`."""
    import tempfile

    from gait2hip.data.columns import RAJAGOPAL_GROUPS_R

    muscles = [
        m
        for table in (RAJAGOPAL_GROUPS_R, mirror_mapping(RAJAGOPAL_GROUPS_R))
        for g in table.values()
        for m in g
    ]
    with tempfile.TemporaryDirectory(prefix="gait2hip-rajagopal-") as tmp:
        trial = prepare_rajagopal_walk(shared=shared, folder=Path(tmp))
        trial.update(lowpass_hz=6.0, time_range=RAJAGOPAL_LEFT_CYCLE)
        return compare_solvers(trial, muscles=muscles)
