"""Throughput and latency of the models on this machine (PyTorch eager, CPU or GPU).

Run ``python -m gait2hip.models.speed`` for the table of every registered architecture at the paper's
sizes; ``gait2hip bench speed`` (in :mod:`gait2hip.evaluate`) adds ONNX Runtime and OpenSim.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

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


def _timings(run, *, repeats: int, min_seconds: float) -> list[float]:
    run()  # warm-up: allocator, thread pool, oneDNN primitive caches
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - started < min_seconds:
        tick = time.perf_counter()
        run()
        times.append(time.perf_counter() - tick)
    return times


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
    latency is the distribution over ``latency_repeats`` single-cycle calls (p50, p95).
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

    batch_times = _timings(lambda: (model(big), sync()), repeats=repeats, min_seconds=0.0)
    single_times = sorted(_timings(lambda: (model(one), sync()), repeats=latency_repeats, min_seconds=0.0))
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
    )


def main() -> None:
    """Print the speed of every registered architecture at T = 101 and T = 180 (paper sizes)."""
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} -> 2 threads")
    print("model        T  batch  cycles/s  ms/cycle  latency p50 ms  p95 ms")
    for seq_len in (101, 180):
        for name in available_models():
            model = build_model(name, d_in=10, d_out=14, seq_len=seq_len)
            r = measure_speed(model, seq_len=seq_len)
            print(
                f"{name:11s} {seq_len:3d} {r.batch:6d} {r.cycles_per_s:9.0f} {r.ms_per_cycle:9.3f}"
                f" {r.latency_p50_ms:15.2f} {r.latency_p95_ms:7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
