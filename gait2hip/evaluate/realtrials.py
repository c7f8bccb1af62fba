"""Scoring on real trials: one measured gait cycle each, zero-shot (built by
:mod:`gait2hip.bench.realtrials`).

A real trial holds only some reference targets (gait2392: forces and moments; the Moco trial:
moments only), so every score uses the channels the trial has (:attr:`RealTrial.available`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gait2hip.data.dataset import GaitDataset
from gait2hip.evaluate.metrics import channel_pearson_r, channel_r2, pooled_r2


@dataclass
class RealTrial:
    """One measured gait cycle: inputs, the reference targets that exist, and how they were made."""

    name: str
    dataset: GaitDataset  # one cycle, 10 angles (deg), 17 targets per kg (NaN where unavailable)
    available: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def real_trial_rows(
    trials: Sequence[RealTrial],
    truth: np.ndarray,
    prediction: np.ndarray,
    *,
    columns: Sequence[str],
    base: Mapping[str, object],
) -> list[dict]:
    """One metric row per trial that has any of ``columns``.

    Parameters
    ----------
    trials
        The real trials, in the order of the rows of ``truth`` and ``prediction``.
    truth, prediction
        [n_trials, T, len(columns)] in the scoring unit (per kg); truth NaN where unavailable.
    columns
        The target columns of ``truth`` and ``prediction``.
    base
        Fields copied into every row (protocol, model, target, seed, units).
    """
    rows = []
    for i, trial in enumerate(trials):
        have = [c for c in columns if c in trial.available]
        if not have:
            continue
        idx = [list(columns).index(c) for c in have]
        t = truth[i : i + 1][:, :, idx]
        p = prediction[i : i + 1][:, :, idx]
        err = t - p
        r = channel_pearson_r(t, p)
        rows.append(
            {
                **base,
                "trial": trial.name,
                "n_channels": len(have),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "mae": float(np.mean(np.abs(err))),
                "r_channel": float(np.nanmean(r)),
                "r2_channel": float(np.nanmean(channel_r2(t, p))),
                "r2_paper": pooled_r2(t, p),
                **{f"r_{c}": float(v) for c, v in zip(have, r, strict=True)},
            }
        )
    return rows
