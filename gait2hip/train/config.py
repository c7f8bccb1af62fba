"""Training settings (:class:`TrainConfig`), the device, seeding and the learning-rate schedule."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """Optimisation settings. The defaults are the Gait2Hip-60 paper's.

    Parameters
    ----------
    lr, weight_decay
        AdamW learning rate and (decoupled) weight decay.
    batch_size
        Trials per mini-batch (shuffled every epoch).
    grad_clip
        Maximum global gradient norm (``clip_grad_norm_``); ``None`` disables clipping.
    max_epochs
        Upper bound on epochs when early stopping; the count when training a fixed length
        without ``epochs`` given.
    patience, min_delta
        Early stopping: stop after ``patience`` epochs without the validation loss falling
        below ``best - min_delta``.
    seed
        Seeds torch, numpy and Python's ``random`` before the model is built.
    schedule
        'constant' or 'cosine' (decay to 0 over the run, after ``warmup_epochs`` of linear warm-up).
    warmup_epochs
        Linear warm-up length for the cosine schedule.
    threads
        ``torch.set_num_threads`` for the run (``None`` keeps the current setting).
    device
        Where to train: 'cpu' (default; bit-for-bit repeatable), 'cuda' / 'cuda:N', or
        'auto' (CUDA when available). The trained model is returned on the CPU either way.
    """

    lr: float = 1e-4
    weight_decay: float = 1e-5
    batch_size: int = 64
    grad_clip: float | None = 0.5
    max_epochs: int = 300
    patience: int = 30
    min_delta: float = 1e-8
    seed: int = 2025
    schedule: str = "constant"
    warmup_epochs: int = 0
    threads: int | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.batch_size < 1 or self.max_epochs < 1 or self.patience < 1:
            raise ValueError(f"invalid training settings: {self}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not (self.device in ("cpu", "auto") or self.device.startswith("cuda")):
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {self.device!r}")


def resolve_device(device: str) -> torch.device:
    """'auto' → CUDA when available, else CPU; 'cuda' without a GPU is an error, not a silent CPU run."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA GPU on this machine")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def lr_factor(config: TrainConfig, total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """The learning-rate multiplier of optimiser step ``step`` (LambdaLR): 1, or a linear warm-up
    then a cosine decay to 0 over ``total_steps``."""

    def factor(step: int) -> float:
        if config.schedule == "constant":
            return 1.0
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def config_dict(config: TrainConfig) -> dict:
    """JSON-able copy of a config (for manifests and the report)."""
    return asdict(config)
