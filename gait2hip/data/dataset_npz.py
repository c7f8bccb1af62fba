"""The NPZ file of a :class:`~gait2hip.data.dataset.GaitDataset` (``save`` / ``load``).

The layout, a superset of the Gait2Hip-60 release keys:

==============  =============  ===========================================================
key             dtype / shape  meaning
==============  =============  ===========================================================
X               float32 N×T×D  input angles
Y               float32 N×T×K  targets
in_cols         str[D]         input column names (release key)
out_cols        str[K]         target column names (release key)
subject_id      str[N]         subject label (release key)
height_m        float[N]       height in m (release key)
weight_kg       float[N]       body mass in kg (release key)
speed_label     str[N]         cadence label slow / med / fast (release key)
x_units         str[D]         unit per input column ('deg' or 'rad')
y_units         str[K]         unit per target column ('N', 'N/kg', 'Nm', 'Nm/kg', '%BW')
cohort          str[N]         e.g. 'healthy', 'patient'
cadence_spm     float[N]       cadence in steps/min (NaN if unknown)
trial_id        str[N]         trial identifier
side            str[N]         'right' / 'left': the leg whose gait cycle this is
source          str[N]         where the sample came from (file, 'simulated', ...)
stride_time_s   float[N]       stride duration in s (NaN if unknown)
attrs_json      str            dataset-level attributes (JSON)
layout_version  int            1
==============  =============  ===========================================================

Read and written without pickle (:mod:`gait2hip.io.npz`); a write is atomic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.npz import read_npz, write_npz

LAYOUT_VERSION = 1
REQUIRED_KEYS = ("X", "Y", "in_cols", "out_cols", "subject_id", "weight_kg", "x_units", "y_units")


def write_dataset(dataset: Any, path: str | Path) -> Path:
    """Write a :class:`~gait2hip.data.dataset.GaitDataset` to ``path`` in the layout above (compressed).

    (Typed ``Any``: this module is imported by ``dataset``, so it does not import it back.)
    """
    m = dataset.meta
    attrs = {k: v for k, v in dataset.attrs.items() if k != "path"}
    arrays = dict(
        X=dataset.X,
        Y=dataset.Y,
        in_cols=np.array(dataset.input_columns, dtype=str),
        out_cols=np.array(dataset.target_columns, dtype=str),
        subject_id=m["subject_id"].to_numpy(dtype=str),
        height_m=m["height_m"].to_numpy(dtype=float),
        weight_kg=m["mass_kg"].to_numpy(dtype=float),
        speed_label=m["cadence_label"].to_numpy(dtype=str),
        x_units=np.array(dataset.input_units, dtype=str),
        y_units=np.array(dataset.target_units, dtype=str),
        cohort=m["cohort"].to_numpy(dtype=str),
        cadence_spm=m["cadence_spm"].to_numpy(dtype=float),
        trial_id=m["trial_id"].to_numpy(dtype=str),
        side=m["side"].to_numpy(dtype=str),
        source=m["source"].to_numpy(dtype=str),
        stride_time_s=m["stride_time_s"].to_numpy(dtype=float),
        attrs_json=np.array(json.dumps(attrs, sort_keys=True, default=str)),
        layout_version=np.array(LAYOUT_VERSION),
    )
    return write_npz(Path(path), arrays)


def read_dataset_fields(path: str | Path) -> dict:
    """The :class:`~gait2hip.data.dataset.GaitDataset` fields stored in ``path`` (its keyword arguments)."""
    path = Path(path)
    if not path.exists():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    arrays = read_npz(
        path,
        unreadable=(
            "not a readable gait2hip NPZ: damaged, truncated or another format",
            "copy or download the file again (an interrupted copy leaves a truncated file); give a "
            "file written by gait2hip, or the release's MF60/JM60 NPZ.",
        ),
    )
    for key in REQUIRED_KEYS:
        if key not in arrays:
            raise Gait2HipInputError(
                "key missing from the NPZ.",
                file=path,
                column=key,
                fix="for the Gait2Hip-60 release files use gait2hip.data.release.load_release.",
            )
    n = len(arrays["X"])

    def text(key: str) -> list[str]:
        return [str(v) for v in arrays[key]] if key in arrays else [""] * n

    def number(key: str) -> np.ndarray:
        return arrays[key].astype(float) if key in arrays else np.full(n, np.nan)

    meta = pd.DataFrame(
        dict(
            subject_id=text("subject_id"),
            cohort=text("cohort"),
            cadence_label=text("speed_label"),
            cadence_spm=number("cadence_spm"),
            trial_id=text("trial_id"),
            side=text("side"),
            mass_kg=number("weight_kg"),
            height_m=number("height_m"),
            source=text("source"),
            stride_time_s=number("stride_time_s"),
        )
    )
    attrs = json.loads(str(arrays["attrs_json"])) if "attrs_json" in arrays else {}
    attrs["path"] = str(path)
    return dict(
        X=arrays["X"],
        Y=arrays["Y"],
        input_columns=tuple(text("in_cols")),
        target_columns=tuple(text("out_cols")),
        input_units=tuple(text("x_units")),
        target_units=tuple(text("y_units")),
        meta=meta,
        attrs=attrs,
    )
