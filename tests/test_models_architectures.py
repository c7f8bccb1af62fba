"""Every architecture: shapes, options, bad input, determinism, and it learns (overfits a tiny batch)."""

from __future__ import annotations

import math

import pytest
import torch

from gait2hip.models import available_models, build_model

torch.set_num_threads(1)
ARCHITECTURES = ["lstm", "transformer", "mamba", "tcn"]


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("d_out", [14, 3, 17])
def test_shapes(name, d_out):
    model = build_model(name, d_in=10, d_out=d_out, seq_len=101).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 101, 10)).shape == (2, 101, d_out)
        assert model(torch.randn(1, 60, 10)).shape == (1, 60, d_out)  # shorter than seq_len


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("lstm", {"bidirectional": True, "num_layers": 1}),
        ("transformer", {"norm_first": True, "activation": "gelu", "n_layers": 1}),
        ("mamba", {"bidirectional": True, "block_norm": True, "dt_rank": 4}),
        ("tcn", {"padding_mode": "circular"}),
        ("tcn", {"padding_mode": "zeros", "kernel_size": 3, "n_blocks": 3}),
    ],
)
def test_options(name, options):
    model = build_model(name, d_in=10, d_out=3, seq_len=101, **options).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 101, 10)).shape == (2, 101, 3)


@pytest.mark.parametrize("name", ["lstm", "mamba"])
def test_bidirectional_sees_the_future(name):
    """Unidirectional output at t ignores inputs after t; bidirectional does not."""
    torch.manual_seed(0)
    x = torch.randn(1, 30, 10)
    later = x.clone()
    later[:, 20:] += 1.0
    for bidirectional, changes in ((False, False), (True, True)):
        model = build_model(name, d_in=10, d_out=3, dropout=0.0, bidirectional=bidirectional).eval()
        with torch.no_grad():
            diff = (model(later)[:, :20] - model(x)[:, :20]).abs().max().item()
        assert (diff > 1e-6) == changes


def test_transformer_refuses_longer_sequence_than_positions():
    model = build_model("transformer", d_in=10, d_out=3, seq_len=101)
    with pytest.raises(ValueError, match="longer than the 101 positions"):
        model(torch.randn(1, 180, 10))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_bad_input_shape_is_refused(name):
    model = build_model(name, d_in=10, d_out=3)
    with pytest.raises(ValueError, match=r"\[batch, T, 10\]"):
        model(torch.randn(2, 101, 9))
    with pytest.raises(ValueError, match=r"\[batch, T, 10\]"):
        model(torch.randn(101, 10))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_deterministic_given_seed(name):
    def run():
        torch.manual_seed(123)
        model = build_model(name, d_in=10, d_out=3, seq_len=32)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        x, y = torch.randn(4, 32, 10), torch.randn(4, 32, 3)
        for _ in range(2):  # dropout active: the seed must fix it too
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            return model(x)

    assert torch.equal(run(), run())


def _tiny_problem(seq_len=101, batch=4):
    """Smooth gait-like inputs; targets a fixed nonlinear function of the angles across time."""
    g = torch.Generator().manual_seed(0)
    phase = torch.linspace(0, 2 * math.pi, seq_len)
    harmonics = torch.stack([torch.sin(k * phase + p) for k in (1, 2) for p in (0.0, 1.0)], -1)  # [T, 4]
    x = harmonics @ torch.randn(batch, 4, 10, generator=g) + 0.1 * torch.randn(
        batch, seq_len, 10, generator=g
    )
    mix = torch.randn(10, 3, generator=g) / math.sqrt(10)
    y = torch.tanh(x @ mix) + 0.5 * torch.roll(x @ mix, shifts=5, dims=1)
    return x, y


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_overfits_tiny_batch(name):
    """Paper-sized models (dropout off) cut the training MSE by 10x within 60 Adam steps."""
    torch.manual_seed(0)
    x, y = _tiny_problem()
    model = build_model(name, d_in=10, d_out=3, seq_len=101, dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < losses[0] / 10, losses[::10]


def test_all_registered_models_covered():
    assert set(ARCHITECTURES) <= set(available_models())


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_inference_microbatches_give_the_same_outputs(name):
    torch.manual_seed(0)
    model = build_model(name, d_in=10, d_out=3, seq_len=101).eval()
    x = torch.randn(45, 101, 10)  # 45 cycles > 4096 // 101 = 40: two micro-batches without grad
    whole = model(x).detach()  # gradients on: one piece
    with torch.no_grad():
        sliced = model(x)
    torch.testing.assert_close(sliced, whole, rtol=1e-5, atol=1e-5)


def test_run_in_microbatches_slices_only_without_grad():
    from gait2hip.models.base import run_in_microbatches

    sizes = []

    def forward(part):
        sizes.append(part.shape[0])
        return part * 2

    x = torch.ones(10, 100, 1)
    with torch.no_grad():
        assert torch.equal(run_in_microbatches(forward, x, samples=300), x * 2)
    assert sizes == [3, 3, 3, 1]
    sizes.clear()
    run_in_microbatches(forward, x, samples=300)  # grad enabled: one call
    assert sizes == [10]
