"""`gait2hip bench` printing: the speed table and the OpenSim reference lines."""

from __future__ import annotations

import io

from rich.console import Console

from gait2hip.commands.bench import print_speed_results


def _results() -> dict:
    row = {
        "model": "lstm",
        "runtime": "onnxruntime",
        "seq_len": 101,
        "n_parameters": 12345,
        "flops_per_cycle": 2e6,
        "latency_p50_ms": 1.5,
        "latency_p95_ms": 2.0,
        "throughput_cycles_s": 4000.0,
        "achieved_gflops": 8.0,
        "cpu_ms_per_cycle_batch": 0.5,
        "speedup_latency": 6667.0,
        "speedup_throughput": 40000.0,
        "speedup_cpu": 16000.0,
    }
    return {
        "threads": 1,
        "torch": "x",
        "cpu": "test cpu",
        "cpu_count": 2,
        "matmul_gflops": 50.0,
        "load_average_1min": 0.0,
        "rows": [row],
        "opensim": {
            "trial": "test",
            "frames": 75,
            "inverse_dynamics_s": 0.5,
            "static_optimization_s": 9.5,
            "cpu_s": 8.0,
            "per_cycle_s": 10.0,
        },
        "opensim_note": "",
        "pipeline": None,
    }


def test_speed_table_prints_the_opensim_reference_and_runtimes():
    buffer = io.StringIO()
    print_speed_results(_results(), console=Console(file=buffer, width=250))
    text = buffer.getvalue()
    assert "10.00 s per cycle" in text and "ONNX RT" in text and "CPU time 8.00 s" in text
    assert "6,667" in text and "40,000" in text
