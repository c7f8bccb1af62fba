"""Domain-robustness augmentation: offsets shared by both legs, amplitudes about the mean, time warp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.train.augment import Augmenter, domain_weights


def _batch(n: int = 400, t: int = 51):
    phase = torch.linspace(0, 2 * np.pi, t)
    x = torch.sin(phase)[None, :, None].repeat(n, 1, len(INPUT_ANGLES)) * 2.0 + 1.0
    y = torch.cos(phase)[None, :, None].repeat(n, 1, 2)
    return x, y


def test_angle_offsets_are_shared_by_both_legs_and_sized_in_degrees():
    scale = tuple(2.0 if c.startswith("hip_flexion") else 1.0 for c in INPUT_ANGLES)
    augment = Augmenter(input_columns=INPUT_ANGLES, input_scale=scale, angles=True)
    x, y = _batch()
    xa, ya = augment(x, y, torch.Generator().manual_seed(0))
    assert torch.equal(ya, y)  # targets untouched by angle offsets
    shift = (xa.mean(dim=1) - x.mean(dim=1)).numpy()
    right, left = INPUT_ANGLES.index("hip_flexion_r"), INPUT_ANGLES.index("hip_flexion_l")
    np.testing.assert_allclose(shift[:, right], shift[:, left], atol=1e-5)
    # 6 deg SD over a scale of 2 deg per standardised unit: SD 3 in standardised units
    assert shift[:, right].std() == pytest.approx(3.0, rel=0.15)
    adduction = INPUT_ANGLES.index("hip_adduction_r")
    amplitude = (xa[:, :, adduction].std(dim=1) / x[:, :, adduction].std(dim=1)).numpy()
    assert amplitude.mean() == pytest.approx(1.0, abs=0.03) and amplitude.std() == pytest.approx(
        0.15, rel=0.2
    )


def test_time_warp_keeps_the_cycle_ends_and_missing_labels_missing():
    augment = Augmenter(input_columns=INPUT_ANGLES, input_scale=(1.0,) * 10, time_warp=True)
    x, y = _batch(n=50)
    y[:10, :, 1] = float("nan")
    xa, ya = augment(x, y, torch.Generator().manual_seed(1))
    torch.testing.assert_close(xa[:, [0, -1]], x[:, [0, -1]])
    assert (
        torch.isnan(ya[:10, :, 1]).all()
        and torch.isfinite(ya[10:]).all()
        and torch.isfinite(ya[:, :, 0]).all()
    )
    moved = (xa - x).abs().amax(dim=(1, 2))
    assert (moved > 1e-3).float().mean() > 0.8  # almost every cycle re-timed


def test_domain_weights_give_each_source_an_equal_share():
    weights = domain_weights(["sim"] * 90 + ["real"] * 10)
    assert weights[:90].sum() == pytest.approx(0.5) and weights[90:].sum() == pytest.approx(0.5)
