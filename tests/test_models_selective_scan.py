"""Selective scan: the chunked CPU scan equals mambapy's parallel scan; our Mamba loads mambapy weights."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from mambapy.mamba import Mamba as MambapyMamba
from mambapy.mamba import MambaBlock as MambapyBlock
from mambapy.mamba import MambaConfig as MambapyConfig

from gait2hip.models import build_model
from gait2hip.models.mamba import MambaMixer
from gait2hip.models.selective_scan import (
    scan_backend,
    scan_plan,
    selective_scan,
    selective_scan_chunked,
    selective_scan_mambapy,
    selective_scan_sequential,
    selective_scan_unrolled,
    use_scan_backend,
)

torch.set_num_threads(1)


def _scan_inputs(batch, steps, inner, n_state, *, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, inner, generator=g, dtype=dtype)
    delta = torch.nn.functional.softplus(torch.randn(batch, steps, inner, generator=g, dtype=dtype) - 1)
    A = -torch.exp(torch.randn(inner, n_state, generator=g, dtype=dtype))
    B = torch.randn(batch, steps, n_state, generator=g, dtype=dtype)
    C = torch.randn(batch, steps, n_state, generator=g, dtype=dtype)
    D = torch.randn(inner, generator=g, dtype=dtype)
    return x, delta, A, B, C, D


# 1 item x 1 step; uneven tiles of 2 + 1 items; the whole batch x 1 step; everything at once
@pytest.mark.parametrize("chunk_elements", [1, 700, 999, 2**21])
@pytest.mark.parametrize("steps", [101, 64])
def test_chunked_equals_mambapy_pscan(chunk_elements, steps):
    inputs = _scan_inputs(3, steps, 20, 16)
    reference = selective_scan_mambapy(*inputs)
    ours = selective_scan_chunked(*inputs, chunk_elements=chunk_elements)
    assert (ours - reference).abs().max().item() <= 1e-5
    for other in (selective_scan_sequential, selective_scan_unrolled):
        assert (other(*inputs) - reference).abs().max().item() <= 1e-5


@pytest.mark.parametrize("batch", [1, 5])
def test_inference_paths_equal_mambapy_pscan_at_paper_size(batch):
    """Paper sizes (ED 256, N 16) without gradients: one cycle runs chunked, five run step by step."""
    inputs = _scan_inputs(batch, 101, 256, 16)
    reference = selective_scan_mambapy(*inputs)
    with torch.inference_mode():
        ours = selective_scan_chunked(*inputs)
    # float32 sums over 101 steps in another order: equal to a few ulp of the value, not to 1e-5 absolute
    torch.testing.assert_close(ours, reference, rtol=2e-6, atol=1e-5)
    with_grad = selective_scan_chunked(*(t.clone().requires_grad_() for t in inputs))
    assert (with_grad.detach() - ours).abs().max().item() <= 1e-5


def test_scan_plan_tiles_batch_then_chunks_time():
    plan = scan_plan  # (tile, chunk) for a [chunk, N, tile, ED] buffer of chunk_elements values
    assert plan(batch=256, inner=256, n_state=16, steps=101, chunk_elements=2**18) == (64, 1)
    assert plan(batch=256, inner=256, n_state=16, steps=101, chunk_elements=2**21) == (256, 2)
    assert plan(batch=1, inner=256, n_state=16, steps=101, chunk_elements=2**18) == (1, 64)
    assert plan(batch=3, inner=256, n_state=16, steps=101, chunk_elements=1) == (1, 1)


@pytest.mark.parametrize("chunk_elements", [1, 40, 10**9])
def test_chunked_backward_gradcheck(chunk_elements):
    inputs = [t.requires_grad_() for t in _scan_inputs(2, 9, 3, 2, dtype=torch.float64)]
    assert torch.autograd.gradcheck(
        lambda *a: selective_scan_chunked(*a, chunk_elements=chunk_elements), inputs, eps=1e-6, atol=1e-5
    )


def test_time_major_layout_gives_the_same_scan_and_gradients():
    inputs = [t.requires_grad_() for t in _scan_inputs(2, 9, 3, 2, dtype=torch.float64)]
    x, delta, A, B, C, D = inputs
    batch_first = selective_scan_chunked(*inputs, chunk_elements=20)
    time_major = selective_scan(
        x.transpose(0, 1), delta.transpose(0, 1), A, B.transpose(0, 1), C.transpose(0, 1), D, time_major=True
    )
    torch.testing.assert_close(time_major.transpose(0, 1), batch_first)
    assert torch.autograd.gradcheck(
        lambda x, delta, A, B, C, D: selective_scan_chunked(
            x, delta, A, B, C, D, chunk_elements=20, time_major=True
        ),
        [t.detach().transpose(0, 1).contiguous().requires_grad_() if t.dim() == 3 else t for t in inputs],
    )


def test_chunked_gradients_equal_mambapy_gradients():
    first = [t.requires_grad_() for t in _scan_inputs(2, 50, 16, 8)]
    second = [t.detach().clone().requires_grad_() for t in first]
    weight = torch.randn(2, 50, 16, generator=torch.Generator().manual_seed(1))
    (selective_scan_chunked(*first, chunk_elements=300) * weight).sum().backward()
    (selective_scan_mambapy(*second) * weight).sum().backward()
    for ours, reference in zip(first, second, strict=True):
        torch.testing.assert_close(ours.grad, reference.grad, rtol=1e-4, atol=1e-4)


def _mambapy_block_and_ours(d_model=16, d_state=8, seed=0):
    torch.manual_seed(seed)
    reference = MambapyBlock(
        MambapyConfig(d_model=d_model, n_layers=1, d_state=d_state, d_conv=4, expand_factor=2)
    )
    ours = MambaMixer(d_model=d_model, d_state=d_state, d_conv=4, expand=2)
    ours.load_state_dict(reference.state_dict(), strict=True)  # identical names and shapes
    return reference, ours


def test_mixer_matches_mambapy_block_outputs_and_gradients():
    reference, ours = _mambapy_block_and_ours()
    x = torch.randn(3, 101, 16, generator=torch.Generator().manual_seed(2))
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    y_ref, y_ours = reference(x_ref), ours(x_ours)
    assert (y_ours - y_ref).abs().max().item() <= 1e-5
    weight = torch.randn_like(y_ref)
    (y_ref * weight).sum().backward()
    (y_ours * weight).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=1e-4, atol=1e-5)
    grads_ref = dict(reference.named_parameters())
    for name, parameter in ours.named_parameters():
        torch.testing.assert_close(parameter.grad, grads_ref[name].grad, rtol=1e-4, atol=1e-5, msg=name)


def test_paper_sized_mixer_matches_mambapy_block_in_inference():
    reference, ours = _mambapy_block_and_ours(d_model=128, d_state=16)
    x = torch.randn(5, 101, 128, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        assert (ours(x) - reference(x)).abs().max().item() <= 1e-5


def test_mambapy_state_dict_loads_into_our_model():
    """A mambapy Mamba (RMS pre-norm residual blocks) == our layers with block_norm=True."""
    torch.manual_seed(0)
    reference = MambapyMamba(MambapyConfig(d_model=32, n_layers=2, d_state=16, d_conv=4, expand_factor=2))
    ours = build_model("mamba", d_in=10, d_out=3, d_model=32, n_layers=2, dropout=0.0, block_norm=True)
    missing, unexpected = ours.load_state_dict(reference.state_dict(), strict=False)
    assert not unexpected
    assert all(not key.startswith("layers.") for key in missing)  # every block parameter was filled
    h = torch.randn(2, 101, 32, generator=torch.Generator().manual_seed(3))
    expected = reference(h)
    h = h.transpose(0, 1)  # our layers work time-major
    for layer in ours.layers:
        h = h + layer(h)
    assert (h.transpose(0, 1) - expected).abs().max().item() <= 1e-5


def test_dispatch_picks_the_cpu_path_here():
    x = torch.zeros(1, 4, 2)
    assert scan_backend(x) == "chunked"
    with use_scan_backend("mambapy"):
        assert scan_backend(x) == "mambapy"
    assert scan_backend(x) == "chunked"
    with pytest.raises(ValueError, match="unknown scan backend"):
        selective_scan(*_scan_inputs(1, 4, 2, 2), backend="fast")


def test_exporting_uses_the_unrolled_scan(monkeypatch):
    monkeypatch.setattr(torch.compiler, "is_exporting", lambda: True)
    assert scan_backend(torch.zeros(1, 4, 2)) == "unrolled"


def test_model_output_identical_across_scan_backends():
    torch.manual_seed(0)
    model = build_model("mamba", d_in=10, d_out=14, seq_len=101).eval()
    x = torch.randn(4, 101, 10)
    with torch.no_grad():
        fast = model(x)
        with use_scan_backend("mambapy"):
            reference = model(x)
    assert (fast - reference).abs().max().item() <= 1e-5


@pytest.mark.skipif(
    not (torch.cuda.is_available() and importlib.util.find_spec("mamba_ssm") is not None),
    reason="needs a CUDA GPU and the mamba_ssm package (pip install mamba-ssm) to compare the CUDA kernel",
)
def test_cuda_kernel_agrees_with_cpu_scan():
    inputs = _scan_inputs(4, 101, 64, 16)
    cpu = selective_scan_chunked(*inputs)
    gpu_inputs = [t.cuda() for t in inputs]
    assert scan_backend(gpu_inputs[0]) == "cuda"
    gpu = selective_scan(*gpu_inputs).cpu()
    assert (gpu - cpu).abs().max().item() <= 1e-4
