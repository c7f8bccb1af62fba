"""``gait2hip bench speed | label | models``: run the experiments of :mod:`gait2hip.bench` and print them."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gait2hip.errors import Gait2HipInputError


def bench_speed_command(
    *,
    models: Sequence[str],
    opensim_model: Path | None = None,
    threads: int = 2,
    shared: Path | None = None,
    console: Console,
    out: Path | None = None,
) -> dict[str, Any]:
    """Measure and print prediction speed vs OpenSim ID + SO (``gait2hip bench speed``).

    Parameters
    ----------
    models
        Architectures, paper-sized (checked by the caller).
    opensim_model
        OpenSim model for the reference timing (default: the gait2392 example's scaled model
        with its own trial; a Rajagopal-family model uses the Moco example's trial).
    threads
        CPU threads for PyTorch and ONNX Runtime (OpenSim is single-threaded).
    shared
        Shared-inputs folder (resolved by the caller).
    console
        Where to print.
    out
        Also write the results as JSON here.
    """
    from gait2hip.bench.speed import run_speed_bench

    if threads < 1:
        raise Gait2HipInputError(
            f"--threads must be ≥ 1 (got {threads}).", column="--threads", fix="pass 1 or more."
        )
    with console.status("measuring") as status:
        results = run_speed_bench(
            models=list(models),
            threads=threads,
            opensim_model=opensim_model,
            shared=shared,
            progress=lambda text: status.update(f"measuring: {text}"),
        )
    print_speed_results(results, console=console)
    if out is not None:
        Path(out).write_text(json.dumps(results, indent=2))
    return results


def bench_models_command(*, models: Sequence[str], threads: int, console: Console) -> None:
    """Print the bare networks' throughput and latency at T = 101 and 180 (``gait2hip bench models``)."""
    import torch

    from gait2hip.bench.model_timing import time_architectures

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"torch {torch.__version__}, {threads} thread(s), load average {load:.1f}", highlight=False)
    console.print("model            T  batch  cycles/s  ms/cycle  cpu-ms/cycle  latency p50 p95 cpu-p50 (ms)")
    for name, seq_len, r in time_architectures(list(models) or None, threads=threads):
        console.print(
            f"{name:15s} {seq_len:3d} {r.batch:6d} {r.cycles_per_s:9.0f} {r.ms_per_cycle:9.3f}"
            f" {r.cpu_ms_per_cycle:13.3f} {r.latency_p50_ms:12.2f} {r.latency_p95_ms:6.2f}"
            f" {r.latency_cpu_p50_ms:7.2f}",
            highlight=False,
        )


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g}"


def print_speed_results(results: dict[str, Any], *, console: Any) -> None:
    """The results of :func:`~gait2hip.bench.speed.run_speed_bench` as rich tables."""
    from gait2hip.bench.speed import TARGET_LATENCY_MS, TARGET_SPEEDUP

    opensim = results["opensim"]
    table = Table(
        title=(
            f"gait2hip bench speed — {results['cpu']}, {results['threads']} thread(s), "
            f"torch {results['torch']}; matmul {results['matmul_gflops']:.1f} GFLOP/s"
        ),
        title_justify="left",
    )
    columns = (
        ("model, params", "left"),
        ("runtime", "left"),
        ("T", "right"),
        ("MFLOP/cycle*", "right"),
        ("latency ms p50/p95", "right"),
        ("cycles/s @256", "right"),
        ("GFLOP/s (% matmul)", "right"),
        ("CPU ms/cycle @256", "right"),
        ("× OpenSim 1 cycle/@256/CPU", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    runtime_names = {"pytorch": "PyTorch", "onnxruntime": "ONNX RT"}
    for row in results["rows"]:
        latency_ok = row["latency_p50_ms"] <= TARGET_LATENCY_MS
        speed = "-"
        if opensim is not None:
            ok = min(row["speedup_latency"], row["speedup_throughput"]) >= TARGET_SPEEDUP
            colour = "green" if ok else "yellow"
            speed = (
                f"[{colour}]{row['speedup_latency']:,.0f} / {row['speedup_throughput']:,.0f}[/] / "
                f"{row.get('speedup_cpu', float('nan')):,.0f}"
            )
        table.add_row(
            f"{row['model']} {_si(row['n_parameters']).replace(' ', '')}",
            runtime_names.get(row["runtime"], row["runtime"]),
            str(row["seq_len"]),
            f"{row['flops_per_cycle'] / 1e6:.1f}",
            f"[{'green' if latency_ok else 'yellow'}]{row['latency_p50_ms']:.2f}[/]/"
            f"{row['latency_p95_ms']:.2f}",
            f"{row['throughput_cycles_s']:,.0f}",
            f"{row['achieved_gflops']:.1f} ({100 * row['achieved_gflops'] / results['matmul_gflops']:.0f}%)",
            f"{row.get('cpu_ms_per_cycle_batch', float('nan')):.3f}",
            speed,
        )
    width = console.width
    if not console.is_terminal:  # a log file: no reason to squeeze the table into 80 columns
        console.width = max(width, 140)
    try:
        console.print(table)
    finally:
        console.width = width
    _print_speed_notes(results, console=console)


def _print_speed_notes(results: dict[str, Any], *, console: Console) -> None:
    """Load warning, footnote, whole-pipeline latency and the OpenSim reference under the table."""
    from gait2hip.bench.speed import TARGET_LATENCY_MS, TARGET_SPEEDUP

    opensim = results["opensim"]
    load = results.get("load_average_1min", float("nan"))
    if load == load and load > max(1.0, 0.25 * (results.get("cpu_count") or 1)):
        console.print(
            f"[yellow]note:[/] the machine was busy before the run (1-min load average {load:.1f} on "
            f"{results.get('cpu_count')} cores): other processes shared the CPU, so these times are "
            "pessimistic; rerun on an idle machine for clean figures.",
            highlight=False,
        )
    console.print(
        "* matrix-product FLOPs (torch.utils.flop_counter; LSTM layers analytically); element-wise work, "
        "e.g. Mamba's selective scan, is not counted. Latency: one cycle of raw angles → outputs, "
        "batch 1, one thread. "
        "CPU ms/cycle: process CPU time (all threads) per cycle at batch 256 — unlike wall time it does "
        "not grow when other processes share the cores; the last ratio divides OpenSim's CPU time by it. "
        f"Targets: latency ≤ {TARGET_LATENCY_MS:g} ms, speed-up ≥ {TARGET_SPEEDUP:,.0f}×.",
        style="dim",
        highlight=False,
    )
    pipeline = results.get("pipeline")
    if pipeline:
        ratio = ""
        if opensim is not None:
            ratio = (
                f"; {opensim['per_cycle_s'] / (pipeline['latency_p50_ms'] / 1e3):,.0f}× faster than OpenSim"
            )
        console.print(
            f"Whole pipeline (Predictor: checks, resampling, {' + '.join(pipeline['bundles'])}, OOD) on "
            f"{pipeline['trial']}: p50 {pipeline['latency_p50_ms']:.1f} ms, "
            f"p95 {pipeline['latency_p95_ms']:.1f} ms{ratio}.",
            highlight=False,
        )
    if opensim is not None:
        console.print(
            f"OpenSim reference, same machine, same run: {opensim['trial']} ({opensim['frames']} frames) — "
            f"inverse dynamics {opensim['inverse_dynamics_s']:.2f} s + static optimisation "
            f"{opensim['static_optimization_s']:.2f} s = [bold]{opensim['per_cycle_s']:.2f} s per cycle[/] "
            f"(CPU time {opensim.get('cpu_s', float('nan')):.2f} s).",
            highlight=False,
        )
        worst = min(results["rows"], key=lambda r: min(r["speedup_latency"], r["speedup_throughput"]))
        console.print(
            f"Slowest case: {worst['model']} / {worst['runtime']} / T={worst['seq_len']}: "
            f"{worst['speedup_latency']:,.0f}× (single cycle), "
            f"{worst['speedup_throughput']:,.0f}× (batch 256).",
            highlight=False,
        )
    else:
        console.print(f"[yellow]{results['opensim_note'] or 'OpenSim timing skipped.'}[/]", highlight=False)


def bench_label_command(*, shared: Path | None, jobs: int, console: Console, rajagopal: bool = False) -> dict:
    """Print labelling throughput (cycles/s), solver agreement and the SO-vs-CMC figures.

    With ``rajagopal``, also scale + IK the rajagopal-walk example and compare the solvers
    on its left cycle (a few more minutes: OpenSim's converged SO on 115 frames).
    """
    from gait2hip.bench.labelling import (
        CYCLE,
        compare_with_cmc,
        measure_throughput,
        rajagopal_solver_comparison,
        solver_agreement,
    )
    from gait2hip.paths import shared_dir

    if jobs < 1:
        raise Gait2HipInputError(
            f"--jobs must be ≥ 1 (got {jobs}).", column="--jobs", fix="pass --jobs 1 or more."
        )
    root = shared_dir(path=shared, required=True)
    assert root is not None
    console.print(
        f"gait2392 example, right gait cycle {CYCLE[0]}–{CYCLE[1]} s (75 frames, 92 muscles), "
        f"{os.cpu_count()} CPU core(s) seen, {jobs} process(es)."
    )
    with console.status("timing ID, OpenSim SO and fast SO…"):
        throughput = measure_throughput(shared=root, jobs=jobs)
    _print_throughput(throughput, jobs=jobs, console=console)
    with console.status("fast SO vs OpenSim SO (default and converged IPOPT)…"):
        agreement = solver_agreement(shared=root)
    console.print(
        "fast vs OpenSim SO, gait2392 hip muscles, max |difference| / peak force: "
        f"{100 * agreement['opensim_default_1e-4']:.2f} % vs OpenSim at its default tolerance (1e-4), "
        f"{100 * agreement['opensim_converged_1e-8']:.3f} % vs OpenSim converged (1e-8)."
    )
    results: dict = {}
    if rajagopal:
        with console.status(
            "rajagopal-walk: scale + IK, then fast vs converged OpenSim SO on the left cycle…"
        ):
            results["rajagopal"] = figures = rajagopal_solver_comparison(shared=root)
        console.print(
            f"rajagopal-walk left cycle ({figures['frames']} frames), fast vs converged OpenSim SO, hip "
            f"muscles: {100 * figures['max_error_optimal_frames']:.3f} % of peak on the frames where OpenSim "
            f"reached the optimum; {figures['frames_opensim_suboptimal']} frame(s) where OpenSim's Σa² is "
            "higher than ours (IPOPT short of the optimum) bring the all-frame maximum to "
            f"{100 * figures['max_error_all']:.2f} %. Ours is never the worse solution (largest Σa² excess "
            f"{figures['max_objective_excess_fast']:.1e})."
        )
    with console.status("SO vs reference CMC…"):
        cmc = compare_with_cmc(shared=root)
    _print_cmc(cmc, console=console)
    return {"throughput": throughput, "agreement": agreement, "cmc": cmc, **results}


def _print_throughput(throughput, *, jobs: int, console: Console) -> None:
    names = {
        "id": "inverse dynamics alone",
        "opensim_so": "OpenSim static optimisation",
        "fast_so_cold": "gait2hip fast SO, first call",
        "fast_so_warm": "gait2hip fast SO, model cached",
    }
    table = Table(title="Labelling throughput (gait cycles per second)")
    table.add_column("method")
    table.add_column("s / cycle (1 proc)", justify="right")
    table.add_column("cycles/s (1 proc)", justify="right")
    table.add_column("CPU s / cycle", justify="right")
    if jobs > 1:
        table.add_column(f"cycles/s ({jobs} procs)", justify="right")
    for method, row in throughput.iterrows():
        cells = [
            names[method],
            f"{row['s_per_cycle_1proc']:.2f}",
            f"{row['cycles_per_s_1proc']:.3f}",
            f"{row['cpu_s_per_cycle']:.2f}",
        ]
        if jobs > 1:
            cells.append(f"{row[f'cycles_per_s_{jobs}proc']:.3f}")
        table.add_row(*cells)
    console.print(table)
    cpu = throughput["cpu_s_per_cycle"]
    cores = os.cpu_count() or 1
    ratio = cpu["opensim_so"] / cpu["fast_so_warm"]
    fast, reference, full = (
        cores / cpu["fast_so_warm"],
        cores / cpu["opensim_so"],
        cores / (cpu["fast_so_warm"] + cpu["id"]),
    )
    console.print(
        f"fast SO (model cached) costs {ratio:.1f}× less CPU per cycle than OpenSim SO. On {cores} idle "
        f"core(s) that is ≈ {fast:.2f} cycles/s (fast SO) vs {reference:.3f} (OpenSim SO), ID not included "
        f"(ID + fast SO: ≈ {full:.2f} cycles/s). Wall-clock figures above depend on the machine's load."
    )


def _print_cmc(cmc, *, console: Console) -> None:
    table = Table(title="Right hip muscle groups, gait2392 example: our SO vs reference CMC (for the record)")
    for column in ("group", "RMSE (N)", "Pearson r", "peak SO (N)", "peak CMC (N)"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for group, row in cmc.iterrows():
        table.add_row(
            str(group), f"{row['rmse_N']:.1f}", f"{row['pearson_r']:.2f}", f"{row['peak_so_N']:.0f}",
            f"{row['peak_cmc_N']:.0f}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"median over groups: RMSE {cmc['rmse_N'].median():.1f} N, r {cmc['pearson_r'].median():.2f} "
        "(SO and CMC differ by method; see gait2hip.bench.labelling)."
    )
