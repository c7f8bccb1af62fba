"""Out-of-distribution (OOD) detector: how far a gait cycle lies from a model's training cycles.

Fitted at save time from the training cycles' angle curves (degrees, at ``seq_len`` points)
and stored in the bundle's ``reference.safetensors``:

* ``ood_distance``: the cycle's curves flattened to one vector of T·D values, projected on
  the first k principal components of the training cycles (k explains
  ``OOD_VARIANCE_KEPT`` of their variance, at most ``OOD_MAX_COMPONENTS``). The distance is
  sqrt(Σ_j s_j² / λ_j + r² / ρ): the Mahalanobis distance in the PCA space plus the
  residual off that space (r² the squared reconstruction error, ρ the training cycles' mean
  squared residual, floored at ``OOD_RESIDUAL_FLOOR_DEG`` RMS per sample so that measurement
  noise absent from smooth training curves is not "far"). The threshold is the
  ``OOD_PERCENTILE`` percentile of the training cycles' out-of-fold distances
  (``OOD_FOLDS`` folds: each cycle scored against a PCA fitted without it, as a new
  patient's cycle is), fitted on at most ``OOD_MAX_CYCLES`` cycles (seeded subsample).
* ``ood_outside_fraction``: the fraction of the cycle's samples (time points × channels)
  whose z-score against the training cohort's mean ± SD curve exceeds ``OOD_Z_LIMIT``;
  flagged above ``OOD_OUTSIDE_FRACTION_LIMIT``.

A cycle is flagged when either exceeds its limit. Graded levels (:func:`ood_level`): **ok**
within both limits; **caution** up to ``OOD_UNRELIABLE_DISTANCE_FACTOR`` × the distance
threshold and ``OOD_UNRELIABLE_OUTSIDE_FRACTION`` outside; **unreliable** beyond either (no
curves are written then unless the user forces it). The unreliable limits were set on REAL
people: the 178 cycles of fukuchi2018 (30 healthy adults, overground, 3 speeds) reach at most
2.6 × the shipped bundles' threshold and 16 % outside (median 1.6 ×, 1 %), so a healthy
real person is at most "caution" with models trained on simulated data; an inverted hip
flexion sign on OpenSim's gait2392 example reaches 6.5 × and 25 %. Every user-facing sentence about these
limits (:func:`ood_reasons`, :func:`ood_legend`, the manifest's rules) is built from the
constants below, so changing one changes every message.

Examples
--------
Fit the detector on 60 smooth synthetic cycles (21 points × 2 channels, degrees) and score a
typical cycle and one shifted by 40°:

>>> import numpy as np
>>> from gait2hip.models.ood import fit_reference, ood_distance, ood_outside_fraction, ood_reasons
>>> rng = np.random.default_rng(0)
>>> phase = np.linspace(0, 2 * np.pi, 21)[None, :, None]
>>> cycles = 30 * np.sin(phase + rng.normal(0, 0.1, (60, 1, 2))) + rng.normal(0, 2, (60, 1, 2))
>>> reference = fit_reference(train_inputs=cycles)
>>> typical, shifted = cycles[:1], cycles[:1] + 40.0
>>> bool(ood_distance(typical, reference)[0] <= reference["ood_threshold"][0])
True
>>> distance = float(ood_distance(shifted, reference)[0])
>>> outside = float(ood_outside_fraction(shifted, reference)[0])
>>> [reason.split(" (")[0] for reason in ood_reasons(
...     distance=distance, threshold=float(reference["ood_threshold"][0]), outside=outside)]
... # doctest: +ELLIPSIS
['distance ... > ...', '100% of samples beyond ±4 SD of the training mean']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Out-of-distribution settings (see the module docstring).
OOD_VARIANCE_KEPT = 0.99
OOD_MAX_COMPONENTS = 30
OOD_PERCENTILE = 99.0
OOD_Z_LIMIT = 4.0
OOD_OUTSIDE_FRACTION_LIMIT = 0.05
OOD_FOLDS = 5
OOD_MAX_CYCLES = 2000
#: Above either of these a cycle is "unreliable" (the distance as a multiple of its threshold).
OOD_UNRELIABLE_DISTANCE_FACTOR = 3.0
OOD_UNRELIABLE_OUTSIDE_FRACTION = 0.20
#: The graded levels, mildest first.
OOD_LEVELS = ("ok", "caution", "unreliable")
#: The off-PCA residual is scaled by at least this RMS (deg per sample and channel), so
#: measurement noise absent from smooth (e.g. simulated) training curves is not "far away".
OOD_RESIDUAL_FLOOR_DEG = 1.0


def fit_reference(
    *,
    train_inputs: np.ndarray,
    train_targets: np.ndarray | None = None,
    ood_channels: Sequence[int] | None = None,
    groups: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """The training cohort's mean ± SD curves and the out-of-distribution model.

    Parameters
    ----------
    train_inputs
        Training cycles' inputs [N, T, D_in] in the bundle's input units (degrees), the
        same columns as the bundle's ``input_columns``.
    train_targets
        Training cycles' targets [N, T, D_out] in the bundle's target units; gives the
        target band drawn behind predictions.
    ood_channels
        Input channels the OOD measures look at (default: all).
        :func:`gait2hip.models.bundle.save_bundle` passes the angle channels, so per-cycle
        constants such as body mass are left out.
    groups
        The subject of each training cycle. The out-of-fold distances that set the threshold
        then leave whole SUBJECTS out (a new person's cycles have no sibling cycle in the
        training data); without it, single cycles are left out, which puts a subject's other
        cycles in the PCA and flags new people of a real lab far too often.

    Returns
    -------
    dict
        float32 arrays: ``input_mean_curve`` / ``input_sd_curve`` [T, D_in],
        ``target_mean_curve`` / ``target_sd_curve`` [T, D_out] (when targets are given),
        ``ood_channels`` [C] (int64), ``ood_center`` [T·C], ``ood_components`` [k, T·C],
        ``ood_variances`` [k], ``ood_residual_variance`` [1], ``ood_threshold`` [1],
        ``ood_train_distances`` [≤ 2000] (out of fold).
    """
    X = np.asarray(train_inputs, dtype=np.float64)
    if X.ndim != 3 or len(X) < 3:
        raise ValueError(f"train_inputs must be [N≥3, T, D]; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("train_inputs contain NaN or infinite values")
    channels = np.arange(X.shape[2]) if ood_channels is None else np.asarray(ood_channels, dtype=np.int64)
    if channels.size == 0 or channels.min() < 0 or channels.max() >= X.shape[2]:
        raise ValueError(f"ood_channels {channels.tolist()} do not index the {X.shape[2]} input channels")
    reference: dict[str, np.ndarray] = {
        "input_mean_curve": X.mean(axis=0),
        "input_sd_curve": X.std(axis=0, ddof=1),
    }
    if train_targets is not None:
        Y = np.asarray(train_targets, dtype=np.float64)
        if Y.shape[:2] != X.shape[:2]:
            raise ValueError(f"train_targets {Y.shape} and train_inputs {X.shape} disagree")
        # NaN = a label a training source lacks (mixed simulated + real data): over labelled cycles
        reference["target_mean_curve"] = np.nanmean(Y, axis=0)
        reference["target_sd_curve"] = np.nanstd(Y, axis=0, ddof=1)

    flat = X[:, :, channels].reshape(len(X), -1)
    subjects = None if groups is None else np.asarray(groups, dtype=str)
    if subjects is not None and len(subjects) != len(X):
        raise ValueError(f"{len(subjects)} groups for {len(X)} training cycles")
    if len(flat) > OOD_MAX_CYCLES:  # a seeded subsample describes the cohort as well, much faster
        keep = np.sort(np.random.default_rng(0).choice(len(flat), OOD_MAX_CYCLES, replace=False))
        flat = flat[keep]
        subjects = None if subjects is None else subjects[keep]
    pca = _fit_pca(flat)
    reference.update(pca)
    # The threshold comes from out-of-fold distances: a cycle scored against a PCA fitted
    # without it (without its subject, given groups), as a new patient's cycle will be.
    if subjects is not None and len(set(subjects)) >= OOD_FOLDS and len(flat) >= 5 * OOD_FOLDS:
        names = np.unique(subjects)
        fold_of = dict(zip(names, np.random.default_rng(0).permutation(len(names)) % OOD_FOLDS, strict=True))
        folds = np.array([fold_of[s] for s in subjects])
        distances = np.empty(len(flat))
        for fold in range(OOD_FOLDS):
            held_out = folds == fold
            distances[held_out] = _pca_distance(flat[held_out], _fit_pca(flat[~held_out]))
    elif len(flat) >= 5 * OOD_FOLDS:
        folds = np.random.default_rng(0).permutation(len(flat)) % OOD_FOLDS
        distances = np.empty(len(flat))
        for fold in range(OOD_FOLDS):
            held_out = folds == fold
            distances[held_out] = _pca_distance(flat[held_out], _fit_pca(flat[~held_out]))
    else:
        distances = _pca_distance(flat, pca)
    reference["ood_train_distances"] = distances
    reference["ood_threshold"] = np.array([np.percentile(distances, OOD_PERCENTILE)])
    arrays = {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in reference.items()}
    arrays["ood_channels"] = channels
    return arrays


def _fit_pca(flat: np.ndarray) -> dict[str, np.ndarray]:
    """Centre, first k principal axes and variances, and residual variance of flattened cycles."""
    center = flat.mean(axis=0)
    centred = flat - center
    variances, axes = np.linalg.eigh(centred.T @ centred / (len(flat) - 1))
    variances, axes = np.maximum(variances[::-1], 0.0), axes[:, ::-1]
    explained = np.cumsum(variances) / max(variances.sum(), 1e-12)
    k = int(np.searchsorted(explained, OOD_VARIANCE_KEPT) + 1)
    k = max(1, min(k, OOD_MAX_COMPONENTS, len(flat) - 2))
    floor = flat.shape[1] * OOD_RESIDUAL_FLOOR_DEG**2
    return {
        "ood_center": center,
        "ood_components": axes[:, :k].T,
        "ood_variances": np.maximum(variances[:k], 1e-12),
        "ood_residual_variance": np.array([max(variances[k:].sum(), floor)]),
    }


def _pca_distance(flat: np.ndarray, pca: Mapping[str, np.ndarray]) -> np.ndarray:
    centred = flat - np.asarray(pca["ood_center"], dtype=np.float64)
    components = np.asarray(pca["ood_components"], dtype=np.float64)
    scores = centred @ components.T
    mahalanobis = (scores**2 / np.asarray(pca["ood_variances"], dtype=np.float64)).sum(axis=1)
    residual = ((centred - scores @ components) ** 2).sum(axis=1)
    return np.sqrt(mahalanobis + residual / float(pca["ood_residual_variance"][0]))


def _ood_view(cycles: np.ndarray, reference: Mapping[str, np.ndarray]) -> np.ndarray:
    """The OOD channels of cycles [N, T, D_in] (all channels when the reference predates them)."""
    x = np.asarray(cycles, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"cycles must be [N, T, D]; got shape {x.shape}")
    if "ood_channels" in reference:
        x = x[:, :, np.asarray(reference["ood_channels"], dtype=np.int64)]
    return x


def ood_distance(cycles: np.ndarray, reference: Mapping[str, np.ndarray]) -> np.ndarray:
    """PCA-Mahalanobis + residual distance of each cycle [N, T, D_in] to the training cycles."""
    x = _ood_view(cycles, reference)
    return _pca_distance(x.reshape(len(x), -1), reference)


def ood_outside_fraction(cycles: np.ndarray, reference: Mapping[str, np.ndarray]) -> np.ndarray:
    """Fraction of each cycle's samples beyond ±``OOD_Z_LIMIT`` SD of the training curves."""
    channels = np.asarray(reference.get("ood_channels", np.arange(np.shape(cycles)[2])), dtype=np.int64)
    mean = np.asarray(reference["input_mean_curve"], dtype=np.float64)[:, channels]
    sd = np.maximum(np.asarray(reference["input_sd_curve"], dtype=np.float64)[:, channels], 1e-6)
    z = (_ood_view(cycles, reference) - mean) / sd
    return (np.abs(z) > OOD_Z_LIMIT).mean(axis=(1, 2))


# ---------------------------------------------------------------------- messages
def _ordinal(value: float) -> str:
    number = f"{value:g}"
    if number.endswith(("11", "12", "13")) or not number[-1].isdigit():
        return number + "th"
    return number + {"1": "st", "2": "nd", "3": "rd"}.get(number[-1], "th")


def distance_rule() -> str:
    """How the distance threshold is chosen, e.g. '99th percentile of training cycles, out of fold'."""
    return f"{_ordinal(OOD_PERCENTILE)} percentile of training cycles, out of fold"


def outside_rule() -> str:
    """The outside-fraction limit, e.g. '> 5 % of samples beyond ±4 SD of the training mean'."""
    return (
        f"> {OOD_OUTSIDE_FRACTION_LIMIT * 100:g} % of samples beyond ±{OOD_Z_LIMIT:g} SD of the training mean"
    )


def outside_label() -> str:
    """Column heading of the outside fraction, e.g. '> ±4 SD'."""
    return f"> ±{OOD_Z_LIMIT:g} SD"


def outside_limit_text() -> str:
    """The outside-fraction limit as a percentage, e.g. '5%'."""
    return f"{OOD_OUTSIDE_FRACTION_LIMIT:.0%}"


def ood_reasons(*, distance: float, threshold: float, outside: float) -> list[str]:
    """Why a cycle is out of distribution (empty when it is not).

    Parameters
    ----------
    distance, threshold
        The cycle's :func:`ood_distance` and the bundle's threshold (NaN: no OOD reference).
    outside
        The cycle's :func:`ood_outside_fraction` (0 when unknown).
    """
    reasons = []
    if math.isfinite(distance) and distance > threshold:
        reasons.append(f"distance {distance:.1f} > {threshold:.1f} ({distance_rule()})")
    if outside > OOD_OUTSIDE_FRACTION_LIMIT:
        reasons.append(f"{outside:.0%} of samples beyond ±{OOD_Z_LIMIT:g} SD of the training mean")
    return reasons


def ood_level(*, distance: float, threshold: float, outside: float) -> str:
    """'ok', 'caution' or 'unreliable' (see the module docstring); 'ok' without an OOD reference."""
    ratio = distance / threshold if math.isfinite(distance) and threshold > 0 else 0.0
    if ratio > OOD_UNRELIABLE_DISTANCE_FACTOR or outside > OOD_UNRELIABLE_OUTSIDE_FRACTION:
        return "unreliable"
    if ood_reasons(distance=distance, threshold=threshold, outside=outside):
        return "caution"
    return "ok"


def level_rules() -> str:
    """The graded levels in one sentence, built from the constants."""
    return (
        "ok: not flagged; caution: flagged, distance up to "
        f"{OOD_UNRELIABLE_DISTANCE_FACTOR:g} × the threshold and ≤ "
        f"{OOD_UNRELIABLE_OUTSIDE_FRACTION * 100:g} % "
        "of samples beyond it; unreliable: above either, or an input convention error (sign, side) — "
        "no curves are written for it unless forced"
    )


def ood_legend() -> str:
    """One paragraph explaining the OOD levels, for the end of a command's output."""
    return (
        "OOD = outside the training cohort (prediction less trustworthy): Mahalanobis distance of the "
        "cycle's angle curves in the training cycles' PCA space (+ residual); flagged above the "
        f"{_ordinal(OOD_PERCENTILE)} percentile of training cycles, or when > "
        f"{OOD_OUTSIDE_FRACTION_LIMIT * 100:g} % of samples are beyond ±{OOD_Z_LIMIT:g} SD. "
        f"Levels — {level_rules()}."
    )


def ood_manifest_entry(reference: Mapping[str, np.ndarray], input_columns: Sequence[str]) -> dict[str, Any]:
    """The manifest's ``ood`` record for a fitted reference (measure, threshold and the rules)."""
    channels = reference.get("ood_channels", range(len(input_columns)))
    return {
        "measure": "pca_mahalanobis_residual",
        "description": (
            "sqrt(sum_j s_j^2/lambda_j + r^2/rho): Mahalanobis distance of the cycle's angle "
            "curves (degrees, flattened T x D) in the space of the training cycles' first k "
            "principal components, plus the off-space residual r^2 over the training mean rho "
            f"(floored at {OOD_RESIDUAL_FLOOR_DEG:g} deg RMS per sample)"
        ),
        "components": int(np.shape(reference["ood_components"])[0]),
        "columns": [input_columns[i] for i in channels],
        "variance_kept": OOD_VARIANCE_KEPT,
        "threshold": float(reference["ood_threshold"][0]),
        "threshold_rule": f"{OOD_PERCENTILE:g}th percentile of the training cycles' out-of-fold distances",
        "z_limit": OOD_Z_LIMIT,
        "outside_fraction_limit": OOD_OUTSIDE_FRACTION_LIMIT,
        "outside_rule": (
            f"flag when more than {OOD_OUTSIDE_FRACTION_LIMIT:.0%} of the cycle's samples lie "
            f"beyond ±{OOD_Z_LIMIT:g} SD of the training mean curve"
        ),
    }
