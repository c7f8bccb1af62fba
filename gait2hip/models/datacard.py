"""A bundle's data card: what the model was trained on (hash, description, simulated flag)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def data_card_from_dataset(dataset: Any, *, description: str | None = None) -> dict[str, Any]:
    """A bundle's data card for a training ``GaitDataset``: content hash, description, simulated flag.

    The hash is SHA-256 over the inputs, targets, column names and units, so two bundles
    trained on the same cycles share it.
    """
    digest = hashlib.sha256()
    for array in (dataset.X, dataset.Y):
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    for names in (dataset.input_columns, dataset.target_columns, dataset.input_units, dataset.target_units):
        digest.update("\x1f".join(names).encode())
    attrs = dict(getattr(dataset, "attrs", {}) or {})
    meta = dataset.meta
    return {
        "sha256": digest.hexdigest(),
        "name": str(attrs.get("name", "")),
        "description": description or str(attrs.get("description", "")),
        "simulated": bool(attrs.get("simulated", False)),
        "n_cycles": len(dataset),
        "n_subjects": int(meta["subject_id"].nunique()),
        "cohorts": sorted({str(c) for c in meta["cohort"] if str(c)}),
        "source_path": str(attrs.get("path", "")),
    }
