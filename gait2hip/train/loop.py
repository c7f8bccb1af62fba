"""One training loop for every architecture.

AdamW on the MSE of [batch, T, D_out] sequences, shuffled mini-batches, gradient-norm
clipping, an optional cosine learning-rate schedule with linear warm-up, and either early
stopping on a validation set (patience / min_delta, best weights restored) or a fixed number
of epochs. Everything random (initial weights, dropout, batch order) follows ``config.seed``,
so on CPU the same seed gives the same weights and the same metrics.

Inputs and targets arrive already normalised (see :mod:`gait2hip.train.normalize`); the loop
knows nothing about units.

With a ``checkpoint`` path, a run saves its whole state (weights, optimiser, schedule, random
generators, early-stopping state, history) at most every ``checkpoint_seconds``; the same call
after a kill continues from it and ends with exactly the weights of an uninterrupted run.
"""

from __future__ import annotations

import copy
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from gait2hip.train.checkpoint import load_checkpoint, restore, run_fingerprint, save_checkpoint
from gait2hip.train.config import TrainConfig, lr_factor, resolve_device, seed_everything
from gait2hip.train.losses import masked_mse, masked_sse


class Augment(Protocol):
    """A batch augmentation: ``(x, y, generator) -> (x, y)``, with a stable ``describe()``."""

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def describe(self) -> str: ...


class ProgressSink(Protocol):
    """The slice of ``rich.progress.Progress`` training reports to (the command layer owns rich)."""

    def add_task(self, description: str, total: int, **fields: Any) -> Any: ...

    def update(self, task: Any, **kwargs: Any) -> None: ...


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
    cpu_seconds
        CPU time of the process spent in the run (across resumes from a checkpoint).
    """

    model: nn.Module
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
        }


@torch.no_grad()
def evaluate_loss(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, *, batch_size: int = 256) -> float:
    """Mean squared error over every element of ``(X, Y)``, in eval mode.

    With missing labels (NaN in ``Y``): the mean over labelled channels of each channel's MSE
    over its finite entries (:func:`~gait2hip.train.losses.masked_mse` over the whole set).
    """
    was_training = model.training
    model.eval()
    if bool(torch.isfinite(Y).all()):
        total = 0.0
        for start in range(0, len(X), batch_size):
            pred = model(X[start : start + batch_size])
            total += float(torch.sum((pred - Y[start : start + batch_size]) ** 2))
        model.train(was_training)
        return total / Y.numel()
    sums = torch.zeros(Y.shape[-1], dtype=torch.float64, device=Y.device)
    counts = torch.zeros(Y.shape[-1], dtype=torch.float64, device=Y.device)
    for start in range(0, len(X), batch_size):
        s, c = masked_sse(model(X[start : start + batch_size]), Y[start : start + batch_size])
        sums += s.double()
        counts += c.double()
    model.train(was_training)
    present = counts > 0
    return float((sums[present] / counts[present]).mean()) if bool(present.any()) else float("nan")


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
    progress: ProgressSink | None = None,
    label: str = "training",
    checkpoint: str | Path | None = None,
    checkpoint_seconds: float = 60.0,
    augment: Augment | None = None,
    sample_weights: np.ndarray | None = None,
) -> TrainResult:
    """Train a freshly built model.

    Parameters
    ----------
    build
        Zero-argument factory returning a new model; called after seeding, so the initial
        weights follow ``config.seed``.
    X, Y
        Normalised training inputs [N, T, D_in] and targets [N, T, D_out]. NaN in ``Y`` marks a
        missing label (a mixed dataset, :mod:`gait2hip.data.mixing`): the loss is then
        :func:`~gait2hip.train.losses.masked_mse`, averaged over each channel's finite entries.
        Inputs must be finite; a target channel without any label is an error.
    config
        Optimisation settings.
    X_val, Y_val
        Validation set: enables early stopping (best weights restored).
    epochs
        Train exactly this many epochs with no validation (the paper's final retraining).
        Mutually exclusive with a validation set.
    progress
        Where progress goes (a ``rich.progress.Progress`` of the command layer, or anything with
        its ``add_task`` / ``update``); one task per call shows epochs, losses and ETA.
    label
        Text shown beside the progress bar.
    checkpoint
        File for the run's state, written at most every ``checkpoint_seconds`` (atomically) and
        removed when the run ends. If it exists when the call starts and was written for the same
        data and settings, training continues from it; one written for anything else is ignored.
    checkpoint_seconds
        Minimum wall time between two checkpoint writes (0: after every epoch).
    augment
        ``augment(x, y, generator) -> (x, y)`` applied to every training batch (e.g.
        :class:`gait2hip.train.augment.Augmenter`); its ``describe()`` enters the checkpoint
        fingerprint. Never applied to validation data.
    sample_weights
        One weight per training sample: each epoch then draws ``len(X)`` samples with
        replacement in proportion to them (domain-balanced batches) instead of a permutation.

    Returns
    -------
    TrainResult
    """
    validating = X_val is not None
    n_epochs = _check_run(X, Y, X_val, Y_val, epochs=epochs, config=config)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    run = _Run.start(build, X, Y, X_val, Y_val, config=config, n_epochs=n_epochs)
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    weights, extra = _batch_setup(augment, sample_weights, len(X))
    fingerprint = run_fingerprint(config, n_epochs, X, Y, X_val, Y_val, extra=extra) if checkpoint else ""
    saved = load_checkpoint(checkpoint, fingerprint) if checkpoint else None
    if saved is not None:
        run.resume(saved)
    done = len(run.history)
    stopped = validating and run.stale >= config.patience

    task = (
        progress.add_task(label, total=n_epochs, completed=done, status="resumed" if done else "")
        if progress is not None
        else None
    )
    run.clock_start()
    last_save = run.started
    for epoch in range(done + 1, n_epochs + 1):
        if stopped:
            break
        record = run.epoch(epoch, config=config, augment=augment, weights=weights)
        stopped = validating and run.stale >= config.patience
        if checkpoint is not None and time.perf_counter() - last_save >= checkpoint_seconds:
            run.save(checkpoint, fingerprint)
            last_save = time.perf_counter()
        if task is not None:
            progress.update(task, advance=1, status=run.status(record))
    if task is not None:
        progress.update(task, completed=n_epochs, visible=False)
    result = run.finish()
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return result


@dataclass
class _Run:
    """The state of one :func:`train_model` call: model, optimiser, data on the device, the best
    validation epoch so far, the history and the clock (across resumes)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    loss_fn: Callable
    device: torch.device
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor] | None
    history: list[dict] = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int = 0
    best_state: dict | None = None
    stale: int = 0
    earlier_seconds: float = 0.0
    earlier_cpu: float = 0.0
    started: float = 0.0
    cpu_started: float = 0.0

    @classmethod
    def start(cls, build, X, Y, X_val, Y_val, *, config: TrainConfig, n_epochs: int) -> _Run:
        """Seed, build the model, move the data, and set up optimiser, schedule and batch generator
        (in this order: the order of the random draws is the run's)."""
        device = resolve_device(config.device)
        seed_everything(config.seed)
        model = build().to(device)
        model.train()

        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)

        x_train, y_train = tensor(X), tensor(Y)
        val = (tensor(X_val), tensor(Y_val)) if X_val is not None else None
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lr_factor(config, n_epochs * steps_per_epoch, config.warmup_epochs * steps_per_epoch),
        )
        generator = torch.Generator().manual_seed(config.seed)
        # complete labels: the plain MSE (bit for bit as before); missing labels: the masked one
        loss_fn = nn.MSELoss() if bool(torch.isfinite(y_train).all()) else masked_mse
        return cls(model, optimizer, scheduler, generator, loss_fn, device, (x_train, y_train), val)

    def resume(self, saved: dict) -> None:
        """Continue from a checkpoint: weights, optimiser, schedule, generators, best so far, clock."""
        restore(
            saved,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            generator=self.generator,
            device=self.device,
        )
        self.history = saved["history"]
        self.best_loss, self.best_epoch, self.stale = saved["best_loss"], saved["best_epoch"], saved["stale"]
        self.best_state = saved["best_state"]
        self.earlier_seconds = saved["seconds"]
        self.earlier_cpu = saved.get("cpu_seconds", 0.0)

    def clock_start(self) -> None:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()

    def seconds(self) -> tuple[float, float]:
        """Wall and CPU seconds of the run so far, earlier calls included."""
        return (
            self.earlier_seconds + time.perf_counter() - self.started,
            self.earlier_cpu + time.process_time() - self.cpu_started,
        )

    def epoch(
        self, epoch: int, *, config: TrainConfig, augment: Augment | None, weights: torch.Tensor | None
    ) -> dict:
        """Train one epoch, score the validation set (keeping the best weights); the epoch's record."""
        train_loss = _train_epoch(
            self.model, *self.train, optimizer=self.optimizer, scheduler=self.scheduler,
            generator=self.generator, loss_fn=self.loss_fn, config=config, device=self.device,
            augment=augment, weights=weights,
        )  # fmt: skip
        record = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": float("nan"),
            "lr": self.optimizer.param_groups[0]["lr"],
        }
        if self.val is not None:
            val_loss = evaluate_loss(self.model, *self.val)
            record["val_loss"] = val_loss
            if val_loss < self.best_loss - config.min_delta:
                self.best_loss, self.best_epoch, self.stale = val_loss, epoch, 0
                self.best_state = copy.deepcopy(self.model.state_dict())
            else:
                self.stale += 1
        self.history.append(record)
        return record

    def status(self, record: dict) -> str:
        status = f"train {record['train_loss']:.4g}"
        if self.val is not None:
            status += f"  val {record['val_loss']:.4g} (best {self.best_loss:.4g} @ {self.best_epoch})"
        return status

    def save(self, checkpoint: Path, fingerprint: str) -> None:
        seconds, cpu_seconds = self.seconds()
        save_checkpoint(
            checkpoint,
            fingerprint=fingerprint,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            generator=self.generator,
            device=self.device,
            history=self.history,
            best=(self.best_loss, self.best_epoch, self.best_state, self.stale),
            seconds=seconds,
            cpu_seconds=cpu_seconds,
        )

    def finish(self) -> TrainResult:
        """The best weights (early stopping) on the CPU in eval mode, and the run's summary."""
        validating = self.val is not None
        if validating and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.to("cpu").eval()
        seconds, cpu_seconds = self.seconds()
        return TrainResult(
            model=self.model,
            best_epoch=self.best_epoch if validating else len(self.history),
            best_val_loss=self.best_loss if validating else float("nan"),
            epochs_run=len(self.history),
            history=self.history,
            seconds=seconds,
            cpu_seconds=cpu_seconds,
        )


def _batch_setup(
    augment: Augment | None, sample_weights: np.ndarray | None, n: int
) -> tuple[torch.Tensor | None, str]:
    """The checked sampling weights (None: a permutation per epoch) and what the batch options add
    to the checkpoint fingerprint."""
    extra = augment.describe() if augment is not None else ""
    if sample_weights is None:
        return None, extra
    weights = torch.as_tensor(np.asarray(sample_weights, dtype=np.float64))
    if weights.shape != (n,) or not bool((weights >= 0).all()) or float(weights.sum()) <= 0:
        raise ValueError("sample_weights must be one non-negative weight per training sample")
    return weights, extra + hashlib.sha256(weights.numpy().tobytes()).hexdigest()


def _check_run(
    X: np.ndarray,
    Y: np.ndarray,
    X_val: np.ndarray | None,
    Y_val: np.ndarray | None,
    *,
    epochs: int | None,
    config: TrainConfig,
) -> int:
    """The number of epochs of a :func:`train_model` call, after checking its arguments."""
    validating = X_val is not None
    if validating and Y_val is None:
        raise ValueError("X_val given without Y_val")
    if validating and epochs is not None:
        raise ValueError("give either a validation set (early stopping) or a fixed number of epochs")
    if len(X) == 0:
        raise ValueError("no training samples")
    if not np.isfinite(X).all() or (X_val is not None and not np.isfinite(X_val).all()):
        raise ValueError("inputs contain NaN/inf: only targets may be missing (NaN)")
    for name, targets in (("training", Y), ("validation", Y_val)):
        if targets is None:
            continue
        flat = np.asarray(targets).reshape(-1, np.asarray(targets).shape[-1])
        if np.isinf(flat).any():
            raise ValueError(f"infinite {name} targets (NaN marks a missing label; inf never does)")
        if name == "training" and (~np.isfinite(flat)).all(axis=0).any():
            empty = np.flatnonzero((~np.isfinite(flat)).all(axis=0)).tolist()
            raise ValueError(f"training target channel(s) {empty} have no label at all (all NaN)")
    n_epochs = int(epochs if epochs is not None else config.max_epochs)
    if n_epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {n_epochs}")
    return n_epochs


def _train_epoch(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
    loss_fn: nn.Module,
    config: TrainConfig,
    device: torch.device,
    augment: Augment | None = None,
    weights: torch.Tensor | None = None,
) -> float:
    """One pass over the shuffled (or weight-sampled) training set; the mean training loss."""
    if weights is None:
        order = torch.randperm(len(x_train), generator=generator)
    else:
        order = torch.multinomial(weights, len(x_train), replacement=True, generator=generator)
    running, seen = 0.0, 0
    for start in range(0, len(order), config.batch_size):
        # the batch order comes from a CPU generator whatever the device: same order as on CPU
        idx = order[start : start + config.batch_size].to(device)
        optimizer.zero_grad(set_to_none=True)
        xb, yb = x_train[idx], y_train[idx]
        if augment is not None:
            xb, yb = augment(xb, yb, generator)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        running += loss.item() * len(idx)
        seen += len(idx)
    return running / seen
