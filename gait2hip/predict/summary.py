"""Per-trial summary of predicted curves: mean ± SD over cycles and left/right symmetry, long format.

One tidy table across files (``OUT/summary_long.csv``), one value per row:

========== =====================================================================
column     meaning
========== =====================================================================
file       the kinematics file
variable   the hip output without side (``glmed``, ``hip_flexion_moment``,
           ``hip_contact_mag``)
unit       unit of the values (the normalised one: N/kg, Nm/kg, %BWh; the contact
           force in %BW; ``% gait cycle`` for where a peak is)
side       right, left, or ``right-left`` for a symmetry index
measure    ``peak_max`` (largest value of the cycle), ``peak_min`` (smallest),
           ``mean`` (mean over the cycle); for the contact force |F| also
           ``peak_max_at`` (where the maximum is), ``peak1`` / ``peak1_at`` and
           ``peak2`` / ``peak2_at`` (its first and second load peak and where they
           are, :func:`gait2hip.predict.contact.gait_peaks`; a cycle without a
           double hump has no ``peak1``/``peak2`` value)
statistic  ``mean``, ``sd`` (over cycles, ddof 1; NaN for one cycle), ``n_cycles``,
           or ``symmetry_index_pct``
value      the number
label      readable name of the variable (``Gluteus medius``,
           ``hip contact force |F|``)
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

from gait2hip.data.columns import PCT_BW, contact_label, contact_stem
from gait2hip.predict.contact import gait_peaks

MEASURES = ("peak_max", "peak_min", "mean")
#: Measures of the contact force |F| only: its peaks' values (%BW) and where they are (% gait cycle).
PEAK_MEASURES = ("peak_max_at", "peak1", "peak1_at", "peak2", "peak2_at")
COLUMNS = ["file", "variable", "unit", "side", "measure", "statistic", "value", "label"]


def _variable(column: str, suffix: str) -> tuple[str, str] | None:
    """('glmed', 'right') from 'glmed_r_per_kg' (suffix '_per_kg'), ('hip_contact_mag', 'right') from
    'hip_r_contact_mag_pct_bw' (suffix '_pct_bw'); None for other columns."""
    if not column.endswith(suffix):
        return None
    stem = column[: -len(suffix)]
    if suffix == PCT_BW:
        variable = contact_stem(stem)
        side = "right" if stem.startswith("hip_r_") else "left"
        return None if variable is None else (variable, side)
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
        suffix = {"N/kg": "_per_kg", "Nm/kg": "_per_kg", "%BWh": "_pct_bwh", "%BW": PCT_BW}.get(unit)
        parsed = None if suffix is None or column not in curves else _variable(column, suffix)
        if parsed is None:
            continue
        variable, side = parsed
        for measure, (series, measure_unit) in _measures(curves, column, unit, variable).items():
            if not len(series):
                continue
            stats = {
                "mean": float(series.mean()),
                "sd": float(series.std(ddof=1)) if len(series) > 1 else float("nan"),
                "n_cycles": float(len(series)),
            }
            if measure in MEASURES:
                peaks[(variable, side, measure)] = stats["mean"]
            for statistic, value in stats.items():
                rows.append(dict(file=file, variable=variable, unit=measure_unit, side=side, measure=measure,
                                 statistic=statistic, value=value))  # fmt: skip
    rows += _symmetry_rows(peaks, rows, file=file)
    frame = pd.DataFrame(rows, columns=COLUMNS[:-1])
    frame["label"] = [variable_label(v) for v in frame["variable"]]
    return frame


def variable_label(variable: str) -> str:
    """The readable name of a summary variable ('glmed' → 'Gluteus medius', 'hip_contact_mag' → 'hip
    contact force |F|'); the variable itself when it has none."""
    from gait2hip.predict.plots import target_label

    return contact_label(variable.replace("hip_contact", "hip_r_contact")) or target_label(variable)


def _measures(curves: pd.DataFrame, column: str, unit: str, variable: str) -> dict:
    """measure → (one value per cycle, unit); the contact force |F| adds its peaks and where they are."""
    per_cycle = curves[["cycle", column]].dropna().groupby("cycle")[column]
    out = {
        "peak_max": (per_cycle.max().to_numpy(dtype=float), unit),
        "peak_min": (per_cycle.min().to_numpy(dtype=float), unit),
        "mean": (per_cycle.mean().to_numpy(dtype=float), unit),
    }
    if variable != "hip_contact_mag":
        return out
    found = {measure: [] for measure in PEAK_MEASURES}
    for _, cycle in curves[["cycle", "percent", column]].dropna().groupby("cycle"):
        first, second, maximum = gait_peaks(cycle[column].to_numpy(), cycle["percent"].to_numpy())
        found["peak_max_at"].append(maximum.percent)
        if second is not None:
            found["peak1"].append(first.value)
            found["peak1_at"].append(first.percent)
            found["peak2"].append(second.value)
            found["peak2_at"].append(second.percent)
    for measure in PEAK_MEASURES:
        out[measure] = (
            np.asarray(found[measure], dtype=float),
            unit if "_at" not in measure else "% gait cycle",
        )
    return out


def _symmetry_rows(peaks: dict[tuple[str, str, str], float], rows: list[dict], *, file: str) -> list[dict]:
    """One symmetry-index row per (variable, measure) with both a right and a left mean."""
    out = []
    for (variable, side, measure), right in list(peaks.items()):
        if side != "right" or (variable, "left", measure) not in peaks:
            continue
        left = peaks[(variable, "left", measure)]
        scale = 0.5 * (abs(right) + abs(left))
        unit = next(r["unit"] for r in rows if r["variable"] == variable)
        index = 100.0 * (right - left) / scale if scale > 0 else np.nan
        out.append(
            dict(file=file, variable=variable, unit=unit, side="right-left", measure=measure,
                 statistic="symmetry_index_pct", value=index)
        )  # fmt: skip
    return out
