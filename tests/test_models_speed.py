"""Speed helper: measures a model without changing it (figures themselves are printed, never asserted)."""

from __future__ import annotations

import torch

from gait2hip.models import build_model
from gait2hip.models.speed import measure_speed


def test_measure_speed_reports_consistent_figures():
    threads = torch.get_num_threads()
    model = build_model("tcn", d_in=10, d_out=3, channels=8, n_blocks=2)
    result = measure_speed(model, seq_len=101, batch=4, threads=1, repeats=2, latency_repeats=3)
    torch.set_num_threads(threads)
    assert result.architecture == "tcn" and result.batch == 4 and result.threads == 1
    assert result.cycles_per_s > 0 and abs(result.ms_per_cycle * result.cycles_per_s - 1e3) < 1e-6
    assert 0 < result.latency_p50_ms <= result.latency_p95_ms
    assert not model.training  # measured in eval mode
