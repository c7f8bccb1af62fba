"""Per-trial summary of predicted curves: mean ± SD over cycles and left/right symmetry, long format.

One tidy table across files (``OUT/summary_long.csv``), one value per row:

========== =====================================================================
column     meaning
========== =====================================================================
file       the kinematics file
variable   the hip output without side (``glmed``, ``hip_flexion_moment``)
unit       unit of the values (the normalised one: N/kg, Nm/kg or %BWh)
side       right, left, or ``right-left`` for a symmetry index
measure    ``peak_max`` (largest value of the cycle), ``peak_min`` (smallest),
           ``mean`` (mean over the cycle)
statistic  ``mean``, ``sd`` (over cycles, ddof 1; NaN for one cycle), ``n_cycles``,
           or ``symmetry_index_pct``
value      the number
========== =====================================================================

The symmetry index of a measure is SI = 100 · (R − L) / (½ (|R| + |L|)) % of the right and left
cycle means (Robinson et al. 1987, J Manipulative Physiol Ther 10:172–176, with absolute
values in the denominator so that negative peaks keep a meaningful sign): 0 is perfectly
symmetric; positive means the right side is larger. Only cycles whose curves were written count
(an 'unreliable' cycle withheld without ``--force`` does not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = ("peak_max", "peak_min", "mean")


def _variable(column: str, suffix: str) -> tuple[str, str] | None:
    """('glmed', 'right') from 'glmed_r_per_kg' (suffix '_per_kg'); None for other columns."""
    if not column.endswith(suffix):
        return None
    stem = column[: -len(suffix)]
    for side_code, side in (("_r", "right"), ("_l", "left")):
        if stem.endswith(side_code):
            return stem[: -len(side_code)], side
        if stem.endswith(side_code + "_moment"):
            return stem[: -len(side_code + "_moment")] + "_moment", side
    return None


def trial_summary(curves: pd.DataFrame, *, file: str, cycles: list[int] | None = None) -> pd.DataFrame:
    """The long summary rows of one trial (see the module docstring).

    Parameters
    ----------
    curves
        :attr:`gait2hip.predict.Prediction.curves` (with ``attrs['units']``).
    file
        The trial's file name, for the ``file`` column.
    cycles
        The cycle numbers to include (default: all).
    """
    units = curves.attrs.get("units", {})
    if cycles is not None:
        curves = curves[curves["cycle"].isin(cycles)]
    rows: list[dict] = []
    peaks: dict[tuple[str, str, str], float] = {}
    for column, unit in units.items():
        if column not in curves or unit not in ("N/kg", "Nm/kg", "%BWh"):
            continue
        parsed = _variable(column, "_pct_bwh" if unit == "%BWh" else "_per_kg")
        if parsed is None:
            continue
        variable, side = parsed
        per_cycle = curves[["cycle", column]].dropna().groupby("cycle")[column]
        values = {"peak_max": per_cycle.max(), "peak_min": per_cycle.min(), "mean": per_cycle.mean()}
        for measure in MEASURES:
            series = values[measure].to_numpy(dtype=float)
            if not len(series):
                continue
            stats = {
                "mean": float(series.mean()),
                "sd": float(series.std(ddof=1)) if len(series) > 1 else float("nan"),
                "n_cycles": float(len(series)),
            }
            peaks[(variable, side, measure)] = stats["mean"]
            for statistic, value in stats.items():
                rows.append(dict(file=file, variable=variable, unit=unit, side=side, measure=measure,
                                 statistic=statistic, value=value))  # fmt: skip
    for (variable, side, measure), right in list(peaks.items()):
        if side != "right" or (variable, "left", measure) not in peaks:
            continue
        left = peaks[(variable, "left", measure)]
        scale = 0.5 * (abs(right) + abs(left))
        unit = next(r["unit"] for r in rows if r["variable"] == variable)
        index = 100.0 * (right - left) / scale if scale > 0 else np.nan
        rows.append(
            dict(file=file, variable=variable, unit=unit, side="right-left", measure=measure,
                 statistic="symmetry_index_pct", value=index)
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["file", "variable", "unit", "side", "measure", "statistic", "value"])
