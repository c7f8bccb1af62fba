"""Training settings (gait2hip.train.config): the learning-rate schedule and the settings' checks."""

from __future__ import annotations

import pytest

from gait2hip.train.config import TrainConfig, lr_factor


def test_cosine_schedule_warms_up_linearly_then_halves_at_mid_run_and_ends_at_zero():
    cosine = lr_factor(TrainConfig(schedule="cosine"), total_steps=10, warmup_steps=2)
    assert [cosine(0), cosine(1)] == pytest.approx([0.5, 1.0])  # warm-up: 1/2, 2/2
    assert cosine(2) == pytest.approx(1.0)  # decay starts at the top
    assert cosine(6) == pytest.approx(0.5)  # half-way through the 8 decay steps: cos(π/2) = 0
    assert cosine(10) == pytest.approx(0.0, abs=1e-12) and cosine(25) == pytest.approx(0.0, abs=1e-12)
    constant = lr_factor(TrainConfig(), total_steps=10, warmup_steps=2)
    assert {constant(s) for s in (0, 1, 6, 25)} == {1.0}
    with pytest.raises(ValueError, match="schedule must be one of"):
        TrainConfig(schedule="linear")
