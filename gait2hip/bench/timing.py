"""Measurement helpers of the speed benchmarks: repeated wall and CPU timings (latency
percentiles, throughput), this machine's matmul rate, and matrix-product FLOPs per cycle."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn


def repeat_times(
    call: Callable[[], Any], *, min_repeats: int, max_seconds: float, warmup: int
) -> tuple[list[float], list[float]]:
    """Wall and process-CPU seconds of repeated calls (CPU time sums every thread of the process)."""
    for _ in range(warmup):
        call()
    walls: list[float] = []
    cpus: list[float] = []
    started = time.perf_counter()
    while len(walls) < min_repeats or (time.perf_counter() - started < max_seconds and len(walls) < 10_000):
        c0, t0 = time.process_time(), time.perf_counter()
        call()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        if len(walls) >= min_repeats and time.perf_counter() - started > 4 * max_seconds:
            break
    return walls, cpus


def latency_ms(call: Callable[[], Any], *, max_seconds: float = 2.0) -> tuple[float, float, float]:
    """p50 and p95 of one call's wall time and its median CPU time, ms (≥ 50 calls after 10 warm-ups)."""
    walls, cpus = repeat_times(call, min_repeats=50, max_seconds=max_seconds, warmup=10)
    wall = np.array(walls) * 1e3
    return float(np.percentile(wall, 50)), float(np.percentile(wall, 95)), float(np.median(cpus) * 1e3)


def throughput(call: Callable[[], Any], batch: int, *, max_seconds: float = 3.0) -> tuple[float, float]:
    """Cycles per second (``batch`` over the median wall time) and CPU seconds per cycle."""
    walls, cpus = repeat_times(call, min_repeats=3, max_seconds=max_seconds, warmup=1)
    return batch / statistics.median(walls), statistics.median(cpus) / batch


def matmul_gflops(*, n: int = 1024, seconds: float = 1.0) -> float:
    """This machine's float32 matmul rate with the current torch threads, GFLOP/s (best of runs)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    walls, _ = repeat_times(lambda: torch.mm(a, b, out=out), min_repeats=5, max_seconds=seconds, warmup=2)
    return 2.0 * n**3 / min(walls) / 1e9


def _recurrent_flops(model: nn.Module, seq_len: int) -> float:
    """Matrix-product FLOPs of ``nn.LSTM`` / ``nn.GRU`` layers, which FlopCounterMode does not see.

    Per layer, direction and step: 2 · gates · hidden · (input + hidden) multiply-adds.
    """
    total = 0.0
    for module in model.modules():
        if isinstance(module, nn.LSTM | nn.GRU):
            gates = 4 if isinstance(module, nn.LSTM) else 3
            directions = 2 if module.bidirectional else 1
            hidden = module.hidden_size
            for layer in range(module.num_layers):
                width = module.input_size if layer == 0 else hidden * directions
                total += 2.0 * gates * hidden * (width + hidden) * directions * seq_len
    return total


def flops_per_cycle(model: nn.Module, *, seq_len: int, d_in: int) -> float:
    """Matrix-product FLOPs of one cycle's forward pass.

    ``torch.utils.flop_counter.FlopCounterMode`` counts linear layers, attention and
    convolutions (run with autograd on so PyTorch's fused inference kernels, which it cannot
    see, stay off); recurrent layers are added analytically (:func:`_recurrent_flops`).
    Element-wise work (activations, norms, Mamba's selective scan) is not counted.
    """
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.enable_grad():
        model(torch.zeros(1, seq_len, d_in))
    return float(counter.get_total_flops()) + _recurrent_flops(model, seq_len)
