"""Non-negative force outputs and offset-free inputs live in the model and survive a bundle."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from gait2hip.models import build_model
from gait2hip.models.bundle import BundleSpec, load_bundle, save_bundle


def _model(**options):
    torch.manual_seed(0)
    return build_model(
        "transformer", d_in=10, d_out=3, seq_len=21, d_model=16, n_heads=2, n_layers=1, **options
    )


def test_nonnegative_channels_stay_non_negative_in_physical_units_through_a_bundle(tmp_path):
    mean, scale = (5.0, 5.0, 0.0), (3.0, 3.0, 0.5)
    model = _model(nonnegative=(0, 1), output_mean=mean, output_scale=scale)
    with torch.no_grad():  # push the raw outputs far below zero
        model.inner.output_proj.bias.fill_(-50.0)
    spec = BundleSpec(
        model=model, input_columns=[f"a{i}" for i in range(10)], input_units=["deg"] * 10,
        target_columns=["glmax_r", "glmed_r", "hip_flexion_r_moment"], target_units=["N/kg", "N/kg", "Nm/kg"],
        input_mean=np.zeros(10), input_std=np.ones(10), target_mean=mean, target_std=scale,
        architecture="transformer",
    )  # fmt: skip
    bundle = load_bundle(save_bundle(tmp_path / "b", spec))
    x = torch.randn(8, 21, 10)
    with torch.no_grad():
        raw = bundle.model(x).numpy()
    physical = raw * np.array(scale) + np.array(mean)
    assert physical[..., :2].min() >= -1e-5  # forces ≥ 0 up to float rounding
    assert physical[..., 2].min() < -1.0  # an unconstrained channel still goes negative


def test_offset_free_feeds_shapes_and_means_separately():
    model = _model(offset_free=True)
    assert model.inner.config.d_in == 20
    seen = []
    model.inner.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x = torch.randn(2, 21, 10) + 30.0
    model(x)
    shapes, means = seen[0][..., :10], seen[0][..., 10:]
    torch.testing.assert_close(shapes.mean(dim=1), torch.zeros(2, 10), atol=1e-5, rtol=0)
    torch.testing.assert_close(means[:, 0], x.mean(dim=1))
    again = build_model("transformer", **dataclasses.asdict(model.config))
    assert again.load_state_dict(model.state_dict()).missing_keys == []


def test_an_untrained_network_with_a_prior_predicts_the_prior_curve():
    prior = tuple(tuple(float(t * 0.1 + c) for c in range(3)) for t in range(21))
    model = _model(output_prior=prior)
    with torch.no_grad():
        model.inner.output_proj.weight.zero_()
        model.inner.output_proj.bias.zero_()
        out = model(torch.randn(4, 21, 10))
    torch.testing.assert_close(out, torch.tensor(prior).expand(4, -1, -1))
