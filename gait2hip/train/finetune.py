"""Fine-tuning a bundle to a lab's own labelled cycles (a few subjects, whatever targets it has).

A lab with force plates labels a handful of its people (``gait2hip label``); :func:`finetune`
adapts a shipped bundle to them and :meth:`FinetuneResult.save` writes a new bundle recording
its parent, the lab data's card and its own validation scores.

What is adapted (defaults for tiny data): only the OUTPUT HEAD. The network up to its last
linear layer stays the parent's (frozen, eval mode); its features ``F(t)`` [T, width] of the
lab's cycles are computed once, and the head is refitted in closed form as

    y(t) = ȳ_lab(t) + (F(t) − F̄_lab(t)) · W        (standardised target units)

— the lab's mean curve plus a linear map of how a cycle's features deviate from the lab's mean
features, ``W`` a ridge solution shrunk towards an anchor: the parent's head (``W0``) or zero.
The anchor and the shrinkage λ (the closed-form counterpart of a small learning rate with early
stopping) are chosen on HELD-OUT SUBJECTS: GroupKFold over the lab's subjects (≤ ``folds``),
the pair with the lowest out-of-fold error wins, then the head is refitted on every subject.
Data the parent already fits (``y = F·W0 + b0``) give back the parent's predictions for any λ
with the parent anchor. The masked squared error ignores targets the lab does not have (NaN, or
absent columns: moments only is normal): each output's head is fitted on its own labels, and an
output with no label keeps the parent's head (and offset). Anything the model adds after its
head (a mean-curve prior) is taken out of the new offset; an output squashed after its head (a
non-negative softplus force) is refitted as if linear, which is approximate. The per-time-point
part of the new head (``ȳ_lab(t) − F̄_lab(t)·W``) is stored as the bundle's ``output_offset``
[members, T, D] (bundle format 2); the input normalisation is the parent's (re-standardising the
inputs to the lab's angle statistics did not help on fukuchi2018 in a quick check, so it is not
done).

Every ensemble member of the parent is adapted the same way, to the lab's labels plus its own
deviation from the ensemble mean on each cycle: the members keep their disagreement (the band's
spread term), and labels the ensemble already fits leave every member as it was. The out-of-fold
predictions give the new bundle's validation scores and its calibrated band
(:mod:`gait2hip.models.uncertainty`).

It refuses (:class:`~gait2hip.errors.Gait2HipInputError`) data that cannot support it: fewer
than ``min_subjects`` subjects, none of the bundle's targets, input angles missing, targets in
the wrong unit (raw N or N m without body mass, or values whose size is not that of the
parent's training targets, e.g. N·m instead of N·m/kg).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import Bundle
from gait2hip.models.ood import ood_distance
from gait2hip.models.uncertainty import (
    band_scale,
    fit_band,
    member_stats,
    ood_inflation,
    spread_reference,
    uncertainty_record,
)
from gait2hip.train.folds import group_kfold
from gait2hip.train.labdata import lab_arrays

ANCHORS = ("parent", "zero")


#: The head refit used without held-out subjects (one person, ``--one-person``; the learning curve's
#: k = 1): the lab's mean-curve anchor with strong shrinkage. Measured on fukuchi2018 (README,
#: learning curve, 5 draws): it helps where the parent never saw the lab (RMSE 0.192 → 0.143 Nm/kg
#: from a simulated-only parent) and hurts where the parent already fits it (0.113 → 0.124).
ONE_PERSON_FIXED: tuple[str, float] = ("zero", 1000.0)


@dataclass(frozen=True)
class FinetuneSettings:
    """How :func:`finetune` adapts a bundle (defaults for a few subjects).

    Parameters
    ----------
    lambdas
        Ridge shrinkages tried (per cycle-sample; larger = closer to the anchor).
    anchors
        Head anchors tried: 'parent' (the parent's head) and/or 'zero' (the lab's mean curve).
    folds
        GroupKFold folds over the lab's subjects (at most one per subject).
    min_subjects
        Fewer subjects are refused (the shrinkage is chosen on held-out subjects).
    fixed
        ``(anchor, lambda)`` to use without cross-validation (no held-out subjects needed, so
        no band or validation scores: for benchmarks with one subject).
    """

    lambdas: tuple[float, ...] = (10.0, 100.0, 1000.0, 10000.0)
    anchors: tuple[str, ...] = ANCHORS
    folds: int = 5
    min_subjects: int = 2
    fixed: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        if not self.lambdas or min(self.lambdas) <= 0:
            raise ValueError("lambdas must be positive")
        if not self.anchors or any(a not in ANCHORS for a in self.anchors):
            raise ValueError(f"anchors must be among {ANCHORS}")
        if self.folds < 2 or self.min_subjects < 1:
            raise ValueError(f"invalid fine-tuning settings: {self}")
        if self.fixed is not None and (self.fixed[0] not in ANCHORS or self.fixed[1] <= 0):
            raise ValueError(f"fixed must be (anchor in {ANCHORS}, lambda > 0)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FinetuneResult:
    """The adapted members, their output offsets and what fine-tuning measured."""

    parent: Bundle
    members: list[nn.Module]
    offsets: np.ndarray
    choice: dict[str, Any]
    scores: dict[str, Any]
    band: dict[str, np.ndarray] | None
    data: GaitDataset
    settings: FinetuneSettings
    present: tuple[str, ...] = field(default_factory=tuple)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Ensemble-mean predictions [N, T, D] in the parent's target units for inputs [N, T, D_in]."""
        X = np.asarray(inputs, dtype=np.float32)
        return (_predict(self.parent, self.members, X) + self.offsets[:, None]).mean(axis=0)

    def save(self, path: str | Path, *, description: str = "", data_card: dict | None = None) -> Path:
        """Write the adapted bundle (the parent's manifest with the new head, card, scores, band)."""
        from gait2hip.models.bundle import save_bundle
        from gait2hip.models.datacard import data_card_from_dataset
        from gait2hip.models.ensemble import spec_from_bundle

        parent = self.parent
        card = data_card or data_card_from_dataset(self.data)
        calibration = {
            "data": card.get("name", ""),
            "subjects": int(self.data.meta["subject_id"].nunique()),
            "cycles": len(self.data),
            "how": "out-of-fold residuals of the fine-tuning folds (held-out lab subjects)",
        }
        extra = {
            **dict(parent.manifest.get("extra") or {}),
            "finetune": {
                **self.settings.to_dict(),
                **self.choice,
                "subjects": sorted(set(self.data.meta["subject_id"].astype(str))),
            },
        }
        reference = {k: v for k, v in parent.reference.items() if not k.startswith("band_")}
        reference["output_offset"] = self.offsets.astype(np.float32)
        spec = spec_from_bundle(
            parent,
            model=self.members[0],
            members=self.members[1:],
            reference=reference,
            data_card=card,
            metrics=self.scores,
            description=description or f"{parent.name} fine-tuned on {card.get('name') or 'lab data'}",
            default_for=None,
            extra=extra,
            band=self.band,
            uncertainty=(
                uncertainty_record(members=len(self.members), calibration=calibration) if self.band else None
            ),
            parent={
                "name": parent.name,
                "description": str(parent.manifest.get("description", "")),
                "weights_sha256": parent.manifest.get("files", {}).get("weights.safetensors", ""),
                "data_card": parent.manifest.get("data_card", {}),
                "metrics": parent.manifest.get("metrics", {}),
                "fine_tuned_targets": list(self.present),
            },
        )
        return save_bundle(path, spec)


# ---------------------------------------------------------------------- the head refit
def _head(member: nn.Module, d_out: int) -> nn.Linear:
    """The member's output head: its last linear layer with ``d_out`` outputs."""
    heads = [m for m in member.modules() if isinstance(m, nn.Linear) and m.out_features == d_out]
    if not heads:
        raise Gait2HipInputError(f"the model has no output layer with {d_out} outputs to fine-tune.")
    return heads[-1]


@torch.no_grad()
def _features(member: nn.Module, head: nn.Linear, z: torch.Tensor) -> np.ndarray:
    """What the head sees for normalised inputs ``z``: [N, T, width] (float64)."""
    captured: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0].detach()))
    try:
        member.eval()(z)
    finally:
        hook.remove()
    return torch.cat(captured).double().numpy()


def _head_stats(F: np.ndarray, Ys: np.ndarray) -> list[tuple[np.ndarray, ...] | None]:
    """Per output: Gram matrix, cross-products and means of the cycles labelled for it (or None)."""
    width = F.shape[2]
    stats: list[tuple[np.ndarray, ...] | None] = []
    for d in range(Ys.shape[2]):
        labelled = np.isfinite(Ys[:, :, d]).all(axis=1)
        if not labelled.any():
            stats.append(None)
            continue
        Fd, yd = F[labelled], Ys[labelled, :, d]
        F_mean, y_mean = Fd.mean(axis=0), yd.mean(axis=0)
        A = (Fd - F_mean).reshape(-1, width)
        stats.append((A.T @ A, A.T @ (yd - y_mean).reshape(-1), F_mean, y_mean))
    return stats


def _fit_head(
    stats: list[tuple[np.ndarray, ...] | None], *, W0: np.ndarray, b0: np.ndarray, anchor: str, lam: float,
    n_points: int,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Head weights [width, D] and per-time-point offset [T, D] (standardised units), per output
    on the cycles labelled for it; an output without labels keeps the parent's head."""
    width = W0.shape[0]
    W = W0.copy()
    offset = np.tile(b0, (n_points, 1))
    for d, entry in enumerate(stats):
        if entry is None:
            continue
        gram, cross, F_mean, y_mean = entry
        start = W0[:, d] if anchor == "parent" else np.zeros(width)
        W[:, d] = start + np.linalg.solve(gram + lam * np.eye(width), cross - gram @ start)
        offset[:, d] = y_mean - F_mean @ W[:, d]
    return W, offset


def _choose(
    F: np.ndarray, Ys: np.ndarray, folds: list[np.ndarray], *, W0: np.ndarray, b0: np.ndarray,
    settings: FinetuneSettings,
) -> tuple[tuple[str, float], dict[str, float]]:  # fmt: skip
    """The (anchor, λ) with the lowest out-of-fold mean squared error, and every pair's error."""
    sse: dict[str, float] = {}
    count = 0
    for val in folds:
        train = np.setdiff1d(np.arange(len(F)), val)
        stats = _head_stats(F[train], Ys[train])
        count += int(np.isfinite(Ys[val]).sum())
        for anchor in settings.anchors:
            for lam in settings.lambdas:
                W, offset = _fit_head(stats, W0=W0, b0=b0, anchor=anchor, lam=lam, n_points=F.shape[1])
                residual = np.einsum("ntw,wd->ntd", F[val], W) + offset - Ys[val]
                key = f"{anchor}:{lam:g}"
                sse[key] = sse.get(key, 0.0) + float(np.nansum(residual**2))
    errors = {key: value / max(count, 1) for key, value in sse.items()}
    best = min(errors, key=errors.__getitem__)
    anchor, lam = best.split(":")
    return (anchor, float(lam)), errors


def _normalisers(bundle: Bundle) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    norm = bundle.manifest["normalisation"]
    target = norm.get("target") or {
        "mean": [0.0] * len(bundle.target_columns),
        "std": [1.0] * len(bundle.target_columns),
    }
    return (
        np.asarray(norm["input"]["mean"]),
        np.asarray(norm["input"]["std"]),
        np.asarray(target["mean"]),
        np.asarray(target["std"]),
    )


@torch.no_grad()
def _predict(bundle: Bundle, members: list[nn.Module], X: np.ndarray) -> np.ndarray:
    """[M, N, T, D] outputs of ``members`` (parent normalisation, no output offset) in target units."""
    x_mean, x_std, y_mean, y_std = _normalisers(bundle)
    z = torch.as_tensor(((X - x_mean) / x_std).astype(np.float32))
    return np.stack([m.eval()(z).numpy() * y_std + y_mean for m in members]).astype(np.float32)


def finetune(
    bundle: Bundle, dataset: GaitDataset, *, settings: FinetuneSettings | None = None
) -> FinetuneResult:
    """Adapt ``bundle``'s output head to a lab's labelled cycles (see the module docstring).

    Parameters
    ----------
    bundle
        The parent bundle (e.g. ``load_bundle('transformer-joint-default')``).
    dataset
        The lab's cycles: the 10 angles and any of the bundle's targets (per kg, or raw with
        ``mass_kg`` in the metadata); ``meta['subject_id']`` groups the held-out folds.
    settings
        :class:`FinetuneSettings` (defaults for a few subjects).

    Returns
    -------
    FinetuneResult
        ``.save(path)`` writes the new bundle; ``.predict(X)`` predicts with it.

    Raises
    ------
    Gait2HipInputError
        Data that cannot support fine-tuning (see the module docstring).
    """
    settings = settings or FinetuneSettings()
    X, Y, present = lab_arrays(bundle, dataset)
    subjects = dataset.meta["subject_id"].to_numpy(dtype=str)
    n_subjects = len(set(subjects))
    _check_subjects(dataset, n_subjects, settings)
    x_mean, x_std, y_mean, y_std = _normalisers(bundle)
    z = torch.as_tensor(((X - x_mean) / x_std).astype(np.float32))
    Ys = (Y - y_mean) / y_std
    d_out = len(bundle.target_columns)
    parents = bundle.ensemble
    heads = [_head(member, d_out) for member in parents]
    features = [_features(member, head, z) for member, head in zip(parents, heads, strict=True)]
    anchors = [(h.weight.detach().double().numpy().T, h.bias.detach().double().numpy()) for h in heads]
    # member m is refitted to the labels plus its own deviation from the ensemble mean on each cycle:
    # the members keep their disagreement (the band's spread term), and labels the ENSEMBLE already
    # fits leave every member as it was (one member: the labels themselves)
    parent = bundle.predict_members(X)
    targets = [Ys + (p - parent.mean(axis=0)) / y_std for p in parent]

    errors: dict[str, float] = {}
    oof = None
    if settings.fixed is not None:
        anchor, lam = settings.fixed
    else:
        folds = group_kfold(subjects, n_splits=min(settings.folds, n_subjects))
        W0, b0 = anchors[0]
        (anchor, lam), errors = _choose(features[0], targets[0], folds, W0=W0, b0=b0, settings=settings)
        oof = np.full((len(parents), *Y.shape), np.nan)
        for m, (F, (W0, b0)) in enumerate(zip(features, anchors, strict=True)):
            for val in folds:
                train = np.setdiff1d(np.arange(len(X)), val)
                W, offset = _fit_head(
                    _head_stats(F[train], targets[m][train]),
                    W0=W0,
                    b0=b0,
                    anchor=anchor,
                    lam=lam,
                    n_points=F.shape[1],
                )
                oof[m, val] = (np.einsum("ntw,wd->ntd", F[val], W) + offset) * y_std + y_mean
    refit = np.isfinite(Ys).all(axis=1).any(axis=0)  # outputs with any fully labelled cycle
    parent_offsets = bundle.reference.get("output_offset")
    members, offsets = [], []
    for m, (member, F, (W0, b0)) in enumerate(zip(parents, features, anchors, strict=True)):
        W, offset = _fit_head(
            _head_stats(F, targets[m]), W0=W0, b0=b0, anchor=anchor, lam=lam, n_points=F.shape[1]
        )
        # what the model adds after its head (e.g. a mean-curve prior), averaged over the lab's cycles
        with torch.no_grad():
            after_head = (member.eval()(z).double().numpy() - (F @ W0 + b0)).mean(axis=0)
        adapted = copy.deepcopy(member).eval()
        new_head = _head(adapted, d_out)
        with torch.no_grad():
            new_head.weight.copy_(torch.as_tensor(W.T, dtype=new_head.weight.dtype))
            new_head.bias.copy_(torch.as_tensor(np.where(refit, 0.0, b0), dtype=new_head.bias.dtype))
        kept = np.zeros_like(offset) if parent_offsets is None else np.asarray(parent_offsets[m]) / y_std
        members.append(adapted)
        offsets.append(np.where(refit, offset - after_head, kept) * y_std)
    choice = {"anchor": anchor, "lambda": lam, "cv_errors": errors}
    scores, band = _validation(bundle, X, Y, oof, subjects) if oof is not None else ({}, None)
    scores.update({"n_subjects": n_subjects, "n_cycles": len(X), "anchor": anchor, "lambda": lam})
    if oof is None:
        scores["protocol"] = "none: a fixed head refit, no held-out subject checked it (no band)"
    return FinetuneResult(
        parent=bundle, members=members, offsets=np.stack(offsets), choice=choice, scores=scores,
        band=band, data=dataset, settings=settings, present=present,
    )  # fmt: skip


def _check_subjects(dataset: GaitDataset, n_subjects: int, settings: FinetuneSettings) -> None:
    """Refuse data of fewer people than the held-out choice needs (unless a fixed refit was asked)."""
    if settings.fixed is not None or n_subjects >= max(2, settings.min_subjects):
        return
    counts = dataset.meta.groupby("subject_id").size()
    held = ", ".join(f"{name}: {count} cycle(s)" for name, count in counts.items())
    raise Gait2HipInputError(
        f"the lab data holds {n_subjects} subject(s) ({held}); fine-tuning needs at least "
        f"{max(2, settings.min_subjects)} different people so that how far to move from the parent "
        "is chosen on a person it did not fit (cycles of one person — e.g. a right and a mirrored "
        "left cycle — cannot tell that person from the lab).",
        file=dataset.attrs.get("path") or dataset.attrs.get("name"),
        column="subject_id",
        fix="label at least one more person with a complete heel-strike-to-heel-strike cycle on force "
        "plates, each with its own subject id (the 'subject' column of a gait2hip label manifest); or, "
        "knowingly, --one-person: a fixed refit with no held-out score and no band.",
    )


def _rmse(residual: np.ndarray) -> float:
    return float(np.sqrt(np.nanmean(residual**2)))


def _validation(
    bundle: Bundle, X: np.ndarray, Y: np.ndarray, oof: np.ndarray, subjects: np.ndarray
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Out-of-fold scores (parent zero-shot vs fine-tuned) and the band fitted on the same residuals."""
    parent = bundle.predict_members(X)
    mean, spread = member_stats(oof)
    inflation = (
        ood_inflation(ood_distance(X, bundle.reference), bundle.manifest["ood"]["threshold"])
        if bundle.has_ood
        else None
    )
    residual = Y - mean
    scale = band_scale(
        spread=spread,
        band_spread=spread_reference(spread, np.isfinite(Y)),
        inflation=inflation,
        shape=residual.shape,
    )
    band = fit_band(residual, scale=scale, spread=spread)
    units = sorted({u for j, u in enumerate(bundle.target_units) if np.isfinite(Y[:, :, j]).any()})
    scores: dict[str, Any] = {
        "protocol": "out-of-fold on held-out lab subjects (GroupKFold over subjects)",
        "units": units[0] if len(units) == 1 else units,
        "rmse": _rmse(residual),
        "parent_rmse": _rmse(Y - parent.mean(axis=0)),
        "per_target_rmse": {
            c: _rmse(residual[:, :, j])
            for j, c in enumerate(bundle.target_columns)
            if np.isfinite(Y[:, :, j]).any()
        },
        "subjects_sha256": hashlib.sha256("\x1f".join(sorted(set(subjects))).encode()).hexdigest(),
    }
    return scores, band
