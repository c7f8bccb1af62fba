"""Options every architecture gets through its config: offset-free inputs, non-negative outputs,
a mean-curve prior.

Both live in the model (not in pre- or post-processing), so a bundle or an ONNX export carries
them and ``gait2hip predict`` needs no change:

``offset_free`` (domain robustness)
    The network sees each input channel de-meaned over the cycle, plus the cycle means as
    separate channels (constant over the cycle): ``[x - mean_t(x), mean_t(x)]``, 2·d_in wide.
    Labs differ mostly by constant angle offsets (pelvis and hip definitions: hip flexion by
    7–10°, rotation by ~10° between fukuchi2018 and the simulated cohort); this separates the
    shape of each curve, which transfers, from its offset, which the offset augmentation then
    teaches the network to rely on less.
``nonnegative`` (physically possible muscle forces)
    Output channels whose PHYSICAL value must be ≥ 0 (muscle forces). The network's raw output
    ``z`` of such a channel is in the training's standardised units; with the target mean ``m``
    and scale ``s`` (``output_mean`` / ``output_scale``) the physical value ``y = z·s + m`` is
    replaced by ``softplus_β(y) = log(1 + exp(β·y)) / β`` (β = :data:`SOFTPLUS_BETA` per N/kg,
    so the bend is within ~0.2 N/kg of zero) and mapped back: the model is trained through the
    constraint, and ``inverse`` normalisation of its output is ≥ 0 up to float rounding.
``output_prior`` (a mean-curve start)
    A [T, d_out] curve added to the network's output before the constraint: the training
    targets' mean curve (standardised), so the untrained model predicts the mean curve and
    training learns only what the angles add to it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gait2hip.models.base import SequenceModelConfig, check_model_input

#: Sharpness of the softplus in 1 / (target unit): 5 per N/kg, i.e. softplus(0) = 0.14 N/kg.
SOFTPLUS_BETA = 5.0


def needs_wrapper(config: SequenceModelConfig) -> bool:
    """Whether a config asks for any option (a plain model otherwise)."""
    return bool(config.offset_free or config.nonnegative or config.output_prior)


class ConstrainedModel(nn.Module):
    """An architecture with :mod:`offset-free inputs and / or non-negative outputs <.constraints>`.

    ``config`` is the full config (what a bundle stores); ``inner`` is the architecture built
    with ``d_in`` doubled when ``offset_free``.
    """

    def __init__(self, inner: nn.Module, config: SequenceModelConfig) -> None:
        super().__init__()
        self.config = config
        self.inner = inner
        mask = torch.zeros(config.d_out, dtype=torch.bool)
        mask[list(int(i) for i in config.nonnegative)] = True
        mean = torch.tensor(list(config.output_mean) or [0.0] * config.d_out, dtype=torch.float32)
        scale = torch.tensor(list(config.output_scale) or [1.0] * config.d_out, dtype=torch.float32)
        self.register_buffer("nonneg_mask", mask, persistent=False)
        self.register_buffer("output_mean", mean, persistent=False)
        self.register_buffer("output_scale", scale, persistent=False)
        prior = torch.tensor(config.output_prior, dtype=torch.float32) if config.output_prior else None
        self.register_buffer("output_prior", prior, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_model_input(x, d_in=self.config.d_in)
        if self.config.offset_free:
            means = x.mean(dim=1, keepdim=True)
            x = torch.cat([x - means, means.expand_as(x)], dim=2)
        z = self.inner(x)
        if self.output_prior is not None:
            z = z + self.output_prior[: z.shape[1]]
        if not self.config.nonnegative:
            return z
        physical = z * self.output_scale + self.output_mean
        positive = F.softplus(physical, beta=SOFTPLUS_BETA)
        constrained = (positive - self.output_mean) / self.output_scale
        return torch.where(self.nonneg_mask, constrained, z)
