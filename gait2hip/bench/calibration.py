"""Calibration of the prediction bands: fitting a bundle's band, and measuring its coverage.

Sources of labelled cycles (:func:`load_sources`), each restricted to subjects the bundle was NOT
trained on:

* ``simulated held-out``: the default cohort's healthy test subjects (the manifest's
  ``metrics.test_subjects``) — right-hip targets per kg;
* ``simulated patients``: the default cohort's simulated patients (never trained on);
* ``fukuchi2018``: the embedded REAL dataset (30 adults, hip moments only) — for a bundle
  trained on some of its subjects (the data card's ``real_sources``), ONLY the manifest's
  ``metrics.real_test_subjects`` (the joint default: 6 of 30); such a bundle without that list is
  not scored on it at all; a fine-tuned bundle loses the subjects it was fine-tuned on;
* ``opensim-examples``: the measured OpenSim example trials (:mod:`gait2hip.bench.realtrials`).

Rows are per source and per target group (forces, moments, contact force: their widths have other
units). Where the band's channels of a group were fitted on the same subjects (the manifest's
``uncertainty.calibration.sources``; a one-source band: every channel), the coverage there is
in-sample for the conformal quantile, so it is reported twice more, CROSS-FITTED: each subject
group is covered by a band fitted on the other subjects of the source only — leave-one-subject-out
and two halves (each half covered by the other's band). Other sources use the bundle's own band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.data.columns import CONTACT_R, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.models.bundle import Bundle
from gait2hip.models.ood import ood_distance
from gait2hip.models.uncertainty import (
    LEVEL,
    band_limits,
    band_scale,
    coverage,
    fit_band,
    member_stats,
    ood_inflation,
    spread_reference,
    uncertainty_record,
)
from gait2hip.train.folds import group_kfold
from gait2hip.train.labdata import lab_arrays

SOURCES = ("simulated held-out", "simulated patients", "fukuchi2018", "opensim-examples")
#: Target groups of the coverage table (their widths have different units).
GROUPS: dict[str, tuple[str, ...]] = {"forces": MUSCLE_GROUPS_R, "moments": MOMENTS_R, "contact": CONTACT_R}


@dataclass
class Source:
    """Labelled cycles in a bundle's columns: inputs (deg), targets per kg (NaN = absent)."""

    name: str
    real: bool
    X: np.ndarray
    Y: np.ndarray
    subjects: np.ndarray
    note: str = ""

    def take(self, keep: np.ndarray) -> Source:
        return Source(self.name, self.real, self.X[keep], self.Y[keep], self.subjects[keep], self.note)


def _parts(bundle: Bundle, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Ensemble mean, member spread and OOD inflation of cycles X."""
    mean, spread = member_stats(bundle.predict_members(X))
    inflation = (
        ood_inflation(ood_distance(X, bundle.reference), bundle.manifest["ood"]["threshold"])
        if bundle.has_ood
        else None
    )
    return mean, spread, inflation


def _fit(parts: tuple, Y: np.ndarray) -> dict[str, np.ndarray]:
    """A band from predictions ``parts`` (:func:`_parts`) and targets Y of the same cycles. The
    spread reference of each channel is its mean spread over the cycles labelled for it."""
    mean, spread, inflation = parts
    reference = spread_reference(spread, np.isfinite(Y))
    scale = band_scale(spread=spread, band_spread=reference, inflation=inflation, shape=mean.shape)
    return fit_band(Y - mean, scale=scale, spread=spread)


def _limits(parts: tuple, band: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    mean, spread, inflation = parts
    scale = band_scale(spread=spread, band_spread=band["band_spread"], inflation=inflation, shape=mean.shape)
    return band_limits(mean, band, scale)


def fit_source_band(bundle: Bundle, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """The band of ``bundle`` fitted on held-out cycles X, Y (see :mod:`gait2hip.models.uncertainty`)."""
    return _fit(_parts(bundle, X), Y)


def band_for(bundle: Bundle, band: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of ``band`` (per kg) for cycles X, as the Predictor draws them."""
    return _limits(_parts(bundle, X), band)


def _subset(parts: tuple, index: np.ndarray) -> tuple:
    return tuple(None if p is None else p[index] for p in parts)


def crossfit_limits(
    parts: tuple, Y: np.ndarray, folds: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Limits of every fold's cycles from a band fitted on the other folds' cycles only."""
    lower, upper = np.full(Y.shape, np.nan), np.full(Y.shape, np.nan)
    for val in folds:
        train = np.setdiff1d(np.arange(len(Y)), val)
        lower[val], upper[val] = _limits(_subset(parts, val), _fit(_subset(parts, train), Y[train]))
    return lower, upper


def crossfit_coverage(bundle: Bundle, source: Source, *, folds: int = 5) -> dict[str, Any]:
    """Coverage of bands fitted on the other subject groups (each group held out once)."""
    splits = group_kfold(source.subjects, n_splits=min(folds, len(set(source.subjects))))
    return coverage(source.Y, *crossfit_limits(_parts(bundle, source.X), source.Y, splits))


def calibration_record(source: Source) -> dict[str, Any]:
    """What a band fitted on ``source`` records in the manifest."""
    return {
        "data": source.name,
        "real": source.real,
        "subjects": len(set(source.subjects)),
        "cycles": len(source.X),
        "how": "residuals of cycles of subjects the bundle was not trained on",
        "sources": [_source_entry(source, channels=None)],
    }


def _source_entry(source: Source, *, channels: Sequence[str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"data": source.name, "subjects": sorted(set(source.subjects.tolist()))}
    if channels is not None:
        entry["channels"] = list(channels)
    return entry


def calibrate_bundle(bundle: Bundle, source: Source, out: str | Path) -> Path:
    """Write ``bundle`` with a band fitted on ``source`` to ``out`` (may be its own folder)."""
    from gait2hip.models.ensemble import with_band

    band = fit_source_band(bundle, source.X, source.Y)
    labelled = np.isfinite(source.Y).any(axis=(0, 1))
    record = calibration_record(source)
    if not labelled.all():  # e.g. moments-only real data for a joint bundle: keep the other channels' band
        if not bundle.has_band:
            from gait2hip.errors import Gait2HipInputError

            missing = [c for c, ok in zip(bundle.target_columns, labelled, strict=True) if not ok]
            raise Gait2HipInputError(
                f"'{source.name}' has no labels for {', '.join(missing)} and bundle {bundle.name} has no "
                "band to keep for them.",
                fix="calibrate on a source with every target of the bundle.",
            )
        band = {k: np.where(labelled[None], band[k], bundle.band[k]).astype(np.float32) for k in band}
        channels = [c for c, ok in zip(bundle.target_columns, labelled, strict=True) if ok]
        kept = [
            {**e, "channels": [c for c in e.get("channels") or bundle.target_columns if c not in channels]}
            for e in (bundle.manifest["uncertainty"].get("calibration", {}).get("sources") or [])
        ]
        record["sources"] = [_source_entry(source, channels=channels)] + [e for e in kept if e["channels"]]
        record["data"] = f"{source.name} (channels {', '.join(channels)}; the others kept)"
    record = uncertainty_record(members=len(bundle.ensemble), calibration=record)
    return with_band(bundle, out, band=band, uncertainty=record)


def calibrate_joint_bundle(
    bundle: Bundle, *, simulated: Source, real: Source, out: str | Path, real_targets: tuple[str, ...]
) -> Path:
    """Write a joint bundle with ONE band whose ``real_targets`` channels (the hip moments) are
    fitted on ``real`` held-out subjects only and every other channel (forces, contact force: no
    real labels exist) on ``simulated`` held-out subjects only. Each channel's conformal quantile
    comes from the source that labels it; the other source's entries are masked (NaN)."""
    from gait2hip.models.ensemble import with_band

    columns = list(bundle.target_columns)
    is_real = np.isin(np.asarray(columns), real_targets)
    Y_sim, Y_real = simulated.Y.copy(), real.Y.copy()
    Y_sim[..., is_real] = np.nan
    Y_real[..., ~is_real] = np.nan
    band = fit_source_band(bundle, np.concatenate([simulated.X, real.X]), np.concatenate([Y_sim, Y_real]))
    record = uncertainty_record(
        members=len(bundle.ensemble),
        calibration={
            "data": f"{real.name} (channels {', '.join(real_targets)}) + {simulated.name} (the others)",
            "real": True,
            "subjects": len(set(real.subjects)) + len(set(simulated.subjects)),
            "cycles": len(real.X) + len(simulated.X),
            "how": "residuals of cycles of subjects the bundle was not trained on, per channel from the "
            "source that labels it",
            "sources": [
                _source_entry(real, channels=[c for c in columns if c in real_targets]),
                _source_entry(simulated, channels=[c for c in columns if c not in real_targets]),
            ],
        },
    )
    return with_band(bundle, out, band=band, uncertainty=record)


# ---------------------------------------------------------------------- sources
def source_from(
    bundle: Bundle, dataset: GaitDataset, name: str, *, real: bool, note: str = ""
) -> Source | None:
    """A calibration source: ``dataset``'s cycles as the bundle's inputs and per-kg targets."""
    if not any(c in dataset.target_columns for c in bundle.target_columns) or len(dataset) == 0:
        return None
    X, Y, _ = lab_arrays(bundle, dataset)
    subjects = dataset.meta["subject_id"].to_numpy(dtype=str)
    return Source(name=name, real=real, X=X, Y=Y, subjects=subjects, note=note)


def real_test_subjects(bundle: Bundle, dataset: str) -> list[str] | None:
    """The subjects of REAL ``dataset`` the bundle may be scored on: None = all (neither it nor its
    parent, for a fine-tuned bundle, trained on it), else the manifest's ``metrics.real_test_subjects``
    (of the parent too when the parent trained on it; [] when it trained on it but lists none)."""
    held: set[str] | None = None
    for record in (bundle.manifest, bundle.manifest.get("parent") or {}):
        if dataset not in ((record.get("data_card") or {}).get("real_sources") or []):
            continue
        listed = {str(s) for s in (record.get("metrics") or {}).get("real_test_subjects", [])}
        held = listed if held is None else held & listed
    return None if held is None else sorted(held)


def _fukuchi(bundle: Bundle) -> Source | None:
    from gait2hip.data import load_dataset

    data = load_dataset("fukuchi2018")
    held = real_test_subjects(bundle, "fukuchi2018")
    if held is None:
        return source_from(bundle, data, "fukuchi2018", real=True, note="never trained on: all subjects")
    if not held:
        return None
    n_all = data.meta["subject_id"].nunique()
    note = (
        f"fukuchi2018: scored on the {len(held)} subjects the bundle was not trained on "
        f"(manifest metrics.real_test_subjects: {', '.join(held)}); its other {n_all - len(held)} are "
        "training data"
    )
    return source_from(bundle, data.select(subjects=held), "fukuchi2018 held-out", real=True, note=note)


def load_sources(bundle: Bundle, *, shared: Path | None, names: tuple[str, ...] = SOURCES) -> list[Source]:
    """The calibration sources that have any of ``bundle``'s targets (see the module docstring)."""
    from gait2hip.data import load_dataset
    from gait2hip.train.recipes import per_kg

    sources: list[Source | None] = []
    if "simulated held-out" in names or "simulated patients" in names:
        cohort = per_kg(load_dataset("default"))
        cohort = cohort.select_targets([c for c in bundle.target_columns if c in cohort.target_columns])
        kind = cohort.meta["cohort"].to_numpy(dtype=str)
        test = set(bundle.manifest.get("metrics", {}).get("test_subjects", []))
        subjects = cohort.meta["subject_id"].to_numpy(dtype=str)
        if "simulated held-out" in names and test:
            held_out = cohort.take(np.flatnonzero(np.isin(subjects, sorted(test)) & (kind != "patient")))
            sources.append(source_from(bundle, held_out, "simulated held-out", real=False))
        if "simulated patients" in names:
            patients = cohort.take(np.flatnonzero(kind == "patient"))
            sources.append(source_from(bundle, patients, "simulated patients", real=False))
    if "fukuchi2018" in names:
        sources.append(_fukuchi(bundle))
    if "opensim-examples" in names and shared is not None:
        from gait2hip.bench.realtrials import load_real_trials

        trials, _ = load_real_trials(shared)
        if trials:
            merged = GaitDataset.concat([t.dataset for t in trials])
            merged.meta["subject_id"] = [t.name for t in trials]
            sources.append(source_from(bundle, merged, "opensim-examples", real=True))
    return [s for s in sources if s is not None]


# ---------------------------------------------------------------------- the coverage table
def fitted_channels(bundle: Bundle, source: Source) -> set[str]:
    """The bundle's channels whose band was fitted on exactly ``source``'s subjects."""
    calibration = (bundle.manifest.get("uncertainty") or {}).get("calibration") or {}
    entries = calibration.get("sources")
    if entries is None:  # an older one-source record
        entries = [{"data": calibration.get("data")}]
    subjects = sorted(set(source.subjects.tolist()))
    chosen: set[str] = set()
    for entry in entries:
        same_name = str(entry.get("data", "")).split(" (")[0] in (source.name, f"{source.name} held-out")
        same_people = "subjects" not in entry or sorted(entry["subjects"]) == subjects
        if same_name and same_people:
            chosen |= set(entry.get("channels") or bundle.target_columns)
    return chosen


def _row(bundle, source, group, how, result, rmse, inflation, labelled) -> dict[str, Any]:
    units = sorted({u for c, u in zip(bundle.target_columns, bundle.target_units, strict=True)
                    if c in GROUPS.get(group, ())})  # fmt: skip
    return {
        "bundle": bundle.name, "members": len(bundle.ensemble), "data": source.name, "real": source.real,
        "targets": group, "subjects": len(set(source.subjects[labelled])), "cycles": int(labelled.sum()),
        "how": how,
        "nominal": LEVEL, "coverage": result["coverage"], "mean_width": result["width"], "rmse": rmse,
        "units": "/".join(units),
        "ood_inflated_fraction": float(np.mean(inflation[labelled] > 1.0)) if inflation is not None else 0.0,
    }  # fmt: skip


def _halves(subjects: np.ndarray) -> list[np.ndarray]:
    return group_kfold(subjects, n_splits=2)


def source_rows(bundle: Bundle, source: Source, *, folds: int = 0) -> list[dict[str, Any]]:
    """Coverage rows of one source, per target group (see the module docstring). ``folds`` > 0
    replaces leave-one-subject-out by that many subject folds for sources with more subjects."""
    parts = _parts(bundle, source.X)
    mean, _, inflation = parts
    own = fitted_channels(bundle, source)
    rows = []
    for group, columns in GROUPS.items():
        index = [j for j, c in enumerate(bundle.target_columns) if c in columns]
        if not index or not np.isfinite(source.Y[..., index]).any():
            continue
        Y = np.full_like(source.Y, np.nan)
        Y[..., index] = source.Y[..., index]
        rmse = float(np.sqrt(np.nanmean((Y - mean) ** 2)))
        fitted_here = any(bundle.target_columns[j] in own for j in index)
        n_subjects = len(set(source.subjects[np.isfinite(Y).any(axis=(1, 2))]))
        how = "bundle's band (in-sample: fitted on these subjects)" if fitted_here else "bundle's band"
        results = [(how, coverage(Y, *_limits(parts, bundle.band)))]
        if fitted_here and n_subjects >= 2:
            k = n_subjects if not folds or n_subjects <= folds else folds
            label = "leave-one-subject-out" if k == n_subjects else f"{k} subject folds"
            loso = group_kfold(source.subjects, n_splits=k)
            results.append((f"cross-fitted, {label}", coverage(Y, *crossfit_limits(parts, Y, loso))))
            if n_subjects >= 4:
                halves = _halves(source.subjects)
                results.append(("cross-fitted, two halves", coverage(Y, *crossfit_limits(parts, Y, halves))))
        labelled = np.isfinite(Y).any(axis=(1, 2))
        rows += [_row(bundle, source, group, h, r, rmse, inflation, labelled) for h, r in results]
    return rows


def calibration_table(bundles: list[Bundle], *, shared: Path | None, folds: int = 0) -> pd.DataFrame:
    """Empirical coverage and mean width of every bundle's band on every source it has targets in
    (``.attrs['notes']``: which subjects each source was restricted to and why)."""
    rows, notes = [], []
    for bundle in bundles:
        if not bundle.has_band:
            continue
        trained = set((bundle.manifest.get("extra") or {}).get("finetune", {}).get("subjects", []))
        if real_test_subjects(bundle, "fukuchi2018") == []:
            notes.append(f"{bundle.name}: trained on fukuchi2018 without a list of held-out subjects — "
                         "not scored on it")  # fmt: skip
        for source in load_sources(bundle, shared=shared):
            if trained:  # a fine-tuned bundle: only the subjects it was not fine-tuned on
                keep = ~np.isin(source.subjects, sorted(trained))
                if not keep.all():
                    left = int((~keep).sum())
                    notes.append(
                        f"{bundle.name}: {source.name}: {left} cycles of its fine-tuning subjects left out"
                    )
                if not keep.any():
                    continue
                source = source.take(keep)
            if source.note:
                notes.append(f"{bundle.name}: {source.note}")
            rows += source_rows(bundle, source, folds=folds)
    table = pd.DataFrame(rows)
    table.attrs["notes"] = notes
    return table


# ---------------------------------------------------------------------- OOD flag vs band
def shifted(source: Source, *, degrees: float = 40.0) -> Source:
    """``source`` with every input angle shifted by ``degrees`` (far outside any training cohort)."""
    return Source(f"{source.name} + {degrees:g}° on every angle", source.real, source.X + degrees, source.Y,
                  source.subjects)  # fmt: skip


def ood_rows(bundle: Bundle, sources: Sequence[Source]) -> pd.DataFrame:
    """Do the OOD flag and the band tell one story? Per source: cycles flagged (either OOD rule; the
    distance rule alone widens the band), their mean OOD factor max(1, distance / threshold), and the
    band's mean widening (band width / the calibrated band's width: member-spread factor × OOD
    factor) of flagged and of unflagged cycles."""
    from gait2hip.models.ood import OOD_OUTSIDE_FRACTION_LIMIT, ood_outside_fraction

    rows = []
    threshold = float(bundle.manifest["ood"]["threshold"])
    for source in sources:
        mean, spread, inflation = _parts(bundle, source.X)
        far = ood_distance(source.X, bundle.reference) > threshold
        flagged = far | (ood_outside_fraction(source.X, bundle.reference) > OOD_OUTSIDE_FRACTION_LIMIT)
        factor = band_scale(
            spread=spread, band_spread=bundle.band["band_spread"], inflation=inflation, shape=mean.shape
        ).mean(axis=(1, 2))
        ood = np.ones(len(source.X)) if inflation is None else inflation

        def _mean(values: np.ndarray, keep: np.ndarray) -> float:
            return float(values[keep].mean()) if keep.any() else float("nan")

        rows.append(
            {
                "bundle": bundle.name, "data": source.name, "cycles": len(source.X),
                "flagged": int(flagged.sum()), "flagged by distance": int(far.sum()),
                "OOD factor flagged": _mean(ood, flagged), "widening flagged": _mean(factor, flagged),
                "widening unflagged": _mean(factor, ~flagged),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)
