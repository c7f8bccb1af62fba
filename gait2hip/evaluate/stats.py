"""Paired comparisons across test subjects (Wilcoxon signed-rank, Holm-corrected) and seed summaries."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if len(finite) == 0:
        return adjusted
    order = finite[np.argsort(p[finite])]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (m - rank) * p[index])
        adjusted[index] = min(1.0, running)
    return adjusted


def paired_wilcoxon(
    per_subject: Mapping[str, pd.Series], *, pairs: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """Compare systems on the same subjects with the two-sided Wilcoxon signed-rank test.

    Parameters
    ----------
    per_subject
        System name → per-subject error (e.g. RMSE), indexed by subject id. Only subjects
        every compared pair shares are used.
    pairs
        (A, B) pairs to test; default every unordered pair.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``a``, ``b``, ``n_subjects``, ``median_a``, ``median_b``,
        ``median_diff`` (A − B; negative = A has the lower error), ``a_better`` (subjects
        where A's error is lower), ``statistic``, ``p`` and ``p_holm`` (Holm over the rows).
    """
    names = list(per_subject)
    pairs = pairs if pairs is not None else list(itertools.combinations(names, 2))
    rows = []
    for a, b in pairs:
        joined = pd.concat([per_subject[a].rename("a"), per_subject[b].rename("b")], axis=1).dropna()
        diff = (joined["a"] - joined["b"]).to_numpy()
        statistic, p = float("nan"), float("nan")
        if len(diff) >= 2 and np.any(diff != 0):
            result = stats.wilcoxon(joined["a"], joined["b"], alternative="two-sided")
            statistic, p = float(result.statistic), float(result.pvalue)
        rows.append(
            {
                "a": a,
                "b": b,
                "n_subjects": len(joined),
                "median_a": float(joined["a"].median()) if len(joined) else float("nan"),
                "median_b": float(joined["b"].median()) if len(joined) else float("nan"),
                "median_diff": float(np.median(diff)) if len(diff) else float("nan"),
                "a_better": int(np.sum(diff < 0)),
                "statistic": statistic,
                "p": p,
            }
        )
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["p_holm"] = holm(frame["p"].to_numpy())
    return frame


def mean_sd(values: pd.Series) -> tuple[float, float]:
    """Mean and sample SD (NaN SD for one value)."""
    values = values.dropna().astype(float)
    if len(values) == 0:
        return float("nan"), float("nan")
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else float("nan")


def format_mean_sd(values: pd.Series, *, digits: int = 3) -> str:
    """'0.123 ± 0.004' across seeds ('0.123' for a single seed)."""
    mean, sd = mean_sd(values)
    if not np.isfinite(mean):
        return "–"
    return f"{mean:.{digits}f}" if not np.isfinite(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"
