"""The labelling's quality record in a lab folder (``qa.csv`` / ``qa.json`` written by ``gait2hip
label``): which loaded cycles it flags (see :func:`gait2hip.data.lab.load_lab_folder`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError

#: A cycle and a qa.csv row are the same cycle when their starts differ by less than this (s).
QA_MATCH_S = 0.05


def drop_qa_flagged(
    folder: Path, X: np.ndarray, Y: np.ndarray, rows: list[dict], respect_qa: bool
) -> tuple[np.ndarray, np.ndarray, list[dict], int]:
    """Leave out the cycles that ``folder/qa.csv`` flags; returns X, Y, rows and how many went."""
    path = folder / "qa.csv"
    if not respect_qa or not path.is_file():
        return X, Y, rows, 0
    try:  # labelled with --keep-flagged: the flagged cycles are part of the dataset
        if json.loads((folder / "qa.json").read_text()).get("exclude_flagged") is False:
            return X, Y, rows, 0
    except (OSError, ValueError):
        pass
    qa = pd.read_csv(path)
    if not {"trial_id", "side", "start_s", "flagged"} <= set(qa.columns):
        return X, Y, rows, 0
    flagged = qa[qa["flagged"].astype(str).str.lower().isin(("true", "1"))]
    keep = []
    for row in rows:
        trial = row["trial_id"].rsplit("_", 1)[0]
        start = float(row["source"].split("[", 1)[1].split("-", 1)[0])
        same = flagged[
            (flagged["side"] == row["side"])
            & (flagged["trial_id"].astype(str).str.rsplit("_", n=1).str[0] == trial)
            & ((flagged["start_s"].astype(float) - start).abs() < QA_MATCH_S)
        ]
        keep.append(same.empty)
    keep = np.array(keep, dtype=bool)
    if not keep.any():
        raise Gait2HipInputError(
            f"every cycle of the folder failed the labelling's quality checks ({int((~keep).sum())} flagged "
            "in qa.csv), so none is left to load.",
            file=path,
            column="flagged",
            fix="see qa.csv's reasons; relabel with --keep-flagged to keep flagged cycles, or load them "
            "anyway with load_lab_folder(respect_qa=False).",
        )
    return X[keep], Y[keep], [r for r, k in zip(rows, keep, strict=True) if k], int((~keep).sum())
