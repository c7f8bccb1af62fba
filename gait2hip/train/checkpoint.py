"""Checkpoints of a training run: what a run was for (fingerprint), saving and restoring its state.

A checkpoint holds the weights, optimiser, schedule, random generators, early-stopping state and
history; it is written atomically and only restored for the same settings and data.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn


def restore(saved: dict, *, model, optimizer, scheduler, generator, device: torch.device) -> None:
    """Put a checkpoint's weights, optimiser, schedule and random states back."""
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch_rng"])
    if device.type == "cuda" and "cuda_rng" in saved:
        torch.cuda.set_rng_state(saved["cuda_rng"], device)


def run_fingerprint(config, n_epochs: int, *arrays: np.ndarray | None, extra: str = "") -> str:
    """What a checkpoint must have been written for: the settings, the epoch budget and the data.

    Not the thread count: it changes where a run goes, not what comes out, so a run resumed with
    other threads keeps its checkpoint.
    """
    settings = {k: v for k, v in asdict(config).items() if k != "threads"}
    digest = hashlib.sha256(json.dumps({**settings, "epochs": n_epochs}, sort_keys=True).encode())
    if extra:
        digest.update(extra.encode())
    for array in arrays:
        if array is not None:
            array = np.ascontiguousarray(array, dtype=np.float32)
            digest.update(str(array.shape).encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def load_checkpoint(path: Path, fingerprint: str) -> dict | None:
    if not path.exists():
        return None
    try:
        # weights_only: tensors and plain containers only, never arbitrary pickled objects
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a truncated or foreign file: start again rather than fail
        return None
    if not isinstance(saved, dict) or saved.get("fingerprint") != fingerprint:
        return None
    return saved


def save_checkpoint(
    path: Path,
    *,
    fingerprint: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
    device: torch.device,
    history: list[dict],
    best: tuple[float, int, dict | None, int],
    seconds: float,
    cpu_seconds: float,
) -> None:
    best_loss, best_epoch, best_state, stale = best
    state = {
        "fingerprint": fingerprint,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "history": history,
        "best_loss": best_loss,
        "best_epoch": best_epoch,
        "best_state": best_state,
        "stale": stale,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)
