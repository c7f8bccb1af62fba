"""`gait2hip bench speed` machinery: real measurements on tiny settings (no timing assertions)."""

from __future__ import annotations

import math

import pytest
import torch

from gait2hip.bench.speed import (
    OpenSimTiming,
    SpeedRow,
    _EndToEnd,
    add_speedups,
    flops_per_cycle,
    run_speed_bench,
)
from gait2hip.errors import Gait2HipInputError
from gait2hip.models import build_model

torch.set_num_threads(1)

#: A made-up OpenSim timing: 0.5 s ID + 9.5 s SO = 10 s per cycle, 8 s of CPU.
FAKE_OPENSIM = OpenSimTiming(
    model="fake.osim",
    trial="fake trial",
    window_s=(0.0, 1.0),
    frames=75,
    inverse_dynamics_s=0.5,
    static_optimization_s=9.5,
    cpu_s=8.0,
)


def test_flops_count_matrix_products_of_every_architecture():
    for name in ("lstm", "transformer", "mamba"):
        model = build_model(name, d_in=10, d_out=14, seq_len=101).eval()
        params = sum(p.numel() for p in model.parameters())
        flops = flops_per_cycle(_EndToEnd(model, 10, 14), seq_len=101, d_in=10)
        # every weight is used once per time step in a multiply-add: ≈ 2 · params · T
        assert 0.85 * 2 * params * 101 < flops < 1.15 * 2 * params * 101, (name, flops, params)


def test_speedups_against_an_opensim_timing():
    # A model at 2 ms per single cycle, 5000 cycles/s in batches, 0.4 CPU-ms per cycle:
    # 10 s / 2 ms = 5000x; 10 s x 5000 /s = 50 000x; 8 s / 0.4 ms = 20 000x.
    row = SpeedRow(
        model="m",
        runtime="pytorch",
        seq_len=101,
        n_parameters=1,
        flops_per_cycle=1.0,
        latency_p50_ms=2.0,
        latency_p95_ms=3.0,
        throughput_cycles_s=5000.0,
        achieved_gflops=1.0,
        cpu_ms_per_cycle_batch=0.4,
    )
    add_speedups([row], FAKE_OPENSIM)
    assert row.speedup_latency == pytest.approx(5000.0)
    assert row.speedup_throughput == pytest.approx(50_000.0)
    assert row.speedup_cpu == pytest.approx(20_000.0)


def test_bench_times_both_runtimes_against_the_injected_opensim_timer():
    timed = []

    def fake_timer() -> OpenSimTiming:
        timed.append(1)
        return FAKE_OPENSIM

    results = run_speed_bench(
        models=["lstm"], threads=1, seq_lens=[16], max_seconds=0.02, opensim_timer=fake_timer
    )
    assert timed == [1]  # OpenSim timed once for every row
    rows = results["rows"]
    assert [r["runtime"] for r in rows] == ["pytorch", "onnxruntime"]
    for row in rows:
        assert 0 < row["latency_p50_ms"] <= row["latency_p95_ms"]
        assert row["throughput_cycles_s"] > 0 and row["flops_per_cycle"] > 0
        # a tiny LSTM answers in well under 10 s: every speed-up is a finite number above 1
        assert all(math.isfinite(row[k]) and row[k] > 1 for k in ("speedup_latency", "speedup_throughput"))
    assert results["matmul_gflops"] > 0
    assert results["opensim"]["per_cycle_s"] == 10.0 and results["opensim"]["frames"] == 75


def test_without_opensim_there_is_no_speedup():
    results = run_speed_bench(
        models=["lstm"], threads=1, seq_lens=[16], measure_opensim=False, max_seconds=0.02
    )
    assert results["opensim"] is None
    assert all(math.isnan(r["speedup_latency"]) for r in results["rows"])


def test_unknown_model_is_refused():
    with pytest.raises(Gait2HipInputError, match="unknown model"):
        run_speed_bench(models=["gru9"], measure_opensim=False)
