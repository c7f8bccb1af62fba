"""Model timing: measures a model without changing it (figures themselves are printed, never asserted)."""

from __future__ import annotations

import torch

from gait2hip.bench.model_timing import measure_speed
from gait2hip.models import build_model


def test_measure_speed_leaves_the_model_as_it_was_and_restores_threads():
    threads = torch.get_num_threads()
    model = build_model("tcn", d_in=10, d_out=3, channels=8, n_blocks=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = measure_speed(model, seq_len=101, batch=4, threads=1, repeats=2, latency_repeats=3)
    torch.set_num_threads(threads)
    assert result.architecture == "tcn" and result.batch == 4 and result.threads == 1
    assert result.cycles_per_s > 0 and result.cpu_ms_per_cycle >= 0
    assert 0 < result.latency_p50_ms <= result.latency_p95_ms
    assert not model.training  # measured in eval mode
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
