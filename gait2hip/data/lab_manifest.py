"""The lab folder's ``manifest.csv``: read, every row and file checked (see :mod:`gait2hip.data.lab`)."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.dataset import CADENCE_SPM
from gait2hip.errors import Gait2HipInputError

MANIFEST = "manifest.csv"
REQUIRED_COLUMNS = ("subject", "mass_kg", "ik")
OPTIONAL_COLUMNS = (
    "height_m", "cohort", "cadence", "id", "forces", "grf", "loads", "events", "trial", "start", "end",
    "contact",
)  # fmt: skip


def text(value) -> str:
    """A manifest cell as stripped text ('' for an empty or NaN cell)."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()


def read_manifest(folder: str | Path) -> pd.DataFrame:
    """The validated manifest (one row per trial, paths resolved)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise Gait2HipInputError(
            f"no {MANIFEST} in the folder.",
            file=folder,
            fix=f"add {MANIFEST} with columns {', '.join(REQUIRED_COLUMNS)} and id and/or forces "
            "(see gait2hip.data.lab).",
        )
    try:
        manifest = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise Gait2HipInputError(f"cannot parse the manifest ({exc}).", file=path) from None
    manifest.columns = [str(c).strip().lower() for c in manifest.columns]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for column in manifest.columns:
        if column not in known:
            close = difflib.get_close_matches(column, sorted(known), n=1)
            raise Gait2HipInputError(
                "unknown manifest column.",
                file=path,
                column=column,
                fix=(f"did you mean '{close[0]}'? " if close else "")
                + f"columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}.",
            )
    for column in REQUIRED_COLUMNS:
        if column not in manifest:
            raise Gait2HipInputError("required manifest column is missing.", file=path, column=column)
    if "id" not in manifest and "forces" not in manifest:
        raise Gait2HipInputError(
            "the manifest names neither inverse-dynamics ('id') nor muscle-force ('forces') files.",
            file=path,
            column="id",
            fix="add an 'id' column (hip moments) and/or a 'forces' column (muscle forces).",
        )
    if manifest.empty:
        raise Gait2HipInputError("the manifest has no trials.", file=path, fix="add one row per trial.")
    for column in OPTIONAL_COLUMNS:
        if column not in manifest:
            manifest[column] = ""
    manifest = manifest.fillna("")
    for row_number, row in enumerate(manifest.itertuples(index=False), start=2):
        where = f"row {row_number}"
        if not text(row.subject):
            raise Gait2HipInputError(f"{where}: subject is empty.", file=path, column="subject")
        mass = pd.to_numeric(text(row.mass_kg), errors="coerce")
        if not (np.isfinite(mass) and mass > 0):
            raise Gait2HipInputError(
                f"{where} (subject {row.subject}): body mass '{row.mass_kg}' is missing or ≤ 0.",
                file=path,
                column="mass_kg",
                fix="give the body mass in kg (> 0).",
            )
        for column in ("ik", "id", "forces", "grf", "loads", "events", "contact"):
            value = text(getattr(row, column))
            if value and not (folder / value).is_file():
                raise Gait2HipInputError(
                    f"{where}: file '{value}' not found.",
                    file=path,
                    column=column,
                    fix="paths in the manifest are relative to the manifest's folder.",
                )
        if not text(row.ik):
            raise Gait2HipInputError(f"{where}: no IK file.", file=path, column="ik")
        for column in ("height_m", "start", "end"):
            value = text(getattr(row, column))
            if value and not np.isfinite(pd.to_numeric(value, errors="coerce")):
                raise Gait2HipInputError(f"{where}: '{value}' is not a number.", file=path, column=column)
    for column in ("id", "forces", "contact"):
        given = manifest[column].map(bool)
        if given.any() and not given.all():
            row_number = int(np.flatnonzero(~given.to_numpy())[0]) + 2
            raise Gait2HipInputError(
                f"row {row_number} has no '{column}' file but other trials do: all trials must give the same "
                "targets.",
                file=path,
                column=column,
                fix=f"give every trial a '{column}' file, or none.",
            )
    return manifest


def cadence_of(value: str, *, stride_s: float, file: Path, row: int) -> tuple[str, float]:
    """A row's cadence label and steps/min (empty: measured, 120 / stride time)."""
    cell = text(value).lower()
    if not cell:
        return "", 120.0 / stride_s  # two steps per stride
    if cell in CADENCE_SPM:
        return cell, CADENCE_SPM[cell]
    number = pd.to_numeric(cell, errors="coerce")
    if np.isfinite(number) and 20 < number < 250:
        return "", float(number)
    raise Gait2HipInputError(
        f"row {row}: cadence '{value}' is neither a label nor steps/min.",
        file=file,
        column="cadence",
        fix=f"use {', '.join(CADENCE_SPM)} or a number of steps per minute.",
    )
