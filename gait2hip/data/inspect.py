"""What is in a dataset, and what looks wrong with it (``gait2hip data inspect`` prints it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gait2hip.data.angles import guess_angle_unit
from gait2hip.data.dataset import GaitDataset

#: Plausible adult body mass and height; values outside are flagged, not refused.
MASS_RANGE_KG = (30.0, 200.0)
HEIGHT_RANGE_M = (1.2, 2.2)


@dataclass
class ColumnSummary:
    """One channel: name, unit, range over all samples and time points, non-finite count."""

    name: str
    unit: str
    minimum: float
    maximum: float
    n_nonfinite: int


@dataclass
class Inspection:
    """Summary of a dataset (see :func:`inspect_dataset`)."""

    spec: str
    kind: str
    name: str
    n_samples: int
    n_timepoints: int
    subjects: list[str]
    trials_per_subject: dict[str, int]
    n_trials: int
    cadences: dict[str, int]
    cohorts: dict[str, int]
    sides: dict[str, int]
    inputs: list[ColumnSummary]
    targets: list[ColumnSummary]
    cadence_spm: tuple[float, float]
    mass_kg: tuple[float, float]
    height_m: tuple[float, float]
    simulated: bool
    mass_normalized: bool
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _kind(spec: str) -> str:
    if spec == "default":
        return "default dataset (gait2hip NPZ)"
    if spec == "fukuchi2018":
        return "embedded real dataset (gait2hip NPZ)"
    path = Path(spec)
    if path.is_dir() or path.name.lower() == "manifest.csv":
        return "lab folder"
    from gait2hip.data.release import is_release_file

    return "Gait2Hip-60 release NPZ" if is_release_file(path) else "gait2hip NPZ"


def _columns(values: np.ndarray, names: tuple[str, ...], units: tuple[str, ...]) -> list[ColumnSummary]:
    out = []
    for i, (name, unit) in enumerate(zip(names, units, strict=True)):
        channel = values[:, :, i].astype(float)
        finite = channel[np.isfinite(channel)]
        out.append(
            ColumnSummary(
                name=name,
                unit=unit,
                minimum=float(finite.min()) if finite.size else float("nan"),
                maximum=float(finite.max()) if finite.size else float("nan"),
                n_nonfinite=int(channel.size - finite.size),
            )
        )
    return out


def _counts(values) -> dict[str, int]:
    return {(k if k else "(unlabelled)"): v for k, v in sorted(Counter(values).items())}


def _range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (float("nan"), float("nan"))


def summarize(dataset: GaitDataset, *, spec: str = "", kind: str = "dataset") -> Inspection:
    """An :class:`Inspection` of an in-memory dataset."""
    meta = dataset.meta
    trial_key = meta["trial_id"].where(meta["trial_id"] != "", meta.index.astype(str))
    trials = meta.assign(_trial=trial_key).groupby("subject_id", sort=False)["_trial"].nunique()
    inputs = _columns(dataset.X, dataset.input_columns, dataset.input_units)
    targets = _columns(dataset.Y, dataset.target_columns, dataset.target_units)
    mass = meta["mass_kg"].to_numpy(dtype=float)
    height = meta["height_m"].to_numpy(dtype=float)
    simulated = bool(dataset.attrs.get("simulated", False)) or bool((meta["source"] == "simulated").any())
    warnings: list[str] = []
    # angles whose values disagree with their declared unit
    for unit in ("deg", "rad"):
        idx = [i for i, u in enumerate(dataset.input_units) if u == unit]
        if not idx:
            continue
        table = {dataset.input_columns[i]: dataset.X[:, :, i].reshape(-1) for i in idx}
        guess = guess_angle_unit(table)
        if guess is not None and guess != unit:
            warnings.append(
                f"input angles are labelled '{unit}' but their values look like "
                f"{'radians' if guess == 'rad' else 'degrees'}."
            )
    for column in inputs + targets:
        if column.n_nonfinite:
            warnings.append(f"{column.name}: {column.n_nonfinite} NaN/inf value(s).")
    low, high = MASS_RANGE_KG
    odd = sorted(set(meta.loc[(mass < low) | (mass > high), "subject_id"]))
    if odd:
        warnings.append(f"body mass outside {low:g}–{high:g} kg for subject(s) {', '.join(odd)}.")
    low, high = HEIGHT_RANGE_M
    odd = sorted(set(meta.loc[(height < low) | (height > high), "subject_id"]))
    if odd:
        warnings.append(f"height outside {low:g}–{high:g} m for subject(s) {', '.join(odd)} (is it in cm?).")
    if np.isnan(height).all():
        warnings.append("no heights given.")
    if np.isnan(mass).any():
        warnings.append(
            f"body mass unknown for {int(np.isnan(mass).sum())} sample(s): targets stay per kg "
            "(N / N m and mass-based inputs cannot be derived)."
        )
    single = [s for s, n in trials.items() if n == 1]
    if single:
        shown = ", ".join(single[:10]) + (" …" if len(single) > 10 else "")
        warnings.append(f"{len(single)} subject(s) with a single trial: {shown}.")
    if dataset.attrs.get("synthetic"):
        warnings.append("SYNTHETIC test data: not biomechanics.")
    elif simulated:
        warnings.append("simulated data (a virtual cohort labelled by OpenSim), not measurements.")
    notes = list(dataset.attrs.get("notes", []))
    files = dataset.attrs.get("files", [])
    if len(files) > 1:
        merged = " + ".join(Path(f).name for f in files)
        notes.insert(0, f"merged {merged} (trials checked to line up).")
    return Inspection(
        spec=spec,
        kind=kind,
        name=str(dataset.attrs.get("name", Path(spec).stem if spec else "")),
        n_samples=len(dataset),
        n_timepoints=dataset.n_timepoints,
        subjects=dataset.subjects,
        trials_per_subject={str(k): int(v) for k, v in trials.items()},
        n_trials=int(trials.sum()),
        cadences=_counts(meta["cadence_label"]),
        cohorts=_counts(meta["cohort"]),
        sides=_counts(meta["side"]),
        inputs=inputs,
        targets=targets,
        cadence_spm=_range(meta["cadence_spm"].to_numpy(dtype=float)),
        mass_kg=_range(mass),
        height_m=_range(height),
        simulated=simulated,
        mass_normalized=dataset.mass_normalized,
        warnings=warnings,
        notes=notes,
    )


def inspect_dataset(
    path: str | Path,
    *,
    side: str = "right",
    hips: str = "own",
    trust_pickle: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> Inspection:
    """Load and summarise 'default', a gait2hip NPZ, a release NPZ (with its twin) or a lab folder.

    ``side``, ``hips`` and ``on_progress`` apply to lab folders (see
    :func:`gait2hip.data.lab.load_lab_folder`); ``trust_pickle`` to release files (see
    :func:`gait2hip.data.load_dataset`: unpickling can run code, so only for files from a
    source you trust).
    """
    from gait2hip.data import load_dataset

    spec = str(path)
    dataset = load_dataset(spec, side=side, hips=hips, trust_pickle=trust_pickle, on_progress=on_progress)
    return summarize(dataset, spec=spec, kind=_kind(spec))
