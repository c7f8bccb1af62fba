"""`gait2hip bench speed` machinery: real measurements on tiny settings (no timing assertions)."""

from __future__ import annotations

import io

import pytest
import torch
from rich.console import Console

from gait2hip.evaluate.speed import (
    _EndToEnd,
    flops_per_cycle,
    print_speed_results,
    run_speed_bench,
)
from gait2hip.models import build_model

torch.set_num_threads(1)


def test_flops_count_matrix_products_of_every_architecture():
    for name in ("lstm", "transformer", "mamba"):
        model = build_model(name, d_in=10, d_out=14, seq_len=101).eval()
        params = sum(p.numel() for p in model.parameters())
        flops = flops_per_cycle(_EndToEnd(model, 10, 14), seq_len=101, d_in=10)
        # every weight is used once per time step in a multiply-add: ≈ 2 · params · T
        assert 0.85 * 2 * params * 101 < flops < 1.15 * 2 * params * 101, (name, flops, params)


def test_lstm_flops_are_exact():
    model = build_model("lstm", d_in=10, d_out=3, seq_len=7, hidden_size=4, num_layers=2)
    expected = 2 * 4 * 4 * (10 + 4) * 7 + 2 * 4 * 4 * (4 + 4) * 7 + 2 * 4 * 3 * 7  # 2 layers + head
    assert flops_per_cycle(model, seq_len=7, d_in=10) == expected


def test_bench_runs_both_runtimes_and_reports_speedup():
    results = run_speed_bench(
        models=["lstm"], threads=1, seq_lens=[16], measure_opensim=False, max_seconds=0.02
    )
    rows = results["rows"]
    assert [r["runtime"] for r in rows] == ["pytorch", "onnxruntime"]
    for row in rows:
        assert 0 < row["latency_p50_ms"] <= row["latency_p95_ms"]
        assert row["throughput_cycles_s"] > 0 and row["flops_per_cycle"] > 0
    assert results["matmul_gflops"] > 0 and results["opensim"] is None
    # the ratio as printed: OpenSim seconds per cycle over the model's
    results["opensim"] = {
        "trial": "test",
        "frames": 75,
        "inverse_dynamics_s": 0.5,
        "static_optimization_s": 9.5,
        "cpu_s": 8.0,
        "per_cycle_s": 10.0,
    }
    for row in rows:
        row["speedup_latency"] = 10.0 / (row["latency_p50_ms"] / 1e3)
        row["speedup_throughput"] = 10.0 * row["throughput_cycles_s"]
    buffer = io.StringIO()
    print_speed_results(results, console=Console(file=buffer, width=250))
    text = buffer.getvalue()
    assert (
        "10.00 s per cycle" in text and "matmul" in text and "ONNX RT" in text and "CPU time 8.00 s" in text
    )


def test_unknown_model_is_refused():
    from gait2hip.errors import Gait2HipInputError

    with pytest.raises(Gait2HipInputError, match="unknown model"):
        run_speed_bench(models=["gru9"], measure_opensim=False)
