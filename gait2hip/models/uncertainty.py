"""Prediction bands: a central 90 % interval per time point and output, cheap at inference.

A bundle may hold several ensemble members (same architecture and normalisation, other seeds)
and a calibration fitted on subjects it was not trained on. For a cycle with members'
predictions ``p_m(t, c)`` (``m = 1..M``), the band is::

    mean(t, c)   = average of the members' predictions
    spread(t, c) = SD of the members' predictions (0 for one member)
    scale(t, c)  = max(1, spread / band_spread(t, c)) · max(1, ood_distance / ood_threshold)
    lower, upper = mean + band_lo(t, c) · scale,  mean + band_hi(t, c) · scale

``band_hi`` = −``band_lo`` is the 90 % quantile of the calibration subjects' absolute residuals
``|y_true − mean|`` divided by their own ``scale`` (split-conformal with a normalised score,
pooled over ±:data:`BAND_SMOOTH` time points, with the finite-sample correction), so it carries
the residual error measured on held-out subjects. (``fit_band(symmetric=False)`` gives the 5 %
and 95 % signed quantiles instead: narrower on the calibration data, but it bakes in that
data's bias — on fukuchi2018 it covered only 77 % of the simulated held-out samples, the
symmetric band 95 %.) ``band_spread`` is the members' mean spread on the
calibration cycles (floored at its mean over the cycle, :func:`spread_reference`): the band widens
where the members disagree more than they did there.

The OOD rule (:func:`ood_inflation`): a cycle whose out-of-distribution distance exceeds the
bundle's threshold has its band widened by the ratio distance / threshold (1 inside the
training cohort), so the flag and the band tell one story; the calibration divides the
residuals by the same factor, so the band stays calibrated on the data it was fitted on.

Examples
--------
>>> import numpy as np
>>> from gait2hip.models.uncertainty import band_limits, coverage, fit_band
>>> rng = np.random.default_rng(0)
>>> residuals = rng.normal(0.0, 0.1, (400, 11, 1))            # y_true − prediction
>>> band = fit_band(residuals)
>>> bool(np.allclose(band["band_hi"], 0.1645, atol=0.03))   # ≈ 1.645 σ, the 90 % quantile of abs(N(0, σ))
True
>>> lower, upper = band_limits(np.zeros((400, 11, 1)), band)
>>> round(coverage(rng.normal(0.0, 0.1, (400, 11, 1)), lower, upper)["coverage"], 2)
0.9
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: The band's nominal coverage (central interval).
LEVEL = 0.9
#: Residuals of ±this many time points are pooled for each point's quantiles.
BAND_SMOOTH = 2
#: Symmetric band (± a quantile of |residual| / scale) rather than signed quantiles: see :func:`fit_band`.
SYMMETRIC = True
#: Keys the band adds to a bundle's reference arrays.
BAND_KEYS = ("band_lo", "band_hi", "band_spread")


def ood_rule() -> str:
    """The OOD widening rule in words (manifest, serve, README)."""
    return "band × max(1, OOD distance / OOD threshold): an out-of-distribution cycle gets a wider band"


def ood_inflation(distance: Any, threshold: Any) -> np.ndarray:
    """max(1, distance / threshold) per cycle; 1 where either is NaN (no OOD reference)."""
    d = np.asarray(distance, dtype=np.float64)
    t = np.asarray(threshold, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = d / t
    return np.where(np.isfinite(ratio), np.maximum(ratio, 1.0), 1.0)


def member_stats(member_predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ensemble mean and SD over the first axis of [M, N, T, D] (SD 0 for one member)."""
    p = np.asarray(member_predictions, dtype=np.float64)
    if p.ndim != 4:
        raise ValueError(f"member predictions must be [M, N, T, D]; got {p.shape}")
    spread = p.std(axis=0) if len(p) > 1 else np.zeros(p.shape[1:])
    return p.mean(axis=0), spread


def band_scale(
    *,
    spread: np.ndarray | None,
    band_spread: np.ndarray | None,
    inflation: np.ndarray | None,
    shape: tuple[int, ...],
) -> np.ndarray:
    """The per-sample widening factor [N, T, D]: spread factor × OOD inflation (both ≥ 1)."""
    scale = np.ones(shape)
    if spread is not None and band_spread is not None:
        reference = np.asarray(band_spread, dtype=np.float64)[None]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.asarray(spread, dtype=np.float64) / reference
        scale = scale * np.where((reference > 0) & np.isfinite(ratio), np.maximum(ratio, 1.0), 1.0)
    if inflation is not None:
        scale = scale * np.asarray(inflation, dtype=np.float64).reshape(-1, 1, 1)
    return scale


def spread_reference(spread: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """``band_spread`` [T, D]: the members' mean SD per point over the labelled calibration cycles,
    floored at its mean over the cycle for that output — so that a point where the members happened
    to agree on the calibration cycles (SD ≈ 0) does not turn a small disagreement on a new cycle
    into a huge widening. 0 for an output no cycle labels (a joint band's other source)."""
    labelled = np.asarray(labelled, dtype=bool)
    count = labelled.sum(axis=0)
    total = np.where(labelled, np.asarray(spread, dtype=np.float64), 0.0).sum(axis=0)
    per_point = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    return np.maximum(per_point, per_point.mean(axis=0, keepdims=True))


def _conformal_quantile(scores: np.ndarray, q: float) -> float:
    """The ``q`` quantile with the split-conformal finite-sample correction (towards the tail)."""
    n = scores.size
    if n == 0:
        return float("nan")
    level = math.ceil((n + 1) * q) / n if q > 0.5 else math.floor((n + 1) * q) / n
    return float(np.quantile(scores, min(max(level, 0.0), 1.0), method="higher" if q > 0.5 else "lower"))


def fit_band(
    residuals: np.ndarray,
    *,
    scale: np.ndarray | None = None,
    spread: np.ndarray | None = None,
    level: float = LEVEL,
    smooth: int = BAND_SMOOTH,
    symmetric: bool = SYMMETRIC,
) -> dict[str, np.ndarray]:
    """Calibrate a band from held-out residuals.

    Parameters
    ----------
    residuals
        ``y_true − ensemble mean`` [N, T, D] on calibration cycles (subjects the model was not
        trained on), in the bundle's target units; NaN where a target is absent.
    scale
        Each residual's widening factor [N, T, D] (:func:`band_scale`); default 1.
    spread
        The members' SD on the same cycles [N, T, D]; its mean per point becomes ``band_spread``.
    level
        Nominal coverage of the central interval (0.9).
    smooth
        Residuals of ±``smooth`` time points are pooled for each point.
    symmetric
        True: ± the ``level`` quantile of |score| (robust when the calibration data's bias is
        not the bias on new data); False: the signed (1 − level)/2 and (1 + level)/2 quantiles.

    Returns
    -------
    dict
        ``band_lo``, ``band_hi`` [T, D] (normalised score quantiles; lower ≤ 0 ≤ upper not
        required: a biased model's band is off-centre) and ``band_spread`` [T, D], float32.
    """
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim != 3 or len(r) < 2:
        raise ValueError(f"residuals must be [N ≥ 2, T, D]; got {r.shape}")
    if not 0.5 < level < 1.0:
        raise ValueError(f"level must be in (0.5, 1); got {level}")
    scores = r / (np.ones_like(r) if scale is None else np.asarray(scale, dtype=np.float64))
    n_points, n_out = r.shape[1:]
    lo, hi = np.full((n_points, n_out), np.nan), np.full((n_points, n_out), np.nan)
    tail = (1.0 - level) / 2.0
    for t in range(n_points):
        window = scores[:, max(0, t - smooth) : t + smooth + 1]
        for c in range(n_out):
            values = window[:, :, c]
            values = values[np.isfinite(values)]
            if symmetric:
                hi[t, c] = _conformal_quantile(np.abs(values), level)
                lo[t, c] = -hi[t, c]
            else:
                lo[t, c] = _conformal_quantile(values, tail)
                hi[t, c] = _conformal_quantile(values, 1.0 - tail)
    band_spread = np.zeros((n_points, n_out)) if spread is None else spread_reference(spread, np.isfinite(r))
    return {
        "band_lo": lo.astype(np.float32),
        "band_hi": hi.astype(np.float32),
        "band_spread": np.nan_to_num(band_spread).astype(np.float32),
    }


def band_limits(
    mean: np.ndarray, band: Mapping[str, np.ndarray], scale: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits [N, T, D] of the band around ``mean`` (see the module docstring)."""
    mean = np.asarray(mean, dtype=np.float64)
    factor = np.ones_like(mean) if scale is None else np.asarray(scale, dtype=np.float64)
    lower = mean + np.asarray(band["band_lo"], dtype=np.float64)[None] * factor
    upper = mean + np.asarray(band["band_hi"], dtype=np.float64)[None] * factor
    return lower, upper


def coverage(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    """Fraction of finite true samples inside [lower, upper], and the mean width there."""
    y = np.asarray(y_true, dtype=np.float64)
    finite = np.isfinite(y)
    inside = (y >= lower) & (y <= upper)
    width = np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)
    n = int(finite.sum())
    return {
        "coverage": float(inside[finite].mean()) if n else float("nan"),
        "width": float(width[finite].mean()) if n else float("nan"),
        "n_samples": n,
    }


def uncertainty_record(
    *, members: int, calibration: Mapping[str, Any], level: float = LEVEL
) -> dict[str, Any]:
    """The manifest's ``uncertainty`` entry: method, level, rules and what it was calibrated on."""
    return {
        "level": level,
        "method": (
            f"{level:.0%} interval: ensemble mean ({members} member(s)) ± the split-conformal "
            f"{level:.0%} quantile of held-out |residual| / scale per time point and output "
            f"(±{BAND_SMOOTH} points pooled), scale = max(1, member spread / calibration spread) × OOD "
            "inflation"
        ),
        "members": members,
        "ood_inflation": ood_rule(),
        "calibration": dict(calibration),
    }
