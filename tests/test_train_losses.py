"""The masked loss: missing labels (NaN) train nothing, present ones train as the plain MSE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gait2hip.models import build_model
from gait2hip.train.loop import TrainConfig, predict, train_model
from gait2hip.train.losses import masked_mse

torch.set_num_threads(1)


def test_complete_labels_give_the_plain_mse():
    pred, target = torch.randn(4, 7, 3), torch.randn(4, 7, 3)
    assert float(masked_mse(pred, target)) == pytest.approx(float(torch.nn.functional.mse_loss(pred, target)))


def test_each_channel_is_averaged_over_its_own_labels():
    pred = torch.zeros(2, 1, 2)
    target = torch.tensor([[[1.0, 2.0]], [[3.0, float("nan")]]])
    # channel 0: (1 + 9) / 2 = 5; channel 1: 4 / 1 = 4 (not 4 / 2): mean of channels 4.5
    assert float(masked_mse(pred, target)) == pytest.approx(4.5)


def test_a_moments_only_batch_gives_the_forces_head_zero_gradient():
    torch.manual_seed(0)
    model = build_model(
        "transformer", d_in=10, d_out=5, seq_len=21, d_model=16, n_heads=2, n_layers=1, dropout=0.0
    )
    x = torch.randn(6, 21, 10)
    target = torch.randn(6, 21, 5)
    target[:, :, :3] = float("nan")  # 3 "forces" unlabelled, 2 "moments" labelled
    out = model(x)
    out.retain_grad()
    masked_mse(out, target).backward()
    assert torch.count_nonzero(out.grad[:, :, :3]) == 0
    assert torch.count_nonzero(out.grad[:, :, 3:]) > 0
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    head = [p for n, p in model.named_parameters() if p.grad is not None and p.shape[0] == 5][-2:]
    for p in head:  # the output layer's rows of the unlabelled channels receive nothing
        assert torch.count_nonzero(p.grad[:3]) == 0 and torch.count_nonzero(p.grad[3:]) > 0


def _two_sources(seed: int = 0, n: int = 48, t: int = 21):
    """Source A labels both outputs; source B labels only output 1. Same input → output law."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, 10)).astype(np.float32)
    Y = np.stack([2 * X[..., 0] + X[..., 3] + 3.0, np.sin(X[..., 1])], axis=-1).astype(np.float32)
    return X, Y


def _builder():
    return build_model("lstm", d_in=10, d_out=2, seq_len=21, hidden_size=16, num_layers=1)


def test_unlabelled_cycles_leave_the_other_output_as_learnt_from_labelled_ones_zero_filling_does_not():
    X, Y = _two_sources()
    Xt, Yt = _two_sources(seed=1, n=32)
    half = len(X) // 2
    config = TrainConfig(lr=1e-2, batch_size=8, seed=0)
    missing = Y.copy()
    missing[half:, :, 0] = np.nan  # the second source has no label for output 0
    zero = Y.copy()
    zero[half:, :, 0] = 0.0
    only_a = train_model(_builder, X[:half], Y[:half], config=config, epochs=25)
    masked = train_model(_builder, X, missing, config=config, epochs=25)
    zeroed = train_model(_builder, X, zero, config=config, epochs=25)
    rmse = {
        name: np.sqrt(np.mean((predict(r.model, Xt) - Yt) ** 2, axis=(0, 1)))
        for name, r in (("a", only_a), ("masked", masked), ("zero", zeroed))
    }
    scale = Yt[..., 0].std()
    assert rmse["masked"][0] < 0.5 * scale  # output 0 still learnt from source A alone
    assert rmse["masked"][0] < 1.5 * rmse["a"][0]
    assert rmse["zero"][0] > 2 * rmse["masked"][0]  # zero-filled labels drag it towards 0
    assert rmse["masked"][1] <= 1.2 * rmse["a"][1]  # output 1 learns from both sources


def test_validation_loss_with_missing_labels_is_finite_and_refuses_an_empty_channel():
    X, Y = _two_sources()
    missing = Y.copy()
    missing[::2, :, 0] = np.nan
    config = TrainConfig(lr=1e-2, batch_size=8, max_epochs=3, patience=2, seed=0)
    result = train_model(_builder, X, missing, X_val=X[:8], Y_val=missing[:8], config=config)
    assert np.isfinite([h["val_loss"] for h in result.history]).all()
    empty = Y.copy()
    empty[:, :, 1] = np.nan
    with pytest.raises(ValueError, match="no label at all"):
        train_model(_builder, X, empty, config=config, epochs=1)
    bad_x = X.copy()
    bad_x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="inputs contain NaN"):
        train_model(_builder, bad_x, Y, config=config, epochs=1)
