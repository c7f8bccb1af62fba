"""The selective scan of Mamba (S6), fast on CPU, numerically the same as mambapy's.

For every batch item and inner channel ``d`` with state size ``N`` it computes::

    h_t = exp(delta_t[d] * A[d, :]) * h_{t-1} + delta_t[d] * x_t[d] * B_t[:]      (h_0 = 0)
    y_t[d] = <h_t, C_t> + D[d] * x_t[d]

with the tensor layout of ``mambapy.mamba.MambaBlock.selective_scan``: ``x, delta [batch, L, ED]``
(``delta`` already through softplus), ``A [ED, N]``, ``B, C [batch, L, N]``, ``D [ED]``.

Why not mambapy's parallel scan on a CPU: it materialises ``[batch, L, ED, N]`` tensors (over 400 MB
each at batch 256, L = 101, padded to the next power of two) and sweeps them ``2 log2 L`` times, so it
is bound by memory bandwidth. :func:`selective_scan_chunked` instead walks the time axis in chunks
sized to stay in cache (``chunk_elements``) and keeps the state as ``[N, batch, ED]``, so every
broadcast runs along the contiguous ``ED`` axis. Per chunk, the decays ``exp(delta A)`` and drives
``delta x B`` are computed in one vectorised call each; only the unavoidable ``h = a * h + b`` runs
one step at a time, in place, and ``<h_t, C_t>`` is a batched matrix-vector product read straight
from the state layout (one call per step, or per batch item when that is fewer calls). Its backward
pass (a custom ``autograd.Function``) keeps only the state at each chunk start, recomputes the chunk,
and runs the adjoint recurrence backwards in the same layout, so training memory is ``1/chunk`` of
the full ``[batch, L, ED, N]`` state history.

Where the time goes, and why it is spent this way: every one of the ``batch * L * ED * N`` state
values needs one exponential and a few multiply-adds, and PyTorch's eager element-wise kernels cost
0.05-0.15 ns per value each on this project's AVX-512 server, so the scan is bound by the number of
passes over the state, not by Python (about 16 us per step, under 20 % at inference batch sizes).
Hence: decays as ``exp2`` of a base-2 exponent (2.8 times cheaper than ``exp``, see ``_LOG2_E``);
for inference with large steps, :func:`_stepwise_forward`, which needs four passes per step and no
decay or drive buffers; and no closed-form within-chunk scan: writing ``h_t`` as
``exp(A c_t) * cumsum(exp(-A c_s) b_s)`` (``c`` the cumulative ``delta``) takes more passes than the
step loop (two exponentials or a reciprocal, two extra products, a prefix sum; ``torch.cumsum`` along
time ran at 9 ns per value here), and overflows float32 once ``|A| c`` passes about 88.

Measured with ``gait2hip bench models --threads THREADS --models mamba`` (paper-sized Mamba, batch 256, in
the models' micro-batches of 4096 samples x steps; medians of three runs alternating with the previous
version on this project's shared 2-core server). One thread, process CPU time: 1.15 ms per cycle at
T = 101 and 2.03 at T = 180, against 2.10 and 3.23 before the ``exp2`` decays, the step-wise scan
and :class:`~gait2hip.models.mamba.MambaMixer`'s contiguous convolution taps, and 17.3
and 32.0 with mambapy's parallel scan in the same model; single-cycle latency 1.6 / 2.6 ms (was
2.2 / 3.5). Two threads, wall time (six runs): 0.68 / 1.29 ms per cycle (was 1.06 / 1.95). About 40 % of what
remains is the blocks' linear layers, already near this core's matmul peak (about 90 GFLOP/s). A
training step (batch 64, T = 101, one thread) takes 0.34 s (was 0.42 s; 3.0 s with mambapy).

The CUDA kernels of ``mamba_ssm`` are used instead when that package is installed and the tensors
are on a CUDA device (:func:`scan_backend` says which path runs).

Size: one module (about 500 lines, a tenth of them this docstring) because it is one algorithm: the
chunked forward and backward share their buffers and layout, and the step-wise, sequential, unrolled
and mambapy scans beside them are its variants and the references the tests hold it to.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from collections.abc import Callable, Iterator

import torch

from gait2hip.models.base import is_exporting

#: Elements of one ``[chunk, N, tile, ED]`` work buffer: 2**18 float32 = 1 MiB, so the three buffers
#: in flight (decays, states, previous states) stay within a core's L2/L3 share. Measured at batch
#: 256, T = 101 on this project's 2-core server: 20 % faster than 8 MiB buffers.
DEFAULT_CHUNK_ELEMENTS = 2**18

#: ``exp(delta A) = exp2(delta (A log2 e))``: PyTorch's float32 ``exp2`` runs about 2.8 times faster
#: than its ``exp`` on this project's AVX-512 server (3.8 against 10.6 ms for 16.5 M values, one
#: thread), and the decays are the scan's largest transcendental work. Folding ``log2 e`` into ``A``
#: costs one rounding of the exponent: at most 1 ulp of the decay where it is near 1.
_LOG2_E = math.log2(math.e)

#: Values in one ``[N, tile, ED]`` step from which inference runs :func:`_stepwise_forward` whatever
#: the chunk plan: at ED = 256, N = 16 and T = 101 on this project's server, one thread, chunks of
#: one step took 1.45 / 2.27 / 3.65 ms for 4 / 8 / 16 cycles against 1.99 / 3.55 / 4.40 ms with
#: the planned chunks of 16 / 8 / 4 steps (while 1 and 2 cycles are faster chunked: 0.39 against
#: 0.82 ms for one cycle).
STEPWISE_MIN_ELEMENTS = 2**14

_MAMBA_SSM_AVAILABLE = importlib.util.find_spec("mamba_ssm") is not None


def scan_plan(*, batch: int, inner: int, n_state: int, steps: int, chunk_elements: int) -> tuple[int, int]:
    """Batch tile and time chunk so that one ``[chunk, N, tile, ED]`` buffer holds ``chunk_elements``.

    Tiles shrink the batch first (keeping chunks of one step when a single step of the full batch is
    already larger than the budget), then chunks grow along time.
    """
    per_item = max(1, inner * n_state)
    tile = max(1, min(batch, chunk_elements // per_item))
    chunk = max(1, min(steps, chunk_elements // (tile * per_item)))
    return tile, chunk


def _chunked_forward(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    *,
    chunk: int,
    keep_starts: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """SSM part of the scan (no ``D x`` term) on time-major ``[L, batch, .]`` tensors; ``y [L, b, ED]``."""
    steps, batch, inner = x.shape
    n_state = A.shape[1]
    delta_t = delta.contiguous()  # [L, b, ED]
    drive_t = torch.mul(delta_t, x)  # [L, b, ED], delta * x
    B_t = B.permute(0, 2, 1).unsqueeze(-1).contiguous()  # [L, N, b, 1]
    C_t = C.unsqueeze(2).contiguous()  # [L, b, 1, N]
    A_t = A.t().mul(_LOG2_E).contiguous().unsqueeze(1)  # [N, 1, ED], in base 2 for exp2
    if chunk == 1:
        return _stepwise_forward(delta_t, drive_t, A_t, B_t, C_t, keep_starts=keep_starts)
    y = x.new_empty(steps, batch, inner)
    out = y.unsqueeze(2)  # [L, b, 1, ED] view for the GEMV outputs
    # Work buffers reused by every chunk (allocating them per chunk costs page faults). The states
    # ping-pong between two buffers so the last state of one chunk survives into the next.
    decay_buffer = x.new_empty(chunk, n_state, batch, inner)
    state_buffers = (x.new_empty(chunk, n_state, batch, inner), x.new_empty(chunk, n_state, batch, inner))
    state = x.new_zeros(n_state, batch, inner)
    starts: list[torch.Tensor] = []
    for number, begin in enumerate(range(0, steps, chunk)):
        end = min(steps, begin + chunk)
        length = end - begin
        if keep_starts:
            starts.append(state.clone())
        decay = torch.mul(delta_t[begin:end].unsqueeze(1), A_t, out=decay_buffer[:length]).exp2_()
        states = torch.mul(
            B_t[begin:end], drive_t[begin:end].unsqueeze(1), out=state_buffers[number % 2][:length]
        )
        for state_k, decay_k in zip(states.unbind(0), decay.unbind(0), strict=True):
            state = state_k.addcmul_(decay_k, state)
        # y_t[b, :] = C_t[b, :] @ h_t[:, b, :]: batched GEMVs read straight from the state layout,
        # batched over the batch (one call per step) or over time (one call per item), fewer calls
        if length >= batch:
            for item in range(batch):
                torch.bmm(C_t[begin:end, item], states[:, :, item], out=out[begin:end, item])
        else:
            for k in range(length):
                torch.bmm(C_t[begin + k], states[k].transpose(0, 1), out=out[begin + k])
    return y, starts


def _stepwise_forward(
    delta_t: torch.Tensor,
    drive_t: torch.Tensor,
    A_t: torch.Tensor,
    B_t: torch.Tensor,
    C_t: torch.Tensor,
    *,
    keep_starts: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """:func:`_chunked_forward` when one step already fills the work buffer (chunks of one step).

    Each step's decays are written straight into the buffer that becomes the new state, which is
    then scaled by the previous state and driven by ``B_t (delta x)_t`` broadcast on the fly:
    ``h = exp2(delta * A log2 e) * h_prev + B dx`` as ``mul, exp2_, mul_, addcmul_`` on two
    ping-pong buffers, with no decay or drive buffer. The working set per step is two state-sized buffers
    instead of three, and the broadcast ``addcmul_`` costs about half of a full-size one (measured
    0.067 against 0.128 ns per value on L2-resident ``[16, 40, 256]`` tensors).
    """
    steps, batch, inner = drive_t.shape
    n_state = A_t.shape[0]
    y = drive_t.new_empty(steps, batch, inner)
    out = y.unsqueeze(2)  # [L, b, 1, ED] view for the GEMV outputs
    buffers = (drive_t.new_empty(n_state, batch, inner), drive_t.new_empty(n_state, batch, inner))
    batch_first = tuple(buffer.transpose(0, 1) for buffer in buffers)  # [b, N, ED] views for bmm
    state = drive_t.new_zeros(n_state, batch, inner)
    starts: list[torch.Tensor] = []
    steps_in = zip(
        delta_t.unbind(0), drive_t.unbind(0), B_t.unbind(0), C_t.unbind(0), out.unbind(0), strict=True
    )
    for k, (delta_k, drive_k, B_k, C_k, out_k) in enumerate(steps_in):
        if keep_starts:
            starts.append(state.clone())
        following = torch.mul(delta_k, A_t, out=buffers[k % 2]).exp2_()
        state = following.mul_(state).addcmul_(B_k, drive_k)
        torch.bmm(C_k, batch_first[k % 2], out=out_k)
    return y, starts


def _chunked_backward(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    grad_y: torch.Tensor,
    starts: list[torch.Tensor],
    *,
    chunk: int,
) -> tuple[torch.Tensor, ...]:
    """Gradients of :func:`_chunked_forward` w.r.t. ``x, delta, A, B, C`` (time-major)."""
    steps, batch, inner = x.shape
    n_state = A.shape[1]
    delta_t = delta.contiguous()  # [L, b, ED]
    drive_t = torch.mul(delta_t, x)  # [L, b, ED]
    grad_t = grad_y.contiguous()  # [L, b, ED]
    B_t = B.permute(0, 2, 1).unsqueeze(-1).contiguous()  # [L, N, b, 1]
    C_t = C.permute(0, 2, 1).unsqueeze(-1).contiguous()  # [L, N, b, 1]
    A_t = A.t().unsqueeze(1).contiguous()  # [N, 1, ED]
    A2_t = A_t.mul(_LOG2_E)  # the forward's base-2 exponent, so the recomputed states match it

    grad_delta_t = torch.empty_like(delta_t)
    grad_drive_t = torch.empty_like(delta_t)
    grad_B_t = x.new_empty(steps, n_state, batch)
    grad_C_t = x.new_empty(steps, n_state, batch)
    grad_A_t = x.new_zeros(n_state, inner)
    decay_buffer = x.new_empty(chunk, n_state, batch, inner)
    states_buffer = x.new_empty(chunk + 1, n_state, batch, inner)
    grad_state_buffer = x.new_empty(chunk, n_state, batch, inner)
    product_buffer = x.new_empty(chunk, n_state, batch, inner)
    carry = None  # decay_{t+1} * dL/dh_{t+1}, flowing into the last step of the previous chunk
    for index in range(len(starts) - 1, -1, -1):
        begin = index * chunk
        end = min(steps, begin + chunk)
        length = end - begin
        # recompute the chunk: decays, and states h_{t-1} (states[k]) and h_t (states[k + 1])
        decay = torch.mul(delta_t[begin:end].unsqueeze(1), A2_t, out=decay_buffer[:length]).exp2_()
        states = states_buffer[: length + 1]
        states[0].copy_(starts[index])
        torch.mul(B_t[begin:end], drive_t[begin:end].unsqueeze(1), out=states[1:])
        for k in range(length):
            states[k + 1].addcmul_(decay[k], states[k])
        # adjoint recurrence: g_t = C_t gy_t + decay_{t+1} g_{t+1}
        grad_state = torch.mul(C_t[begin:end], grad_t[begin:end].unsqueeze(1), out=grad_state_buffer[:length])
        if carry is not None:
            grad_state[length - 1].add_(carry)
        for k in range(length - 2, -1, -1):
            grad_state[k].addcmul_(decay[k + 1], grad_state[k + 1])
        carry = decay[0] * grad_state[0]
        # contractions over ED or N: products into one reused buffer, then sums
        product = product_buffer[:length]
        grad_out = grad_t[begin:end].unsqueeze(1)  # [K, 1, b, ED]
        torch.sum(torch.mul(states[1:], grad_out, out=product), dim=-1, out=grad_C_t[begin:end])
        torch.sum(
            torch.mul(grad_state, drive_t[begin:end].unsqueeze(1), out=product),
            dim=-1,
            out=grad_B_t[begin:end],
        )
        torch.sum(torch.mul(grad_state, B_t[begin:end], out=product), dim=1, out=grad_drive_t[begin:end])
        # d exp(delta A) / d(delta A) = decay: the exponent's gradient is g_t * h_{t-1} * decay
        grad_exponent = decay.mul_(grad_state).mul_(states[:-1])
        torch.sum(torch.mul(grad_exponent, A_t, out=product), dim=1, out=grad_delta_t[begin:end])
        grad_A_t += torch.mul(grad_exponent, delta_t[begin:end].unsqueeze(1), out=product).sum(dim=(0, 2))

    grad_x = grad_drive_t * delta
    grad_delta = grad_delta_t.add_(grad_drive_t.mul_(x))
    grad_B = grad_B_t.transpose(1, 2)
    grad_C = grad_C_t.transpose(1, 2)
    return grad_x, grad_delta, grad_A_t.t(), grad_B, grad_C


class _ChunkedSelectiveScan(torch.autograd.Function):
    """Chunked scan with a recomputing backward, time-major: ``x, delta [L, b, ED]``, ``B, C [L, b, N]``.

    Returns the SSM part ``[L, b, ED]`` (no ``D x`` term). The batch is cut into tiles and time into
    chunks so that one ``[chunk, N, tile, ED]`` work buffer holds about ``chunk_elements`` values.
    """

    @staticmethod
    def forward(ctx, x, delta, A, B, C, chunk_elements):  # type: ignore[override]
        steps, batch, inner = x.shape
        tile, chunk = scan_plan(
            batch=batch, inner=inner, n_state=A.shape[1], steps=steps, chunk_elements=chunk_elements
        )
        needs_grad = any(ctx.needs_input_grad[:5])
        if not needs_grad and tile * inner * A.shape[1] >= STEPWISE_MIN_ELEMENTS:
            # inference: step by step beats chunks once a step is this large (no start states to
            # keep, so training memory is unaffected)
            chunk = 1
        if tile == batch:
            y, starts = _chunked_forward(x, delta, A, B, C, chunk=chunk, keep_starts=needs_grad)
        else:
            y = x.new_empty(steps, batch, inner)
            starts = []
            for first in range(0, batch, tile):
                rows = slice(first, first + tile)
                y[:, rows], tile_starts = _chunked_forward(
                    x[:, rows], delta[:, rows], A, B[:, rows], C[:, rows], chunk=chunk, keep_starts=needs_grad
                )
                starts.extend(tile_starts)
        if needs_grad:
            ctx.tile, ctx.chunk = tile, chunk
            ctx.save_for_backward(x, delta, A, B, C, *starts)
        return y

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        x, delta, A, B, C, *starts = ctx.saved_tensors
        tile, chunk = ctx.tile, ctx.chunk
        steps, batch, _ = x.shape
        if tile == batch:
            return (*_chunked_backward(x, delta, A, B, C, grad_y, starts, chunk=chunk), None)
        per_tile = -(-steps // chunk)  # chunks (stored start states) per tile
        grads = [torch.empty_like(x), torch.empty_like(delta), torch.zeros_like(A)]
        grads += [torch.empty_like(B), torch.empty_like(C)]
        for number, first in enumerate(range(0, batch, tile)):
            rows = slice(first, first + tile)
            tile_grads = _chunked_backward(
                x[:, rows],
                delta[:, rows],
                A,
                B[:, rows],
                C[:, rows],
                grad_y[:, rows],
                starts[number * per_tile : (number + 1) * per_tile],
                chunk=chunk,
            )
            grads[2] += tile_grads[2]
            for index in (0, 1, 3, 4):
                grads[index][:, rows] = tile_grads[index]
        return (*grads, None)


def selective_scan_chunked(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    *,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    time_major: bool = False,
) -> torch.Tensor:
    """Selective scan for CPUs (any device works), differentiable, memory-light; see module docstring.

    With ``time_major=True`` every sequence tensor is ``[L, batch, .]`` (in and out), which saves
    the layout copies when the caller already works time-major (as :class:`MambaMixer` does).
    """
    if time_major:
        return _ChunkedSelectiveScan.apply(x, delta, A, B, C, chunk_elements).addcmul_(D, x)
    y = _ChunkedSelectiveScan.apply(
        x.transpose(0, 1), delta.transpose(0, 1), A, B.transpose(0, 1), C.transpose(0, 1), chunk_elements
    )
    return y.transpose(0, 1) + D * x


def selective_scan_sequential(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """The recurrence as written, one time step at a time with plain autograd (slow; for tests)."""
    batch, steps, inner = x.shape
    drive = delta * x
    state = x.new_zeros(batch, inner, A.shape[1])
    outputs = []
    for t in range(steps):
        decay = torch.exp(delta[:, t].unsqueeze(-1) * A)
        state = decay * state + drive[:, t].unsqueeze(-1) * B[:, t].unsqueeze(1)
        outputs.append(torch.bmm(state, C[:, t].unsqueeze(-1)).squeeze(-1))
    return torch.stack(outputs, dim=1) + D * x


def selective_scan_unrolled(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """Export-friendly scan: out-of-place ops only, the time loop unrolled at trace time.

    Used while exporting (ONNX, ``torch.export``): the graph holds one multiply-add per time step,
    so an exported Mamba is fixed to the ``T`` it was exported with (the batch stays dynamic).
    """
    decay = torch.exp(delta.unsqueeze(-1) * A)  # [b, L, ED, N]
    drive = (delta * x).unsqueeze(-1) * B.unsqueeze(2)
    state = drive[:, 0]
    states = [state]
    for t in range(1, x.shape[1]):
        state = decay[:, t] * state + drive[:, t]
        states.append(state)
    return (torch.stack(states, dim=1) * C.unsqueeze(2)).sum(-1) + D * x


def selective_scan_mambapy(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """mambapy's parallel (Blelloch) scan, the reference the other paths are tested against."""
    from mambapy.pscan import pscan

    decay = torch.exp(delta.unsqueeze(-1) * A)
    drive = delta.unsqueeze(-1) * B.unsqueeze(2) * x.unsqueeze(-1)
    states = pscan(decay, drive)
    return (states @ C.unsqueeze(-1)).squeeze(3) + D * x


def selective_scan_cuda(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
) -> torch.Tensor:
    """The ``mamba_ssm`` CUDA kernel on our layout (``delta`` is passed already through softplus)."""
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

    y = selective_scan_fn(
        x.transpose(1, 2).contiguous(),
        delta.transpose(1, 2).contiguous(),
        A.contiguous(),
        B.transpose(1, 2).contiguous(),
        C.transpose(1, 2).contiguous(),
        D.contiguous(),
        z=None,
        delta_bias=None,
        delta_softplus=False,
    )
    return y.transpose(1, 2)


_BACKENDS: dict[str, Callable[..., torch.Tensor]] = {
    "chunked": selective_scan_chunked,
    "sequential": selective_scan_sequential,
    "unrolled": selective_scan_unrolled,
    "mambapy": selective_scan_mambapy,
    "cuda": selective_scan_cuda,
}


_forced_backend: str | None = None


@contextlib.contextmanager
def use_scan_backend(name: str) -> Iterator[None]:
    """Force every :func:`selective_scan` with ``backend="auto"`` to ``name`` inside the block.

    For benchmarks and tests, e.g. ``with use_scan_backend("mambapy"): model(x)``.
    """
    global _forced_backend
    if name not in _BACKENDS:
        raise ValueError(f"unknown scan backend {name!r}; choose {', '.join(_BACKENDS)}")
    previous, _forced_backend = _forced_backend, name
    try:
        yield
    finally:
        _forced_backend = previous


def scan_backend(x: torch.Tensor) -> str:
    """The backend :func:`selective_scan` picks for ``x``.

    ``"cuda"`` when ``mamba_ssm`` is installed and ``x`` is on a GPU, ``"unrolled"`` while a model is
    being exported (ONNX, ``torch.export``, tracing), else ``"chunked"`` (the fast CPU path).
    """
    if _forced_backend is not None:
        return _forced_backend
    if is_exporting():
        return "unrolled"
    if x.is_cuda and _MAMBA_SSM_AVAILABLE:
        return "cuda"
    return "chunked"


def selective_scan(
    x: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    *,
    backend: str = "auto",
    time_major: bool = False,
) -> torch.Tensor:
    """Selective scan ``y [batch, L, ED]`` (recurrence and layout in the module docstring).

    Parameters
    ----------
    x, delta
        ``[batch, L, ED]``; ``delta`` after softplus.
    A
        ``[ED, N]`` (negative: ``-exp(A_log)``).
    B, C
        ``[batch, L, N]``.
    D
        ``[ED]``.
    backend
        ``"auto"`` (:func:`scan_backend`), ``"chunked"``, ``"sequential"``, ``"unrolled"``,
        ``"mambapy"`` or ``"cuda"``.
    time_major
        All sequence tensors (in and out) are ``[L, batch, .]`` instead of ``[batch, L, .]``.
    """
    name = scan_backend(x) if backend == "auto" else backend
    if name not in _BACKENDS:
        raise ValueError(f"unknown scan backend {backend!r}; choose auto, {', '.join(_BACKENDS)}")
    if name == "chunked":
        return selective_scan_chunked(x, delta, A, B, C, D, time_major=time_major)
    if time_major:
        x, delta, B, C = (t.transpose(0, 1) for t in (x, delta, B, C))
        return _BACKENDS[name](x, delta, A, B, C, D).transpose(0, 1)
    return _BACKENDS[name](x, delta, A, B, C, D)
