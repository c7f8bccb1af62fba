"""Measure what docs/scale-out.md quotes: per-unit cost and the overhead of Ray vs the local pool.

Run from the repository root, with the shared inputs and the distributed extra installed::

    GAIT2HIP_SHARED=../shared nice .venv/bin/python scripts/measure_backends.py [--skip subject,train]

Parts (each printed as it finishes, as one JSON line):

* ``startup``: starting a local Ray instance (2 CPUs, no dashboard) vs a 2-process spawn pool;
* ``noop``: 200 empty units through each executor (per-unit dispatch overhead);
* ``label``: a 4-trial manifest (the gait2392 example, one gait cycle each, ID + fast SO) labelled
  with ``local --jobs 1``, ``local --jobs 2`` and ``ray --jobs 2`` (Ray start-up included), each
  into a fresh folder, plus the peak memory of one labelling process;
* ``subject``: one healthy virtual subject (3 cadences × 4 cycles, default solver), in its own
  process (peak memory);
* ``train``: one training unit per architecture (gait2hip recipe, joint targets, quick budget,
  default data, 1 torch thread), local and on Ray;
* ``memory``: peak memory of a process that loads the default data and trains one paper-protocol
  unit (quick budget, forces) of each architecture in ``--memory-models`` (default transformer).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pandas as pd

from gait2hip.backends import Backend, open_executor
from gait2hip.paths import shared_dir

RAY = Backend("ray")


def _noop(item: int) -> int:
    return item


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _emit(part: str, **figures) -> None:
    print(json.dumps({"part": part, "load_average": os.getloadavg(), **figures}), flush=True)


def startup_and_noop(n: int = 200) -> None:
    import ray

    started = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_noop, [0, 1]))
    pool_start = time.perf_counter() - started
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray_start = time.perf_counter() - started
    _emit("startup", local_pool_s=round(pool_start, 2), ray_init_s=round(ray_start, 2))
    figures = {}
    for name, backend in (("local", None), ("ray", RAY)):
        with open_executor(backend, workers=2) as executor:
            list(executor.map_unordered(_noop, list(range(4))))  # warm the workers
            started = time.perf_counter()
            list(executor.map_unordered(_noop, list(range(n))))
            figures[f"{name}_ms_per_unit"] = round((time.perf_counter() - started) / n * 1000, 2)
    _emit("noop", units=n, **figures)


def _manifest(shared: Path, folder: Path) -> Path:
    example = shared / "opensim-examples" / "gait2392-subject01"
    table = pd.DataFrame(
        {
            "model": [str(example / "subject01_simbody.osim")] * 4,
            "ik": [str(example / "subject01_walk1_ik.mot")] * 4,
            "grf": [str(example / "subject01_walk1_grf.mot")] * 4,
            "loads": [str(example / "subject01_walk1_grf.xml")] * 4,
            "mass_kg": [72.6] * 4,
            "trial": ["r1", "l1", "r2", "l2"],
            "start": [0.5, 1.2, 0.5, 1.2],
            "end": [1.9, 2.5, 1.9, 2.5],
        }
    )
    path = folder / "trials.csv"
    table.to_csv(path, index=False)
    return path


def _label_one_process(manifest: str, out: str) -> tuple[float, float]:
    from gait2hip.sim.batch import label_manifest
    from gait2hip.sim.label import LabelConfig

    started = time.perf_counter()
    label_manifest(manifest=manifest, out=out, jobs=1, config=LabelConfig(solver="fast"))
    return time.perf_counter() - started, _peak_mb()


def label(shared: Path, folder: Path) -> None:
    import ray

    from gait2hip.sim.batch import label_manifest
    from gait2hip.sim.label import LabelConfig

    manifest = _manifest(shared, folder)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:  # a fresh process: its own peak memory
        serial, peak = pool.submit(_label_one_process, str(manifest), str(folder / "serial")).result()
    figures = {"local_jobs1_s": round(serial, 1), "s_per_cycle_serial": round(serial / 4, 2)}
    figures["peak_mb_one_process"] = round(peak)
    ray.shutdown()  # ray --jobs 2 below starts (and stops) its own instance: start-up included
    for name, backend in (("local_jobs2_s", None), ("ray_jobs2_s", RAY)):
        out = folder / name
        started = time.perf_counter()
        label_manifest(manifest=manifest, out=out, jobs=2, config=LabelConfig(solver="fast"), backend=backend)
        figures[name] = round(time.perf_counter() - started, 1)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    started = time.perf_counter()
    label_manifest(
        manifest=manifest, out=folder / "ray_warm", jobs=2, config=LabelConfig(solver="fast"), backend=RAY
    )
    figures["ray_jobs2_warm_s"] = round(time.perf_counter() - started, 1)
    _emit("label", cycles=4, **figures)


def _subject(shared: str, folder: str) -> tuple[float, float, int]:
    from gait2hip.sim.cohort import simulate_cohort

    started = time.perf_counter()
    data = simulate_cohort(out=Path(folder) / "one.npz", n_subjects=1, n_patients=0, jobs=1, shared=shared)
    return time.perf_counter() - started, _peak_mb(), len(data)


def subject(shared: Path, folder: Path) -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        seconds, peak, cycles = pool.submit(_subject, str(shared), str(folder)).result()
    _emit("subject", seconds=round(seconds, 1), cycles=cycles, peak_mb_one_process=round(peak))


def train(folder: Path) -> None:
    from gait2hip.bench.benchmark import run_benchmark
    from gait2hip.bench.settings import BenchmarkSettings
    from gait2hip.train.protocols import BUDGETS, Runtime

    budget = replace(BUDGETS["quick"], ablation_models=())
    for architecture in ("lstm", "transformer", "mamba"):
        settings = BenchmarkSettings(
            data="default",
            targets=("forces", "moments"),
            models=(architecture,),
            protocols=("gait2hip",),
            budget=budget,
            seeds=1,
            paper_seeds=1,
            runtime=Runtime(threads=1, workers=1),
        )
        figures = {}
        for name, backend in (("local", None), ("ray", RAY)):
            out = folder / f"train-{architecture}-{name}"
            started = time.perf_counter()
            run_benchmark(out=out, settings=settings, shared=None, backend=backend)
            figures[f"{name}_call_s"] = round(time.perf_counter() - started, 1)
            (info,) = [json.loads(p.read_text()) for p in (out / "units").glob("*/info.json")]
            figures[f"{name}_unit_s"] = round(info["seconds"], 1)
            figures[f"{name}_unit_cpu_s"] = round(info.get("cpu_seconds", float("nan")), 1)
        _emit("train", unit=f"gait2hip {architecture} joint, quick", **figures)


def _unit_memory(architecture: str) -> tuple[float, float]:
    from gait2hip.bench.benchmark import run_benchmark
    from gait2hip.bench.settings import BenchmarkSettings
    from gait2hip.train.protocols import BUDGETS, Runtime

    settings = BenchmarkSettings(
        data="default",
        targets=("forces",),
        models=(architecture,),
        protocols=("paper",),
        budget=replace(BUDGETS["quick"], ablation_models=()),
        seeds=1,
        paper_seeds=1,
        runtime=Runtime(threads=1, workers=1),
    )
    started = time.perf_counter()
    run_benchmark(out=Path(tempfile.mkdtemp(prefix="gait2hip-memory-")), settings=settings, shared=None)
    return time.perf_counter() - started, _peak_mb()


def memory(architectures: list[str]) -> None:
    for architecture in architectures:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            seconds, peak = pool.submit(_unit_memory, architecture).result()
        _emit(
            "memory",
            unit=f"paper {architecture} forces, quick",
            wall_s=round(seconds, 1),
            peak_mb=round(peak),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip", default="", help="comma-separated parts to skip")
    parser.add_argument("--memory-models", default="transformer", help="architectures of the memory part")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    shared = shared_dir(required=True)
    folder = Path(tempfile.mkdtemp(prefix="gait2hip-backends-"))
    try:
        if "noop" not in skip:
            startup_and_noop()
        if "label" not in skip:
            label(shared, folder)
        if "subject" not in skip:
            subject(shared, folder)
        if "train" not in skip:
            train(folder)
        if "memory" not in skip:
            memory(args.memory_models.split(","))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
