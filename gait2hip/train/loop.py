"""One training loop for every architecture.

AdamW on the MSE of [batch, T, D_out] sequences, shuffled mini-batches, gradient-norm
clipping, an optional cosine learning-rate schedule with linear warm-up, and either early
stopping on a validation set (patience / min_delta, best weights restored) or a fixed number
of epochs. Everything random (initial weights, dropout, batch order) follows ``config.seed``,
so on CPU the same seed gives the same weights and the same metrics.

Inputs and targets arrive already normalised (see :mod:`gait2hip.train.normalize`); the loop
knows nothing about units.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from rich.progress import Progress
from torch import nn

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


@dataclass
class TrainResult:
    """What a training run produced.

    Attributes
    ----------
    model
        The trained model in eval mode (best validation weights when early stopping).
    best_epoch
        1-based epoch of the lowest validation loss; the number of epochs run without validation.
    best_val_loss
        Lowest validation loss (NaN without validation).
    epochs_run
        Epochs actually trained.
    history
        One dict per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``lr``.
    seconds
        Wall time of the run.
    """

    model: nn.Module
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
        }


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _lr_factor(config: TrainConfig, total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if config.schedule == "constant":
            return 1.0
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


@torch.no_grad()
def evaluate_loss(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, *, batch_size: int = 256) -> float:
    """Mean squared error over every element of ``(X, Y)``, in eval mode."""
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(X), batch_size):
        pred = model(X[start : start + batch_size])
        total += float(torch.sum((pred - Y[start : start + batch_size]) ** 2))
    model.train(was_training)
    return total / Y.numel()


@torch.no_grad()
def predict(model: nn.Module, X: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Model outputs for normalised inputs ``X`` [N, T, D_in] → [N, T, D_out] (float32)."""
    model.eval()
    tensor = torch.as_tensor(np.asarray(X, dtype=np.float32))
    outputs = [model(tensor[s : s + batch_size]).numpy() for s in range(0, len(tensor), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,), dtype=np.float32)


def train_model(
    build: Callable[[], nn.Module],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    config: TrainConfig,
    X_val: np.ndarray | None = None,
    Y_val: np.ndarray | None = None,
    epochs: int | None = None,
    progress: Progress | None = None,
    label: str = "training",
) -> TrainResult:
    """Train a freshly built model.

    Parameters
    ----------
    build
        Zero-argument factory returning a new model; called after seeding, so the initial
        weights follow ``config.seed``.
    X, Y
        Normalised training inputs [N, T, D_in] and targets [N, T, D_out].
    config
        Optimisation settings.
    X_val, Y_val
        Validation set: enables early stopping (best weights restored).
    epochs
        Train exactly this many epochs with no validation (the paper's final retraining).
        Mutually exclusive with a validation set.
    progress
        A running ``rich.progress.Progress``; one task per call shows epochs, losses and ETA.
    label
        Text shown beside the progress bar.

    Returns
    -------
    TrainResult
    """
    validating = X_val is not None
    if validating and Y_val is None:
        raise ValueError("X_val given without Y_val")
    if validating and epochs is not None:
        raise ValueError("give either a validation set (early stopping) or a fixed number of epochs")
    if len(X) == 0:
        raise ValueError("no training samples")
    n_epochs = int(epochs if epochs is not None else config.max_epochs)
    if n_epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {n_epochs}")
    if config.threads is not None:
        torch.set_num_threads(config.threads)

    device = resolve_device(config.device)
    seed_everything(config.seed)
    model = build().to(device)
    model.train()
    x_train = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
    y_train = torch.as_tensor(np.asarray(Y, dtype=np.float32), device=device)
    if validating:
        x_val = torch.as_tensor(np.asarray(X_val, dtype=np.float32), device=device)
        y_val = torch.as_tensor(np.asarray(Y_val, dtype=np.float32), device=device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        _lr_factor(config, n_epochs * steps_per_epoch, config.warmup_epochs * steps_per_epoch),
    )
    generator = torch.Generator().manual_seed(config.seed)
    loss_fn = nn.MSELoss()

    task = progress.add_task(label, total=n_epochs, status="") if progress is not None else None
    history: list[dict] = []
    best_loss, best_epoch, best_state, stale = math.inf, 0, None, 0
    started = time.perf_counter()
    for epoch in range(1, n_epochs + 1):
        order = torch.randperm(len(x_train), generator=generator)
        running, seen = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            # the batch order comes from a CPU generator whatever the device: same order as on CPU
            idx = order[start : start + config.batch_size].to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            running += loss.item() * len(idx)
            seen += len(idx)
        record = {
            "epoch": epoch,
            "train_loss": running / seen,
            "val_loss": float("nan"),
            "lr": optimizer.param_groups[0]["lr"],
        }
        if validating:
            val_loss = evaluate_loss(model, x_val, y_val)
            record["val_loss"] = val_loss
            if val_loss < best_loss - config.min_delta:
                best_loss, best_epoch, stale = val_loss, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
        history.append(record)
        if task is not None:
            status = f"train {record['train_loss']:.4g}"
            if validating:
                status += f"  val {record['val_loss']:.4g} (best {best_loss:.4g} @ {best_epoch})"
            progress.update(task, advance=1, status=status)
        if validating and stale >= config.patience:
            break
    if task is not None:
        progress.update(task, completed=n_epochs, visible=False)
    if validating and best_state is not None:
        model.load_state_dict(best_state)
    if not validating:
        best_epoch = len(history)
    model.to("cpu").eval()
    return TrainResult(
        model=model,
        best_epoch=best_epoch,
        best_val_loss=best_loss if validating else float("nan"),
        epochs_run=len(history),
        history=history,
        seconds=time.perf_counter() - started,
    )


def config_dict(config: TrainConfig) -> dict:
    """JSON-able copy of a config (for manifests and the report)."""
    return asdict(config)
