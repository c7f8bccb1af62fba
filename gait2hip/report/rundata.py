"""A finished benchmark run folder, read back: all a report needs, nothing that trains.

The folder is written by :mod:`gait2hip.bench` (``run.json``, ``metrics.csv``,
``subject_metrics.csv``, ``real_trials.csv``, ``paired_tests.csv``, ``curves.npz``,
``units/<unit>/info.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError

TABLES = ("metrics", "subject_metrics", "real_trials", "paired_tests")


@dataclass
class RunData:
    """One run folder's record, tables, curves and per-unit training summaries."""

    folder: Path
    record: dict
    tables: dict[str, pd.DataFrame]
    predictions: dict[tuple[str, str, str, str], dict[str, np.ndarray]]
    truth: dict[tuple[str, str], np.ndarray]
    unit_infos: list[dict] = field(default_factory=list)

    @property
    def settings(self) -> dict:
        return self.record["settings"]

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.settings["targets"])

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.settings["models"])

    @property
    def protocols(self) -> tuple[str, ...]:
        return tuple(self.settings["protocols"])

    @property
    def budget(self) -> dict:
        return self.settings["profile"]

    @property
    def summary(self) -> dict:
        return self.record["data_summary"]

    @property
    def simulated(self) -> bool:
        return bool(self.record.get("data_attrs", {}).get("simulated"))


def read_csv(path: Path) -> pd.DataFrame:
    """A table of the run; an empty file (nothing to score) is an empty frame. Seeds stay text."""
    try:
        return pd.read_csv(path, dtype={"seed": str, "subject_id": str, "trial": str})
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def read_curves(folder: Path) -> tuple[dict, dict]:
    """``curves.npz``: predictions (``pred|protocol|model|target|seed|set``) and references."""
    predictions: dict[tuple[str, str, str, str], dict[str, np.ndarray]] = {}
    truth: dict[tuple[str, str], np.ndarray] = {}
    with np.load(folder / "curves.npz", allow_pickle=False) as npz:
        for name in npz.files:
            kind, *parts = name.split("|")
            if kind == "pred":
                protocol, model, target, seed, set_name = parts
                predictions.setdefault((protocol, model, target, seed), {})[set_name] = npz[name]
            else:
                truth[(parts[0], parts[1])] = npz[name]
    return predictions, truth


def read_run(folder: Path) -> RunData:
    """Read a finished run folder (raises a clear error when it is not one)."""
    folder = Path(folder)
    missing = [n for n in ("run.json", "metrics.csv", "curves.npz") if not (folder / n).exists()]
    if missing:
        raise Gait2HipInputError(
            "not a finished benchmark run folder.",
            file=folder / missing[0],
            fix="run `gait2hip benchmark --out` into it to the end (it resumes where it stopped).",
        )
    record = json.loads((folder / "run.json").read_text())
    tables = {name: read_csv(folder / f"{name}.csv") for name in TABLES}
    predictions, truth = read_curves(folder)
    infos = []
    for unit in record.get("units", []):
        info = json.loads((folder / "units" / unit["key"] / "info.json").read_text())
        infos.append({**unit, **{k: v for k, v in info.items() if k not in ("recipe", "target")}})
    return RunData(
        folder=folder, record=record, tables=tables, predictions=predictions, truth=truth, unit_infos=infos
    )
