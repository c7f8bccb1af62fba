"""Calibration of the prediction bands: fitting a bundle's band, and measuring its coverage.

Sources of labelled cycles the bundle was NOT trained on:

* ``simulated held-out``: the default cohort's healthy test subjects (the bundle manifest's
  ``metrics.test_subjects``, never trained on) — right-hip targets per kg;
* ``simulated patients``: the default cohort's simulated patients (never trained on);
* ``fukuchi2018``: the embedded REAL dataset (30 adults, hip moments only);
* ``opensim-examples``: the measured OpenSim example trials (:mod:`gait2hip.bench.realtrials`).

For the source a band was fitted on, the coverage is CROSS-FITTED: the subjects are split in
``folds`` groups and each group is covered by a band fitted on the other groups (so every
number is a held-out one); other sources are covered by the bundle's own band. A fine-tuned
bundle (its manifest lists the subjects it was fine-tuned on) is scored with its own band on
the other subjects only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
    uncertainty_record,
)
from gait2hip.train.finetune import lab_arrays
from gait2hip.train.folds import group_kfold

SOURCES = ("simulated held-out", "simulated patients", "fukuchi2018", "opensim-examples")


@dataclass
class Source:
    """Labelled cycles in a bundle's columns: inputs (deg), targets per kg (NaN = absent)."""

    name: str
    real: bool
    X: np.ndarray
    Y: np.ndarray
    subjects: np.ndarray


def _parts(bundle: Bundle, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Ensemble mean, member spread and OOD inflation of cycles X."""
    mean, spread = member_stats(bundle.predict_members(X))
    inflation = (
        ood_inflation(ood_distance(X, bundle.reference), bundle.manifest["ood"]["threshold"])
        if bundle.has_ood
        else None
    )
    return mean, spread, inflation


def fit_source_band(bundle: Bundle, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """The band of ``bundle`` fitted on held-out cycles X, Y (see :mod:`gait2hip.models.uncertainty`)."""
    mean, spread, inflation = _parts(bundle, X)
    residual = Y - mean
    reference_spread = np.nanmean(spread, axis=0)
    scale = band_scale(spread=spread, band_spread=reference_spread, inflation=inflation, shape=mean.shape)
    return fit_band(residual, scale=scale, spread=spread)


def band_for(bundle: Bundle, band: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits of ``band`` (per kg) for cycles X, as the Predictor draws them."""
    mean, spread, inflation = _parts(bundle, X)
    scale = band_scale(spread=spread, band_spread=band["band_spread"], inflation=inflation, shape=mean.shape)
    return band_limits(mean, band, scale)


def crossfit_coverage(bundle: Bundle, source: Source, *, folds: int = 5) -> dict[str, Any]:
    """Coverage of bands fitted on the other subject groups (each group held out once)."""
    lower = np.full(source.Y.shape, np.nan)
    upper = np.full(source.Y.shape, np.nan)
    for val in group_kfold(source.subjects, n_splits=min(folds, len(set(source.subjects)))):
        train = np.setdiff1d(np.arange(len(source.X)), val)
        band = fit_source_band(bundle, source.X[train], source.Y[train])
        lower[val], upper[val] = band_for(bundle, band, source.X[val])
    return coverage(source.Y, lower, upper)


def calibration_record(source: Source) -> dict[str, Any]:
    """What a band fitted on ``source`` records in the manifest."""
    return {
        "data": source.name,
        "real": source.real,
        "subjects": len(set(source.subjects)),
        "cycles": len(source.X),
        "how": "residuals of cycles of subjects the bundle was not trained on",
    }


def calibrate_bundle(bundle: Bundle, source: Source, out: str | Path) -> Path:
    """Write ``bundle`` with a band fitted on ``source`` to ``out`` (may be its own folder)."""
    from gait2hip.models.ensemble import with_band

    band = fit_source_band(bundle, source.X, source.Y)
    record = uncertainty_record(members=len(bundle.ensemble), calibration=calibration_record(source))
    return with_band(bundle, out, band=band, uncertainty=record)


def calibrate_joint_bundle(
    bundle: Bundle, *, simulated: Source, real: Source, out: str | Path, real_targets: tuple[str, ...]
) -> Path:
    """Write a joint bundle with ONE band whose ``real_targets`` channels (the hip moments) are
    fitted on ``real`` held-out subjects only and every other channel (forces, contact force: no
    real labels exist) on ``simulated`` held-out subjects only. Each channel's conformal quantile
    comes from the source that labels it; the other source's entries are masked (NaN)."""
    from gait2hip.models.ensemble import with_band

    is_real = np.isin(np.asarray(bundle.target_columns), real_targets)
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
        },
    )
    return with_band(bundle, out, band=band, uncertainty=record)


# ---------------------------------------------------------------------- sources
def source_from(bundle: Bundle, dataset: GaitDataset, name: str, *, real: bool) -> Source | None:
    """A calibration source: ``dataset``'s cycles as the bundle's inputs and per-kg targets."""
    if not any(c in dataset.target_columns for c in bundle.target_columns) or len(dataset) == 0:
        return None
    X, Y, _ = lab_arrays(bundle, dataset)
    return Source(name=name, real=real, X=X, Y=Y, subjects=dataset.meta["subject_id"].to_numpy(dtype=str))


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
            sources.append(
                source_from(
                    bundle, cohort.take(np.flatnonzero(kind == "patient")), "simulated patients", real=False
                )
            )
    if "fukuchi2018" in names:
        sources.append(source_from(bundle, load_dataset("fukuchi2018"), "fukuchi2018", real=True))
    if "opensim-examples" in names and shared is not None:
        from gait2hip.bench.realtrials import load_real_trials

        trials, _ = load_real_trials(shared)
        if trials:
            merged = GaitDataset.concat([t.dataset for t in trials])
            merged.meta["subject_id"] = [t.name for t in trials]
            sources.append(source_from(bundle, merged, "opensim-examples", real=True))
    return [s for s in sources if s is not None]


def calibration_table(bundles: list[Bundle], *, shared: Path | None, folds: int = 5) -> pd.DataFrame:
    """Empirical coverage and mean width of every bundle's band on every source it has targets in."""
    rows = []
    for bundle in bundles:
        if not bundle.has_band:
            continue
        fitted_on = bundle.manifest["uncertainty"].get("calibration", {}).get("data")
        trained = set((bundle.manifest.get("extra") or {}).get("finetune", {}).get("subjects", []))
        for source in load_sources(bundle, shared=shared):
            if trained:  # a fine-tuned bundle: only the subjects it was not fine-tuned on
                keep = ~np.isin(source.subjects, sorted(trained))
                if not keep.any():
                    continue
                source = Source(
                    source.name, source.real, source.X[keep], source.Y[keep], source.subjects[keep]
                )
            crossfit = source.name == fitted_on and not trained
            if crossfit:
                result = crossfit_coverage(bundle, source, folds=folds)
            else:
                result = coverage(source.Y, *band_for(bundle, bundle.band, source.X))
            mean, _, inflation = _parts(bundle, source.X)
            rmse = float(np.sqrt(np.nanmean((source.Y - mean) ** 2)))
            rows.append(
                {
                    "bundle": bundle.name,
                    "members": len(bundle.ensemble),
                    "data": source.name,
                    "real": source.real,
                    "subjects": len(set(source.subjects)),
                    "cycles": len(source.X),
                    "how": f"cross-fitted ({min(folds, len(set(source.subjects)))} subject folds)"
                    if crossfit
                    else "bundle's band",
                    "nominal": LEVEL,
                    "coverage": result["coverage"],
                    "mean_width": result["width"],
                    "rmse": rmse,
                    "units": "/".join(sorted(set(bundle.target_units))),
                    "ood_inflated_fraction": float(np.mean(inflation > 1.0))
                    if inflation is not None
                    else 0.0,
                }
            )
    return pd.DataFrame(rows)
