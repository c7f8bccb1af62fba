"""Muscle forces → the release's 14 hip muscle groups, for any OpenSim model.

Built-in group tables (:mod:`gait2hip.data.columns`) cover the Rajagopal (2016 / Lai-Uhlrich
2023) and gait2392 models; :func:`choose_mapping` recognises the model from the force file's
columns. Another model: a ``group,muscle`` CSV (:func:`read_mapping_csv`; right-side names, the
left side is mirrored), e.g. ``muscle_groups.csv`` in a lab folder.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd

from gait2hip.data.columns import GAIT2392_GROUPS_R, MUSCLE_GROUPS_R, RAJAGOPAL_GROUPS_R, mirror_mapping
from gait2hip.errors import Gait2HipInputError

#: The lab folder's own group table, when present.
MAPPING_CSV = "muscle_groups.csv"
BUILTIN_MAPPINGS: dict[str, Mapping[str, tuple[str, ...]]] = {
    "rajagopal": RAJAGOPAL_GROUPS_R,
    "gait2392": GAIT2392_GROUPS_R,
}


def read_mapping_csv(path: str | Path) -> dict[str, tuple[str, ...]]:
    """A ``group,muscle`` CSV → right-side group mapping (groups must be the 14 release groups)."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise Gait2HipInputError(f"cannot read the mapping CSV ({exc}).", file=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    for column in ("group", "muscle"):
        if column not in table:
            raise Gait2HipInputError(
                "column missing from the muscle-group table.",
                file=path,
                column=column,
                fix="columns: group,muscle.",
            )
    mapping: dict[str, list[str]] = {}
    for group, muscle in zip(table["group"].str.strip(), table["muscle"].str.strip(), strict=True):
        if group not in MUSCLE_GROUPS_R:
            close = difflib.get_close_matches(str(group), MUSCLE_GROUPS_R, n=1)
            raise Gait2HipInputError(
                f"unknown muscle group '{group}'.",
                file=path,
                column="group",
                fix=(f"did you mean '{close[0]}'? " if close else "")
                + f"groups are the release's right-side names: {', '.join(MUSCLE_GROUPS_R)}.",
            )
        mapping.setdefault(group, []).append(muscle)
    missing = [g for g in MUSCLE_GROUPS_R if g not in mapping]
    if missing:
        raise Gait2HipInputError(
            f"the table gives no muscles for {missing}.", file=path, column="group", fix="map every group."
        )
    return {g: tuple(mapping[g]) for g in MUSCLE_GROUPS_R}


def choose_mapping(
    columns: list[str], *, side: Literal["right", "left"], mapping_r: Mapping | None = None, file=None
) -> dict[str, tuple[str, ...]]:
    """The group → muscles table (for ``side``) that the force file's columns satisfy.

    Raises
    ------
    Gait2HipInputError
        When no table's muscles are all present: names the missing muscles and the closest
        columns of the file.
    """
    candidates = {"custom": mapping_r} if mapping_r is not None else dict(BUILTIN_MAPPINGS)
    present = set(columns)
    best_name, best_missing = None, None
    for name, table in candidates.items():
        table_side = table if side == "right" else mirror_mapping(table)
        missing = [m for muscles in table_side.values() for m in muscles if m not in present]
        if not missing:
            return dict(table_side)
        if best_missing is None or len(missing) < len(best_missing):
            best_name, best_missing = name, missing
    assert best_missing is not None
    hints = []
    for muscle in best_missing[:4]:
        close = difflib.get_close_matches(muscle, columns, n=1, cutoff=0.5)
        hints.append(f"{muscle} (closest: {close[0]})" if close else muscle)
    raise Gait2HipInputError(
        f"unknown muscle names: {len(best_missing)} muscle(s) of the {best_name} group table are not in the "
        f"force file, e.g. {', '.join(hints)}.",
        file=file,
        column=best_missing[0],
        fix=f"use a Rajagopal or gait2392 model's force output, or give {MAPPING_CSV} (group,muscle) "
        "mapping this model's muscles to the 14 groups.",
    )


def aggregate_muscles(forces: pd.DataFrame, mapping: Mapping[str, tuple[str, ...]]) -> pd.DataFrame:
    """Sum muscle forces (N) into groups: one column per group, same index."""
    # skipna=False: a missing muscle value must not silently lower its group's force
    return pd.DataFrame(
        {group: forces[list(muscles)].sum(axis=1, skipna=False) for group, muscles in mapping.items()},
        index=forces.index,
    )
