"""The 10 input angles, in degrees, from any IK table a lab may have.

gait2hip's inputs are the release's 10 angles (``INPUT_ANGLES``) in degrees, with the
Rajagopal (2016) sign conventions: hip flexion, adduction and internal rotation positive,
knee FLEXION POSITIVE, ankle dorsiflexion positive.

Two things go silently wrong with IK files and are checked here:

* **Units.** The ``inDegrees`` flag is sometimes absent or wrong (OpenSim CMC writes
  ``inDegrees=no`` above a table in degrees). Walking needs the knee to flex by ~60° and
  the hip by ~40°, so the values themselves tell the unit (:func:`guess_angle_unit`).
  When the declared unit and the values disagree, we stop with a clear error.
* **Knee sign.** gait2392 / Gait2354 measure knee flexion NEGATIVE (range about −120°..10°);
  Rajagopal-family models and the Gait2Hip-60 release measure it POSITIVE (0°..120°).
  With ``knee_flexion_sign='auto'`` a knee that is clearly flexion-negative (bends below
  −30° and never extends past +15°) is flipped, with a warning, and the flip is recorded in
  ``DataFrame.attrs['knee_sign_flipped']``.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gait2hip.data.angle_files import read_angle_csv, read_angle_npz
from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.errors import Gait2HipInputError

KneeSign = Literal["auto", "positive", "negative"]

#: Knees flex this much (deg) in every walking cycle; a range below it in "degrees" is radians.
_MIN_KNEE_RANGE_DEG = 3.0
#: No joint reaches 2π rad (360°) while walking; values beyond it in "radians" are degrees.
_MAX_ABS_RAD = 2 * np.pi
_KNEES = ("knee_angle_r", "knee_angle_l")


def canonical_coordinate_name(label: str) -> str:
    """A column label as a coordinate name.

    Moco / ``TimeSeriesTable`` state paths lose their joint prefix and ``/value`` suffix
    (``/jointset/hip_r/hip_flexion_r/value`` → ``hip_flexion_r``); other labels are
    stripped of surrounding whitespace.
    """
    text = str(label).strip()
    if "/" in text:
        parts = [p for p in text.split("/") if p]
        if parts and parts[-1] == "value":
            parts = parts[:-1]
        return parts[-1] if parts else text
    return text


def guess_angle_unit(table: pd.DataFrame | Mapping[str, np.ndarray]) -> Literal["deg", "rad"] | None:
    """Which unit walking joint angles are in, judged from their values alone.

    Rule (documented so it can be argued with): over the given angle columns,

    * any |value| > 2π → degrees (no joint turns a full circle while walking);
    * otherwise, if a knee column is present and its range (max − min) is < 3 → radians
      (in degrees that would be a knee that barely moves; walking needs ~60°);
    * otherwise, if every |value| ≤ π → radians;
    * otherwise None (cannot tell).

    Parameters
    ----------
    table
        Angle columns (finite values; NaNs are ignored).
    """
    columns = {str(k): np.asarray(v, dtype=float) for k, v in dict(table).items()}
    values = [v[np.isfinite(v)] for v in columns.values()]
    values = [v for v in values if v.size]
    if not values:
        return None
    max_abs = max(float(np.max(np.abs(v))) for v in values)
    if max_abs > _MAX_ABS_RAD:
        return "deg"
    knee_ranges = [
        float(np.ptp(columns[k][np.isfinite(columns[k])]))
        for k in _KNEES
        if k in columns and np.isfinite(columns[k]).any()
    ]
    if knee_ranges and max(knee_ranges) < _MIN_KNEE_RANGE_DEG:
        return "rad"
    if max_abs <= np.pi:
        return "rad"
    return None


def _resolve_columns(labels: list[str], *, file: str | Path | None) -> dict[str, str]:
    """Map each of the 10 input angles to the table column holding it."""
    by_name: dict[str, str] = {}
    for label in labels:
        if str(label).rstrip("/").endswith("/speed"):
            continue
        by_name.setdefault(canonical_coordinate_name(label), label)
    lowered = {name.lower(): label for name, label in by_name.items()}
    found: dict[str, str] = {}
    for angle in INPUT_ANGLES:
        if angle in by_name:
            found[angle] = by_name[angle]
        elif angle in lowered:
            found[angle] = lowered[angle]
        else:
            # suggest only columns that are not themselves one of the 10 angles
            spare = [name for name in by_name if name not in INPUT_ANGLES]
            close = difflib.get_close_matches(angle, spare, n=1, cutoff=0.6)
            hint = f"the closest column is '{close[0]}'; rename it if it is this angle." if close else ""
            raise Gait2HipInputError(
                "the angle column is missing.",
                file=file,
                column=angle,
                fix=(hint + " " if hint else "")
                + f"gait2hip needs the 10 angles {', '.join(INPUT_ANGLES)} (IK coordinate names, "
                "or Moco state paths such as /jointset/hip_r/hip_flexion_r/value).",
            )
    return found


def angles_from_table(
    data: pd.DataFrame,
    *,
    in_degrees: bool | None,
    file: str | Path | None = None,
    knee_flexion_sign: KneeSign = "auto",
) -> pd.DataFrame:
    """The 10 input angles, in degrees and gait2hip sign conventions, from an IK table.

    Parameters
    ----------
    data
        A table indexed by time (e.g. ``read_storage(path).data``) whose columns include
        the 10 angles under their IK coordinate names (Rajagopal / gait2392) or as Moco
        state paths. Other columns are ignored.
    in_degrees
        The declared unit (the file's ``inDegrees`` flag); None when undeclared, in which
        case the values decide (:func:`guess_angle_unit`).
    file
        The file the table came from, for error messages.
    knee_flexion_sign
        'positive' (Rajagopal, the release), 'negative' (gait2392: flipped here) or
        'auto' (flip a knee that is clearly flexion-negative, with a warning).

    Returns
    -------
    pandas.DataFrame
        Columns exactly ``INPUT_ANGLES`` in that order, float64 degrees, same index.
        ``attrs``: ``source_unit`` ('deg' / 'rad'), ``knee_sign_flipped`` (bool), ``file``.

    Raises
    ------
    Gait2HipInputError
        A missing or misspelt angle column (the closest name is suggested), NaN / inf
        values, values in radians declared as degrees or the reverse, an undeclared unit
        the values cannot settle, or an unknown ``knee_flexion_sign``.
    """
    if knee_flexion_sign not in ("auto", "positive", "negative"):
        raise Gait2HipInputError(
            f"unknown knee_flexion_sign '{knee_flexion_sign}'.",
            file=file,
            fix="use auto, positive or negative.",
        )
    found = _resolve_columns([str(c) for c in data.columns], file=file)
    table = _numeric_angles(data, found, file=file)
    unit = _angle_unit(table, in_degrees=in_degrees, file=file)
    if unit == "rad":
        table = np.degrees(table)
    worst = max(INPUT_ANGLES, key=lambda c: float(table[c].abs().max()))
    if float(table[worst].abs().max()) > 180.0:
        raise Gait2HipInputError(
            f"{worst} reaches {float(table[worst].abs().max()):.4g}°, beyond any joint's range.",
            file=file,
            column=found[worst],
            fix="check the IK (unwrapped angles? wrong column?) and the unit declaration.",
        )
    flipped = _flip_negative_knees(table, knee_flexion_sign=knee_flexion_sign, file=file)
    table.index.name = data.index.name or "time"
    table.attrs = {
        "source_unit": unit,
        "knee_sign_flipped": flipped,
        "file": None if file is None else str(file),
    }
    return table


def _numeric_angles(data: pd.DataFrame, found: dict[str, str], *, file: str | Path | None) -> pd.DataFrame:
    """The 10 angle columns as finite floats (an error names the first missing or bad value)."""
    table = pd.DataFrame(index=data.index.copy())
    for angle, label in found.items():
        column = pd.to_numeric(data[label], errors="coerce")
        bad = ~np.isfinite(column.to_numpy(dtype=float))
        if bad.any():
            where = data.index[int(np.flatnonzero(bad)[0])]
            raw = data[label].iloc[int(np.flatnonzero(bad)[0])]
            raise Gait2HipInputError(
                f"{int(bad.sum())} value(s) are missing, NaN or infinite (first: '{raw}' at {where}).",
                file=file,
                column=label,
                fix="fill gaps in the IK (e.g. interpolate over short marker dropouts) or cut the trial to "
                "the part without them.",
            )
        table[angle] = column.to_numpy(dtype=float)
    if len(table) == 0:
        raise Gait2HipInputError("the table has no rows.", file=file, fix="give a trial with data.")
    return table


def _angle_unit(table: pd.DataFrame, *, in_degrees: bool | None, file: str | Path | None) -> str:
    """'deg' or 'rad': the declared unit checked against the values, or the values' guess (loudly)."""
    guess = guess_angle_unit(table)
    if in_degrees is None:
        if guess is None:
            raise Gait2HipInputError(
                "the angle unit is not declared and the values do not tell degrees from radians "
                f"(largest |value| {float(table.abs().max().max()):.3g}).",
                file=file,
                column=INPUT_ANGLES[0],
                fix="declare the unit: inDegrees=yes|no in a .mot/.sto header, a '_deg'/'_rad' column "
                "suffix in a CSV, or the in_degrees argument.",
            )
        if guess == "rad":  # loud: a wrong guess would scale every angle by 57
            warnings.warn(
                f"{file or 'table'}: UNIT ASSUMED — the angle unit is not declared and the values look like "
                f"RADIANS (largest |value| {float(table.abs().max().max()):.3g}; knee range "
                f"{max(float(np.ptp(table[k].to_numpy())) for k in _KNEES):.3g}); converted to degrees. If "
                "they are degrees, declare it: a '_deg' column suffix (hip_flexion_r_deg) or inDegrees=yes.",
                stacklevel=3,
            )
        return guess
    unit = "deg" if in_degrees else "rad"
    if guess is not None and guess != unit:
        declared = "degrees" if in_degrees else "radians"
        actual = "radians" if guess == "rad" else "degrees"
        worst = max(INPUT_ANGLES, key=lambda c: float(table[c].abs().max()))
        raise Gait2HipInputError(
            f"the angles are declared in {declared} but their values look like {actual} "
            f"(e.g. {worst} spans {table[worst].min():.3g} .. {table[worst].max():.3g}; "
            f"knee range {float(np.ptp(table['knee_angle_r'].to_numpy())):.3g}).",
            file=file,
            column=worst,
            fix=f"correct the unit declaration (inDegrees={'no' if in_degrees else 'yes'} in the header, "
            "or the in_degrees argument). OpenSim CMC writes inDegrees=no above tables in degrees.",
        )
    return unit


def _flip_negative_knees(
    table: pd.DataFrame, *, knee_flexion_sign: KneeSign, file: str | Path | None
) -> bool:
    """Flip both knees in place when they are flexion-negative (asked, or clear under 'auto')."""
    signs = {k: _knee_is_flexion_negative(table[k].to_numpy()) for k in _KNEES}
    if not (knee_flexion_sign == "negative" or (knee_flexion_sign == "auto" and any(signs.values()))):
        return False
    # A knee that never bent far in the record (e.g. only its stance in a short trial) does
    # not tell its sign: it follows the other knee. Only a clearly positive knee is a mix.
    positive = [k for k in _KNEES if not signs[k] and _knee_is_flexion_positive(table[k].to_numpy())]
    if knee_flexion_sign == "auto" and positive:
        raise Gait2HipInputError(
            "one knee flexes positive and the other negative: the model's conventions are mixed.",
            file=file,
            column=positive[0],
            fix="check the IK: both knees must use one sign convention (flexion positive, or gait2392's "
            "negative); in Python, knee_flexion_sign='positive' or 'negative' forces one.",
        )
    for knee in _KNEES:
        table[knee] = -table[knee]
    if knee_flexion_sign == "auto":
        warnings.warn(
            f"{file or 'table'}: knee flexion is negative (gait2392 convention); flipped to gait2hip's "
            "flexion-positive convention.",
            stacklevel=3,
        )
    return True


def _knee_is_flexion_negative(knee_deg: np.ndarray) -> bool:
    return bool(np.min(knee_deg) < -30.0 and np.max(knee_deg) < 15.0)


def _knee_is_flexion_positive(knee_deg: np.ndarray) -> bool:
    return bool(np.max(knee_deg) > 30.0 and np.min(knee_deg) > -15.0)


def read_angles(
    path: str | Path,
    *,
    in_degrees: bool | None = None,
    knee_flexion_sign: KneeSign = "auto",
) -> pd.DataFrame:
    """Read the 10 input angles (degrees) from an IK ``.mot``/``.sto``, a CSV or an NPZ.

    Parameters
    ----------
    path
        * ``.mot`` / ``.sto``: OpenSim IK output or Moco states; the unit comes from
          ``inDegrees`` (checked against the values).
        * ``.csv`` / ``.tsv`` / ``.txt``: a ``time`` column (s) plus the 10 angle columns; the
          unit is declared by a ``_deg`` / ``_rad`` or ``[deg]`` / ``(rad)`` suffix on the
          column names, the ``in_degrees`` argument, or detected from the values.
        * ``.npz``: ``X`` of shape [T, 10] (with ``time`` [T]) or [N, T, 10] (already cut
          gait cycles), ``in_cols`` (default: the release order) and optionally
          ``x_units`` ('deg' / 'rad'). Read without pickle.
        * ``.c3d``: Vicon Plug-in Gait angle outputs (:mod:`gait2hip.data.plugin_gait`); the
          C3D's ``Foot Strike`` events go to ``attrs['heel_strikes']`` ({side: times in s}).
    in_degrees
        Overrides the file's declaration (still checked against the values).
    knee_flexion_sign
        See :func:`angles_from_table`.

    Returns
    -------
    pandas.DataFrame
        Columns ``INPUT_ANGLES`` in degrees. Indexed by ``time`` (s) for tables; for an
        [N, T, 10] NPZ indexed by a ``(cycle, point)`` MultiIndex with
        ``attrs['cycles'] = True``.
    """
    from gait2hip.io.opensim import read_storage

    path = Path(path)
    if not path.exists():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    suffix = path.suffix.lower()
    if suffix in (".mot", ".sto"):
        storage = read_storage(path)
        declared = storage.header.in_degrees if in_degrees is None else in_degrees
        table = angles_from_table(
            storage.data, in_degrees=declared, file=path, knee_flexion_sign=knee_flexion_sign
        )
        table.attrs["cycles"] = False
        return table
    if suffix in (".csv", ".tsv", ".txt", ".npz"):
        reader = read_angle_npz if suffix == ".npz" else read_angle_csv
        frame, declared = reader(path, in_degrees=in_degrees)
        table = angles_from_table(frame, in_degrees=declared, file=path, knee_flexion_sign=knee_flexion_sign)
        cycles = isinstance(frame.index, pd.MultiIndex)
        if cycles:  # [N, T, 10] cut cycles keep their (cycle, point) index
            table.index = frame.index
        table.attrs["cycles"] = cycles
        return table
    if suffix == ".c3d":
        table, events = read_plugin_gait(path)
        table.attrs["heel_strikes"] = {
            side: kinds["heel_strike"] for side, kinds in events.items() if len(kinds.get("heel_strike", []))
        }
        return table
    raise Gait2HipInputError(
        f"unsupported file type '{path.suffix}'.",
        file=path,
        fix="give an OpenSim .mot/.sto, a CSV with a time column, an NPZ, or a Plug-in Gait .c3d.",
    )


def read_plugin_gait(path: str | Path) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """The 10 angles (degrees, indexed by time in s on the capture's clock) and events of a C3D.

    Frames where any of the six angle points is missing at the start or end of the capture are
    cut off; a gap inside the trial is an error (as for any NaN input).

    Returns
    -------
    (angles, events)
        ``angles`` as :func:`gait2hip.data.angles.read_angles` returns them; ``events``:
        ``{'right'|'left': {'heel_strike'|'toe_off': times in s}}`` (empty without events).
    """
    from gait2hip.data.plugin_gait import FIX_EXPORT, PLUGIN_GAIT_POINTS, gait_events, plugin_gait_angles
    from gait2hip.io.c3d import read_c3d_points

    path = Path(path)
    points, time, unit = read_c3d_points(path, PLUGIN_GAIT_POINTS)
    table = plugin_gait_angles(points, source=path)
    table.index = pd.Index(time, name="time")
    complete = np.flatnonzero(np.isfinite(table.to_numpy()).all(axis=1))
    if len(complete) < 2:
        raise Gait2HipInputError(
            "the Plug-in Gait angles are empty (no frame with all six).", file=path, fix=FIX_EXPORT
        )
    table = table.iloc[complete[0] : complete[-1] + 1]
    angles = angles_from_table(
        table, in_degrees=unit.lower().startswith("deg"), file=path, knee_flexion_sign="positive"
    )
    angles.attrs["cycles"] = False
    return angles, gait_events(path)
