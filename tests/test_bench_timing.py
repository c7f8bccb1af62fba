"""Measurement helpers of the speed benchmarks (gait2hip.bench.timing): repeats and FLOP counts."""

from __future__ import annotations

import torch

from gait2hip.bench.timing import flops_per_cycle, repeat_times
from gait2hip.models import build_model

torch.set_num_threads(1)


def test_repeat_times_without_a_time_budget_runs_warmups_plus_the_minimum():
    calls = []
    walls, cpus = repeat_times(lambda: calls.append(1), min_repeats=4, max_seconds=0.0, warmup=3)
    assert len(calls) == 7  # 3 warm-ups (not timed) + 4 timed calls
    assert len(walls) == len(cpus) == 4
    assert all(w >= 0 for w in walls) and all(c >= 0 for c in cpus)


def test_lstm_flops_are_exact():
    model = build_model("lstm", d_in=10, d_out=3, seq_len=7, hidden_size=4, num_layers=2)
    expected = 2 * 4 * 4 * (10 + 4) * 7 + 2 * 4 * 4 * (4 + 4) * 7 + 2 * 4 * 3 * 7  # 2 layers + head
    assert flops_per_cycle(model, seq_len=7, d_in=10) == expected
