"""``gait2hip benchmark``: train and compare LSTM / Transformer / Mamba (and any registered model).

Steps (each a module of :mod:`gait2hip.bench`):

1. :mod:`~gait2hip.bench.data`: load the dataset, targets → N/kg and Nm/kg; the external cohort
   (``cohort == 'patient'``) is set aside; the 20 % subject hold-out of the paper splits the rest
   into POOL and TEST; the real trials of the OpenSim examples are built once;
2. :mod:`~gait2hip.bench.runner`: every unit (protocol, model, target, seed) is trained unless the
   run folder already holds it (:mod:`~gait2hip.bench.rundir`: a killed run resumes);
3. :mod:`~gait2hip.bench.scoring`: metrics (per subject, then subject-mean), paired tests, curves;
   then :mod:`~gait2hip.bench.crosslab`: the cross-lab experiment (trained on simulated /
   fukuchi2018 / both → tested on held-out subjects of each and the example trials), sized by
   the budget, into ``crosslab/``;
4. the report is rebuilt from the folder alone (:func:`gait2hip.report.write_report`, called by
   the command layer).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from gait2hip.backends import Backend
from gait2hip.bench.crosslab import run_for_benchmark
from gait2hip.bench.data import prepare_data
from gait2hip.bench.rundir import check_run_file, finish_call, heartbeat
from gait2hip.bench.runner import run_units
from gait2hip.bench.scoring import score_run
from gait2hip.bench.settings import BenchmarkSettings, Unit, plan_units
from gait2hip.data.columns import MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.train.loop import ProgressSink
from gait2hip.train.protocols import BUDGETS
from gait2hip.train.recipes import left_targets_available, subject_inputs_available

#: Assumed epochs per paper-protocol fold in full (best epoch + patience; the paper's CSVs show
#: best epochs 26-300, median ≈ 170) and of its final retraining.
FULL_FOLD_EPOCHS = 200
FULL_FINAL_EPOCHS = 170


def run_benchmark(
    *,
    out: Path,
    settings: BenchmarkSettings,
    shared: Path | None,
    progress: ProgressSink | None = None,
    on_event: Callable[[str, dict], None] = lambda kind, details: None,
    backend: Backend | None = None,
) -> Path:
    """Run (or resume) a benchmark into ``out``: trained units, scores, curves, ``run.json``; returns ``out``.

    ``on_event(kind, details)`` is told ``'data'`` (the run.json record, once the data are split),
    ``'resume'`` (``found``, ``total``), ``'start'`` (``todo``: units to train) and ``'unit'``
    (``message``: one per finished unit), so the caller can show progress; nothing here prints.
    ``backend``: local processes (default) or Ray tasks (:mod:`gait2hip.backends`); where units
    run, not what comes out.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings.runtime.apply()
    splits = prepare_data(settings, shared=shared)
    joint_possible = all(c in splits.dataset.target_columns for c in MUSCLE_GROUPS_R + MOMENTS_R)
    units = plan_units(
        settings,
        joint_possible=joint_possible,
        mirror_possible=left_targets_available(splits.dataset),
        subject_inputs_possible=subject_inputs_available(splits.dataset),
    )
    run_record = check_run_file(out, settings, splits, units)
    on_event("data", run_record)
    with heartbeat(out, run_record):
        done = sum((out / "units" / u.key / "info.json").exists() for u in units)
        if done:
            on_event("resume", {"found": done, "total": len(units)})
        on_event("start", {"todo": len(units) - done})
        results, trained = run_units(
            out,
            units,
            splits,
            settings,
            progress=progress,
            on_done=lambda message: on_event("unit", {"message": message}),
            backend=backend,
        )
    score_run(out, units, results, splits, settings)
    run_for_benchmark(
        out,
        dataset=splits.dataset,
        trials=splits.real,
        budget=settings.budget,
        runtime=settings.runtime,
        progress=progress,
        on_done=lambda message: on_event("crosslab", {"message": message}),
    )
    timing = {
        "wall_seconds_this_call": time.perf_counter() - started,
        "cpu_seconds_this_call": time.process_time() - cpu_started,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "training_seconds_all_units": sum(results[u.key][0].get("seconds", 0.0) for u in units),
        "training_cpu_seconds_all_units": sum(results[u.key][0].get("cpu_seconds", 0.0) for u in units),
        "workers": settings.runtime.workers,
        "backend": (backend.name if backend else "local")
        + (f" ({backend.address})" if backend and backend.address else ""),
        "full_profile_estimate_s": estimate_full_seconds(
            units,
            results,
            pool_cycles=len(splits.pool),
            settings=settings,
            mirror_factor=2.0 if joint_possible or any(u.recipe.mirror for u in units) else 1.0,
        ),
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPU(s) · {settings.runtime.workers} training process(es) × "
        f"{settings.runtime.threads} torch thread(s)",
    }
    finish_call(out, run_record, wall=timing["wall_seconds_this_call"], trained=trained, timing=timing)
    return out


def estimate_full_seconds(
    units: list[Unit],
    results: dict,
    *,
    pool_cycles: int,
    settings: BenchmarkSettings,
    mirror_factor: float = 2.0,
) -> dict[str, float]:
    """Extrapolate the measured training speed of this run to ``--profile full`` on the same data.

    Speed = CPU seconds per (training cycle × epoch) of one single-threaded training process
    (independent of how loaded the machine was), per protocol and architecture (the
    gait2hip recipe's bidirectional models cost more per cycle than the paper's). Work in full:
    paper = per (model, target, seed) 5 folds × ``FULL_FOLD_EPOCHS`` on 80 % of the pool +
    ``FULL_FINAL_EPOCHS`` on the pool; gait2hip = per (model, seed) the fixed budget on the pool
    plus its mirror (×2); ablation = one gait2hip model per flag (two without joint targets).
    """
    full = BUDGETS["full"]
    speed: dict[tuple[str, str], float] = {}
    for unit in units:
        info = results[unit.key][0]
        if info.get("cycle_epochs"):
            kind = "paper" if unit.protocol == "paper" else "gait2hip"
            spent = info.get("cpu_seconds") or info["seconds"]
            speed.setdefault((kind, unit.architecture), spent / info["cycle_epochs"])
    seconds = {"paper": 0.0, "gait2hip": 0.0, "ablation": 0.0}
    n_targets = len(settings.targets)
    for architecture in settings.models:
        if ("paper", architecture) in speed and "paper" in settings.protocols:
            work = full.folds * FULL_FOLD_EPOCHS * 0.8 * pool_cycles + FULL_FINAL_EPOCHS * pool_cycles
            seconds["paper"] += speed[("paper", architecture)] * work * n_targets * full.paper_seeds
        if ("gait2hip", architecture) in speed and "gait2hip" in settings.protocols:
            work = full.fixed_epochs * pool_cycles * mirror_factor
            seconds["gait2hip"] += speed[("gait2hip", architecture)] * work * full.seeds
            if architecture in full.ablation_models:
                runs = len(full.ablation_flags) + 1  # joint_targets off trains two models
                seconds["ablation"] += speed[("gait2hip", architecture)] * work * runs
    seconds["total"] = sum(seconds.values())
    seconds["idle_wall_with_workers"] = seconds["total"] / max(1, settings.runtime.workers)
    return seconds
