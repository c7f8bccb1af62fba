"""Datasets with different targets in one training set: absent targets are NaN, explicitly.

A simulated cohort carries muscle forces and hip moments (and, from cohort 2.0, hip contact
forces); a real lab's data such as ``fukuchi2018`` carries hip moments only. To train one model
on both, :func:`concat_with_missing` stacks them over the UNION of their target columns and
fills every target a source does not have with NaN — never with zero, which would be a label
("this muscle is silent") rather than its absence. ``attrs['missing_targets']`` records, per
source, which columns were absent.

Training code treats NaN targets as "no label here": the loss is averaged over finite entries
only, channel by channel (:func:`gait2hip.train.loop.masked_mse`), and target statistics are
computed over finite entries (:meth:`gait2hip.train.normalize.Standardizer.fit` with
``allow_missing=True``). A target column with no finite value at all in a training set is an
error (:func:`check_target_coverage`): nothing could be learnt for it.

No torch here (``data`` sits below ``models`` and ``train``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError

#: Metadata column naming the source (domain) of each cycle in a mixed dataset.
DOMAIN_COLUMN = "domain"


def concat_with_missing(
    datasets: Sequence[GaitDataset],
    *,
    names: Sequence[str] | None = None,
    target_columns: Sequence[str] | None = None,
) -> GaitDataset:
    """Stack datasets over the union of their targets; a target a dataset lacks is NaN there.

    Parameters
    ----------
    datasets
        Datasets with the same input columns (same units) and the same number of time points.
        Their targets must be in the same units where they share a column (normalise per kg first).
    names
        A domain name per dataset, written to ``meta['domain']`` (default: ``attrs['name']`` or
        ``'set{i}'``). Used by domain-balanced batches and the cross-lab tables.
    target_columns
        Order (and selection) of the target columns; default the union in order of appearance.
        A column no dataset has is an error.

    Returns
    -------
    GaitDataset
        NaN wherever a source lacks a column; ``attrs['missing_targets']`` = {domain: [columns]}.
    """
    if not datasets:
        raise ValueError("nothing to concatenate")
    names = (
        list(names)
        if names is not None
        else [str(d.attrs.get("name") or f"set{i}") for i, d in enumerate(datasets)]
    )
    if len(names) != len(datasets):
        raise ValueError(f"{len(names)} names for {len(datasets)} datasets")
    first = datasets[0]
    union: dict[str, str] = {}
    for data in datasets:
        if data.input_columns != first.input_columns or data.input_units != first.input_units:
            raise Gait2HipInputError(
                f"cannot mix datasets with different inputs ({first.input_columns} {first.input_units} vs "
                f"{data.input_columns} {data.input_units}).",
                file=data.attrs.get("path"),
                fix="select the same input columns in the same units first "
                "(inputs_in_degrees, select_inputs).",
            )
        if data.n_timepoints != first.n_timepoints:
            raise Gait2HipInputError(
                f"cannot mix {first.n_timepoints}- and {data.n_timepoints}-point cycles.",
                file=data.attrs.get("path"),
                fix="resample to the same number of points.",
            )
        for column, unit in zip(data.target_columns, data.target_units, strict=True):
            if union.setdefault(column, unit) != unit:
                raise Gait2HipInputError(
                    f"target '{column}' is in {union[column]} in one dataset and {unit} in another.",
                    file=data.attrs.get("path"),
                    column=column,
                    fix="normalise both per kg (gait2hip.train.recipes.per_kg) before mixing.",
                )
    columns = tuple(target_columns) if target_columns is not None else tuple(union)
    unknown = [c for c in columns if c not in union]
    if unknown:
        raise Gait2HipInputError(
            f"target column(s) {unknown} are in none of the datasets.", column=unknown[0],
            fix=f"choose from {list(union)}.",
        )  # fmt: skip
    Ys, metas, missing = [], [], {}
    for name, data in zip(names, datasets, strict=True):
        Y = np.full((len(data), data.n_timepoints, len(columns)), np.nan, dtype=np.float32)
        for j, column in enumerate(columns):
            if column in data.target_columns:
                Y[:, :, j] = data.Y[:, :, data.target_columns.index(column)]
        absent = [c for c in columns if c not in data.target_columns]
        if absent:
            missing[name] = absent
        meta = data.meta.copy()
        meta[DOMAIN_COLUMN] = name
        Ys.append(Y)
        metas.append(meta)
    attrs = {k: v for k, v in first.attrs.items() if k != "path"}
    simulated = [bool(d.attrs.get("simulated")) for d in datasets]
    # 'simulated' only when every source is; a mix of simulated and measured data says which is which
    attrs.update(
        name="+".join(names),
        missing_targets=missing,
        domains=list(names),
        simulated=all(simulated),
        simulated_domains=[n for n, s in zip(names, simulated, strict=True) if s],
    )
    return GaitDataset(
        X=np.concatenate([d.X for d in datasets]),
        Y=np.concatenate(Ys),
        input_columns=first.input_columns,
        target_columns=columns,
        input_units=first.input_units,
        target_units=tuple(union[c] for c in columns),
        meta=pd.concat(metas, ignore_index=True),
        attrs=attrs,
    )


def target_coverage(Y: np.ndarray) -> np.ndarray:
    """Fraction of finite entries of every target channel of ``Y`` [N, T, K] → [K]."""
    Y = np.asarray(Y)
    flat = Y.reshape(-1, Y.shape[-1])
    return np.isfinite(flat).mean(axis=0) if len(flat) else np.zeros(Y.shape[-1])


def check_target_coverage(
    Y: np.ndarray, columns: Sequence[str], *, what: str = "training set", file: str | None = None
) -> None:
    """Raise when a target column of ``Y`` [N, T, K] has no finite value at all (nothing to learn)."""
    coverage = target_coverage(Y)
    empty = [c for c, f in zip(columns, coverage, strict=True) if f == 0]
    if empty:
        raise Gait2HipInputError(
            f"target column(s) {empty} have no value in the {what} (all NaN): "
            "nothing can be learnt for them.",
            file=file,
            column=empty[0],
            fix="add data that has these targets (e.g. the simulated cohort), "
            "or leave them out of the targets.",
        )
    if np.isinf(np.asarray(Y)).any():
        raise Gait2HipInputError(
            f"infinite target values in the {what}.", file=file, fix="NaN marks a missing label; inf never."
        )
