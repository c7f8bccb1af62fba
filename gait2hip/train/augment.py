"""Domain-robustness augmentation, applied to every training batch afresh (recipe flags).

Sizes come from measured differences between labs (REAL data, see ``docs/real-data.md`` and the
fukuchi2018 data card), not from tuning:

* ``angle_augment`` — a random constant offset per angle (the same for the left and right leg,
  as a lab's pelvis / hip definition shifts both) and a random amplitude factor about the
  cycle mean. Measured: fukuchi2018 − simulated cohort cycle-mean hip flexion +3.5…+6.7°,
  rotation +7.7…+10°, adduction +2.6…+4.5°; fukuchi2018 − van der Zee hip flexion +7…+9°,
  rotation +9…+11°; between-subject SD of mean hip flexion 7° (real) vs ≈ 3° (simulated);
  hip adduction range of motion 12–15° (real) vs 19–22° (simulated), a factor ≈ 0.7. Offsets
  are drawn N(0, :data:`OFFSET_SD_DEG`), amplitude factors N(1, :data:`AMPLITUDE_SD`)
  (clipped to 0.5–1.5): ±2 SD spans the measured between-lab gaps.
* ``time_warp`` — a smooth monotone re-timing of the cycle with fixed ends,
  ``φ(t) = t + a·sin(πt)/π``, ``a ~ U(−``:data:`WARP_MAX```, +``:data:`WARP_MAX```)``, applied to
  inputs AND targets (events such as toe-off move by up to ±3 % of the cycle, as between
  people and speeds). Missing targets (NaN) stay missing.

Augmentation works on the standardised tensors of the training loop: an offset of ``d`` degrees
on a channel is ``d / scale`` there, and amplitude scaling about the cycle mean is unchanged by
the affine standardisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

#: Offset SD (deg) per joint axis, shared by both legs.
OFFSET_SD_DEG: dict[str, float] = {
    "hip_flexion": 6.0,
    "hip_adduction": 2.5,
    "hip_rotation": 6.0,
    "knee_angle": 3.0,
    "ankle_angle": 3.0,
}
#: Amplitude-factor SD per joint axis (about the cycle mean).
AMPLITUDE_SD: dict[str, float] = {
    "hip_flexion": 0.08,
    "hip_adduction": 0.15,
    "hip_rotation": 0.15,
    "knee_angle": 0.08,
    "ankle_angle": 0.10,
}
#: Largest time-warp amplitude ``a`` (fraction of the cycle / π at mid-cycle: ±0.1 → ±3 %).
WARP_MAX = 0.1


def _axis(column: str) -> str | None:
    base = column.removesuffix("_r").removesuffix("_l")
    return base if base in OFFSET_SD_DEG else None


@dataclass(frozen=True)
class Augmenter:
    """Batch augmentation in standardised units (see the module docstring).

    Parameters
    ----------
    input_columns
        The model's input columns (angles named as in :data:`gait2hip.data.columns.INPUT_ANGLES`;
        other inputs, e.g. subject data, are left alone).
    input_scale
        The input standardisation's scale per column (degrees per standardised unit).
    angles
        Offset + amplitude augmentation.
    time_warp
        Smooth re-timing of inputs and targets.
    """

    input_columns: tuple[str, ...]
    input_scale: tuple[float, ...]
    angles: bool = False
    time_warp: bool = False

    @property
    def active(self) -> bool:
        return self.angles or self.time_warp

    def describe(self) -> str:
        """A stable text of what this augmentation does (enters checkpoint fingerprints)."""
        return f"angles={self.angles} warp={self.time_warp} scale={np.round(self.input_scale, 6).tolist()}"

    def _groups(self) -> tuple[list[list[int]], list[float], list[float]]:
        by_axis: dict[str, list[int]] = {}
        for j, column in enumerate(self.input_columns):
            axis = _axis(column)
            if axis is not None:
                by_axis.setdefault(axis, []).append(j)
        axes = list(by_axis)
        return [by_axis[a] for a in axes], [OFFSET_SD_DEG[a] for a in axes], [AMPLITUDE_SD[a] for a in axes]

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Augmented copies of a batch ``x`` [B, T, D_in], ``y`` [B, T, D_out] (standardised)."""
        if self.angles:
            x = self._angles(x, generator)
        if self.time_warp:
            x, y = _warp(x, y, generator)
        return x, y

    def _angles(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        groups, offset_sd, amplitude_sd = self._groups()
        batch = x.shape[0]
        noise = torch.randn(batch, 2 * len(groups), generator=generator).to(x.device)
        offset = torch.zeros(batch, 1, x.shape[2], device=x.device)
        factor = torch.ones(batch, 1, x.shape[2], device=x.device)
        scale = torch.as_tensor(self.input_scale, dtype=x.dtype, device=x.device)
        for g, channels in enumerate(groups):
            for j in channels:
                offset[:, 0, j] = noise[:, g] * offset_sd[g] / scale[j]
                factor[:, 0, j] = (1.0 + noise[:, len(groups) + g] * amplitude_sd[g]).clamp(0.5, 1.5)
        mean = x.mean(dim=1, keepdim=True)
        return mean + (x - mean) * factor + offset


def _warp(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample each cycle at ``φ(t) = t + a sin(πt)/π`` (linear interpolation; ends fixed)."""
    batch, steps = x.shape[:2]
    t = torch.linspace(0.0, 1.0, steps, device=x.device)
    a = (torch.rand(batch, 1, generator=generator).to(x.device) * 2 - 1) * WARP_MAX
    phase = (t[None, :] + a * torch.sin(math.pi * t)[None, :] / math.pi).clamp(0.0, 1.0) * (steps - 1)
    low = phase.floor().long().clamp(0, steps - 2)
    w = (phase - low)[:, :, None]

    def resample(values: torch.Tensor) -> torch.Tensor:
        index = low[:, :, None].expand(-1, -1, values.shape[2])
        before = values.gather(1, index)
        after = values.gather(1, index + 1)
        # a missing label (NaN) stays missing, never leaks into a neighbour as 0·NaN
        return before + w * (after - before)

    return resample(x), resample(y)


def domain_weights(domains: Sequence[str]) -> np.ndarray:
    """Sampling weight per cycle so that every domain fills the same share of a batch (sum 1)."""
    domains = np.asarray(domains, dtype=str)
    names, inverse, counts = np.unique(domains, return_inverse=True, return_counts=True)
    weights = 1.0 / (len(names) * counts[inverse])
    return weights / weights.sum()


def batch_options(
    recipe, *, input_columns: Sequence[str], input_scale: np.ndarray, domains: np.ndarray | None
) -> dict:
    """``train_model`` keyword arguments for a recipe's augmentation and balancing flags.

    ``domains``: the training cycles' ``meta['domain']`` (None without one); balancing with one
    domain changes nothing and is skipped.
    """
    options: dict = {}
    if recipe.angle_augment or recipe.time_warp:
        options["augment"] = Augmenter(
            input_columns=tuple(input_columns),
            input_scale=tuple(float(v) for v in input_scale),
            angles=recipe.angle_augment,
            time_warp=recipe.time_warp,
        )
    if recipe.domain_balanced and domains is not None and len(set(domains)) > 1:
        options["sample_weights"] = domain_weights(domains)
    return options
