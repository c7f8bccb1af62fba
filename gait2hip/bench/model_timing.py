"""Model timing: throughput and latency of the bare networks on this machine (PyTorch eager, CPU or GPU).

``gait2hip bench models`` prints the table of every registered architecture at the paper's sizes;
``gait2hip bench speed`` (:mod:`gait2hip.bench.speed`) adds ONNX Runtime and OpenSim.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from gait2hip.bench.timing import repeat_times
from gait2hip.models.registry import available_models, build_model


@dataclass(frozen=True)
class SpeedResult:
    """Timings of one model: throughput at ``batch`` and single-cycle latency (both at ``seq_len``)."""

    architecture: str
    seq_len: int
    batch: int
    threads: int
    cycles_per_s: float
    ms_per_cycle: float
    latency_p50_ms: float
    latency_p95_ms: float
    cpu_ms_per_cycle: float
    latency_cpu_p50_ms: float


@torch.inference_mode()
def measure_speed(
    model: nn.Module,
    *,
    seq_len: int,
    batch: int = 256,
    threads: int | None = 2,
    repeats: int = 5,
    latency_repeats: int = 100,
    seed: int = 0,
) -> SpeedResult:
    """Time ``model`` in eval mode on random ``[batch, seq_len, d_in]`` inputs.

    Throughput uses the *fastest* of ``repeats`` batches (other processes only ever slow a run down);
    latency is the distribution over ``latency_repeats`` single-cycle calls (p50, p95). The CPU-time
    figures (process CPU seconds, all threads) are what the same work costs on an idle machine when
    ``threads=1``; on a shared machine they are the fairer number, wall time the honest one.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    d_in = model.config.d_in
    big = torch.randn(batch, seq_len, d_in, generator=generator).to(device)
    one = torch.randn(1, seq_len, d_in, generator=generator).to(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    # exactly `repeats` timed calls after one warm-up (no time budget)
    batch_times, batch_cpu = repeat_times(
        lambda: (model(big), sync()), min_repeats=repeats, max_seconds=0, warmup=1
    )
    single_times, single_cpu = repeat_times(
        lambda: (model(one), sync()), min_repeats=latency_repeats, max_seconds=0, warmup=1
    )
    single_times.sort()
    best = min(batch_times)
    p95 = single_times[min(len(single_times) - 1, round(0.95 * (len(single_times) - 1)))]
    return SpeedResult(
        architecture=getattr(model, "architecture", type(model).__name__),
        seq_len=seq_len,
        batch=batch,
        threads=torch.get_num_threads(),
        cycles_per_s=batch / best,
        ms_per_cycle=1e3 * best / batch,
        latency_p50_ms=1e3 * statistics.median(single_times),
        latency_p95_ms=1e3 * p95,
        cpu_ms_per_cycle=1e3 * min(batch_cpu) / batch,
        latency_cpu_p50_ms=1e3 * statistics.median(single_cpu),
    )


def time_architectures(
    names: list[str] | None = None, *, threads: int = 2, seq_lens: tuple[int, ...] = (101, 180)
) -> Iterator[tuple[str, int, SpeedResult]]:
    """Time every architecture (paper sizes) at each cycle length, one result at a time.

    ``NAME:mambapy`` times a Mamba with mambapy's parallel scan instead of ours.
    """
    from gait2hip.models.selective_scan import use_scan_backend

    torch.manual_seed(0)
    for seq_len in seq_lens:
        for name in names or available_models():
            architecture, _, backend = name.partition(":")
            model = build_model(architecture, d_in=10, d_out=14, seq_len=seq_len)
            with use_scan_backend(backend) if backend else contextlib.nullcontext():
                yield (
                    name,
                    seq_len,
                    measure_speed(model, seq_len=seq_len, threads=threads, repeats=2 if backend else 5),
                )
