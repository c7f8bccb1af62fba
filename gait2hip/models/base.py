"""What every architecture shares: the base config fields, validation helpers, the input check."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch

from gait2hip.errors import Gait2HipInputError


@dataclasses.dataclass(kw_only=True)
class SequenceModelConfig:
    """Fields every architecture shares.

    Parameters
    ----------
    d_in
        Input channels per time step (10 joint angles in the release order).
    d_out
        Output channels per time step (14 muscle forces, 3 hip moments, or both).
    seq_len
        Time steps per gait cycle the model is built for (101 for 0-100 %, 180 in the Gait2Hip-60
        release). Only the Transformer's learned positional embedding depends on it; the other
        architectures accept any length.
    offset_free
        Feed the network each input de-meaned over the cycle plus the cycle means as extra
        channels (:mod:`gait2hip.models.constraints`).
    nonnegative
        Output channels whose physical value is kept ≥ 0 by a softplus inside the model (muscle
        forces); needs ``output_mean`` / ``output_scale``, the target normalisation of training.
    output_mean, output_scale
        Per output channel: physical value = raw output · scale + mean (empty: not used).
    output_prior
        A curve [seq_len][d_out] added to the network's output (in its output units): the
        training data's mean curve, so that an untrained network predicts it and training
        learns what the angles add to it (empty: none).
    """

    d_in: int
    d_out: int
    seq_len: int = 101
    offset_free: bool = False
    nonnegative: tuple[int, ...] = ()
    output_mean: tuple[float, ...] = ()
    output_scale: tuple[float, ...] = ()
    output_prior: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)):
                raise Gait2HipInputError(
                    f"{type(self).__name__}.{field.name} must be an integer, got {value!r}.",
                    column=field.name,
                    fix="pass a whole number.",
                )
        require_positive(self, "d_in", "d_out", "seq_len")
        # JSON (a bundle's manifest) gives lists: keep tuples, so configs compare and hash alike
        self.nonnegative = tuple(int(i) for i in self.nonnegative)
        self.output_mean = tuple(float(v) for v in self.output_mean)
        self.output_scale = tuple(float(v) for v in self.output_scale)
        self.output_prior = tuple(tuple(float(v) for v in row) for row in self.output_prior)
        try:
            check_constraints(self)
        except ValueError as exc:
            raise Gait2HipInputError(f"{type(self).__name__}: {exc}.", column="nonnegative") from None


def require_positive(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise Gait2HipInputError(
                f"{type(config).__name__}.{name} must be positive, got {value!r}.",
                column=name,
                fix=f"pass {name} > 0.",
            )


def require_fraction(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if not 0.0 <= value < 1.0:
            raise Gait2HipInputError(
                f"{type(config).__name__}.{name} must be in [0, 1), got {value!r}.",
                column=name,
                fix=f"pass 0 <= {name} < 1.",
            )


def check_model_input(x: torch.Tensor, *, d_in: int) -> None:
    """Refuse a tensor that is not ``[batch, T, d_in]`` floating point (shared by every model)."""
    if x.dim() != 3 or x.shape[-1] != d_in:
        raise ValueError(f"expected input of shape [batch, T, {d_in}], got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point input, got {x.dtype}")


#: Inference micro-batch size in time samples (cycles x T). Activations of ~4096 samples of the
#: paper-sized models (a few MB) stay in a CPU's cache; measured on this project's 2-core server at
#: batch 256, 1 thread: Transformer 1.49 -> 0.88 ms/cycle (T = 101), Mamba 5.7 -> 3.5 ms/cycle (T = 180).
INFERENCE_MICROBATCH_SAMPLES = 4096


def is_exporting() -> bool:
    """True while a model is being traced or exported (ONNX, ``torch.export``, ``torch.jit.trace``)."""
    return torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting() or torch.jit.is_tracing()


def run_in_microbatches(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    samples: int = INFERENCE_MICROBATCH_SAMPLES,
) -> torch.Tensor:
    """``forward(x)`` over slices of the batch when no gradient is recorded (CPU inference).

    Every cycle is computed independently by the sequence models, so slicing the batch changes
    nothing but cache use. Training (gradients on), GPU tensors and exports run in one piece.
    """
    if torch.is_grad_enabled() or x.device.type != "cpu" or is_exporting():
        return forward(x)
    items = max(1, samples // max(1, x.shape[1]))
    if x.shape[0] <= items:
        return forward(x)
    return torch.cat([forward(part) for part in x.split(items)])


def check_constraints(config: SequenceModelConfig) -> None:
    """Validate the two options' fields (called by :class:`SequenceModelConfig`)."""
    n = len(config.nonnegative)
    if n and not (len(config.output_mean) == len(config.output_scale) == config.d_out):
        raise ValueError(
            f"nonnegative outputs need output_mean and output_scale for all {config.d_out} outputs, "
            f"got {len(config.output_mean)} and {len(config.output_scale)}"
        )
    if any(not 0 <= int(i) < config.d_out for i in config.nonnegative):
        raise ValueError(f"nonnegative channels {list(config.nonnegative)} outside 0..{config.d_out - 1}")
    if n and min(float(s) for s in config.output_scale) <= 0:
        raise ValueError("output_scale must be > 0")
    prior = config.output_prior
    if prior and (len(prior) != config.seq_len or any(len(row) != config.d_out for row in prior)):
        raise ValueError(f"output_prior must be [seq_len={config.seq_len}][d_out={config.d_out}]")
