"""Angle tables from CSV and NPZ files, before any unit or sign check.

:func:`gait2hip.data.angles.read_angles` reads a file through these readers and then
:func:`~gait2hip.data.angles.angles_from_table` (unit, knee sign, ranges). Here: the CSV's time
column, its unit suffixes (``hip_flexion_r_deg``, ``knee_angle_r [rad]``), decimal commas
refused with a clear error; the NPZ's ``X`` / ``time`` / ``in_cols`` / ``x_units`` (read without
pickle).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.npz import read_npz

_UNIT_SUFFIX = re.compile(
    r"^(?P<name>.+?)\s*(?:[\[(](?P<u1>deg|degrees|rad|radians)[\])]|_(?P<u2>deg|rad))$", re.I
)


def _csv_units(columns: list[str]) -> tuple[dict[str, str], set[str]]:
    """Strip unit suffixes ('hip_flexion_r_deg', 'knee_angle_r [rad]') from CSV headers."""
    renamed: dict[str, str] = {}
    units: set[str] = set()
    for column in columns:
        match = _UNIT_SUFFIX.match(column.strip())
        if match and (match["u1"] or match["u2"]):
            renamed[column] = match["name"]
            units.add((match["u1"] or match["u2"]).lower()[:3])
    return renamed, units


def read_angle_csv(path: Path, *, in_degrees: bool | None) -> tuple[pd.DataFrame, bool | None]:
    """A CSV / TSV of angles indexed by its time column (s), unit suffixes stripped from the names.

    Returns the table and the unit: ``in_degrees`` when given, else what the suffixes declare
    (None when they declare nothing).
    """
    _check_decimal_commas_text(path)
    try:
        # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") must not stick to the first column name
        frame = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise Gait2HipInputError(
            f"cannot parse the CSV ({str(exc).splitlines()[0]}).",
            file=path,
            fix="give a comma- or tab-separated table with a header row.",
        ) from None
    time_column = next((c for c in frame.columns if str(c).strip().lower() in ("time", "time_s", "t")), None)
    if time_column is None:
        raise Gait2HipInputError(
            "no time column.",
            file=path,
            column="time",
            fix="add a 'time' column in seconds (gait cycles are found from it).",
        )
    _check_decimal_commas(frame, path)
    times = pd.to_numeric(frame[time_column], errors="coerce")
    if not np.isfinite(times.to_numpy(dtype=float)).all():
        raise Gait2HipInputError(
            "non-numeric or missing times.",
            file=path,
            column=str(time_column),
            fix="give the time in seconds as plain numbers on every row.",
        )
    frame = frame.drop(columns=[time_column])
    frame.index = pd.Index(times.to_numpy(dtype=float), name="time")
    renamed, units = _csv_units([str(c) for c in frame.columns])
    if len(units) > 1:
        raise Gait2HipInputError(
            "columns declare both degrees and radians.", file=path, fix="give all angles in one unit."
        )
    frame = frame.rename(columns=renamed)
    if units and in_degrees is None:
        in_degrees = units == {"deg"}
    return frame, in_degrees


def _check_decimal_commas_text(path: Path) -> None:
    """Refuse a semicolon/tab-separated file whose numbers have decimal commas ('0;0,605;...')."""
    import re

    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            lines = [handle.readline() for _ in range(6)]
    except OSError:
        return
    header, rows = lines[0], [line for line in lines[1:] if line.strip()]
    if not rows or not any(sep in header for sep in (";", "\t")):
        return
    example = re.search(r"(?<![\d.])[-+]?\d+,\d+", rows[0])
    if example and all(re.search(r"\d,\d", row) for row in rows):
        raise Gait2HipInputError(
            f"the numbers use a decimal COMMA (e.g. '{example.group(0)}'), which gait2hip does not read.",
            file=path,
            fix="export the CSV with a decimal point (e.g. in Excel: set the decimal separator to '.'), "
            "separated by commas, semicolons or tabs.",
        )


def _check_decimal_commas(frame: pd.DataFrame, path: Path) -> None:
    """Refuse numbers written with a decimal comma ('0,605'): named, never misread."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        text = values.dropna().astype(str).str.strip()
        if len(text) and text.str.fullmatch(r"[-+]?\d+,\d+([eE][-+]?\d+)?").mean() > 0.5:
            raise Gait2HipInputError(
                f"the numbers use a decimal COMMA (e.g. '{text.iloc[0]}'), which gait2hip does not read.",
                file=path,
                column=str(column),
                fix="export the CSV with a decimal point (e.g. in Excel: set the decimal separator to '.'), "
                "separated by commas, semicolons or tabs.",
            )


def read_angle_npz(path: Path, *, in_degrees: bool | None) -> tuple[pd.DataFrame, bool | None]:
    """An NPZ's ``X`` as a table: [T, D] indexed by ``time``, or [N, T, D] cut cycles indexed by a
    ``(cycle, point)`` MultiIndex; columns ``in_cols`` (default the release order). Returns the
    table and the unit: ``in_degrees`` when given, else what ``x_units`` declares (or None).
    """
    arrays = read_npz(
        path,
        unreadable=(
            "not a readable NPZ: damaged or truncated",
            "copy or download the file again (an interrupted copy leaves a truncated file), or re-save "
            "it with numpy.savez.",
        ),
    )
    if "X" not in arrays:
        raise Gait2HipInputError(
            "key missing from the NPZ.", file=path, column="X", fix="store the angles as X."
        )
    X = np.asarray(arrays["X"], dtype=float)
    if X.ndim not in (2, 3):
        raise Gait2HipInputError(
            f"X has shape {X.shape}; expected [T, D] or [N, T, D].", file=path, column="X"
        )
    names = [str(c) for c in arrays["in_cols"]] if "in_cols" in arrays else list(INPUT_ANGLES)
    if len(names) != X.shape[-1]:
        raise Gait2HipInputError(
            f"{len(names)} column names for {X.shape[-1]} channels.", file=path, column="in_cols"
        )
    if in_degrees is None and "x_units" in arrays:
        units = {str(u) for u in arrays["x_units"]}
        if len(units) == 1 and units <= {"deg", "rad"}:
            in_degrees = units == {"deg"}
    if X.ndim == 2:
        if "time" in arrays:
            index = pd.Index(np.asarray(arrays["time"], dtype=float), name="time")
        else:
            raise Gait2HipInputError(
                "a 2-D X needs a time vector.",
                file=path,
                column="time",
                fix="store the times (s) under 'time'.",
            )
        return pd.DataFrame(X, index=index, columns=names), in_degrees
    n, t, d = X.shape
    index = pd.MultiIndex.from_product([range(n), range(t)], names=["cycle", "point"])
    return pd.DataFrame(X.reshape(n * t, d), index=index, columns=names), in_degrees
