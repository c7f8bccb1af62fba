"""Score a benchmark run: gather every unit's predictions (plus the baseline and seed ensembles),
tabulate them with :mod:`gait2hip.evaluate.tables`, and write the tables and curves into the run folder.

Models train and predict per kg (N/kg, Nm/kg); every target is scored in its unit of
:data:`gait2hip.evaluate.tables.UNITS` — the hip contact force in % body weight (N/kg / 9.81 × 100),
converted from the units the dataset declares (:func:`gait2hip.evaluate.tables.scoring_factors`), for
the predictions, the truth and ``curves.npz`` alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.bench.data import Splits
from gait2hip.bench.rundir import write_curves
from gait2hip.bench.settings import BenchmarkSettings, Unit
from gait2hip.data.dataset import GaitDataset
from gait2hip.evaluate.baseline import MeanCurveBaseline
from gait2hip.evaluate.tables import BASELINE, metric_tables, paired_tests, reference_values, scoring_factors
from gait2hip.train.recipes import TARGETS

TABLES = ("metrics", "subject_metrics", "real_trials", "paired_tests")


def gather_predictions(
    units: list[Unit], results: dict, splits: Splits, settings: BenchmarkSettings
) -> dict[tuple[str, str, str, str], dict[str, np.ndarray]]:
    """``[(protocol, model, target, seed)][set]`` = per-kg predictions of that target.

    Seed ``'ensemble'``: the mean prediction over a system's seeds (when it has several);
    model ``'mean-curve'`` (protocol 'baseline', seed '-'): the baseline fitted on the pool.
    """
    eval_sets = splits.eval_sets()
    predictions: dict[tuple, dict[str, np.ndarray]] = {}
    for target in settings.targets:
        baseline = MeanCurveBaseline.fit(splits.pool.select_targets(TARGETS[target]))
        predictions[("baseline", BASELINE, target, "-")] = {
            n: baseline.predict(d) for n, d in eval_sets.items()
        }
    for unit in units:
        info, preds = results[unit.key]
        for target in unit.reported_targets(settings.targets):
            idx = [info["target_columns"].index(c) for c in TARGETS[target]]
            predictions[(unit.protocol, unit.architecture, target, str(unit.seed))] = {
                name: values[:, :, idx] for name, values in preds.items()
            }
    by_system: dict[tuple, list[dict]] = {}
    for (protocol, model, target, seed), sets in predictions.items():
        if seed not in ("-", "ensemble"):
            by_system.setdefault((protocol, model, target), []).append(sets)
    for (protocol, model, target), runs in by_system.items():
        if len(runs) > 1:
            predictions[(protocol, model, target, "ensemble")] = {
                name: np.mean([r[name] for r in runs], axis=0) for name in runs[0]
            }
    return predictions


def scored_set(dataset: GaitDataset, targets: tuple[str, ...]) -> GaitDataset:
    """``dataset`` with each of ``targets``' columns in its scoring unit (a contact force in % BW)."""
    if "contact" not in targets or not dataset.target_group("contact"):
        return dataset
    scoring_factors(  # refuses a unit it cannot convert before anything is scored
        "contact",
        [dataset.target_units[dataset.target_columns.index(c)] for c in TARGETS["contact"]],
        file=dataset.attrs.get("path"),
    )
    return dataset.contact_in_percent_bw()


def in_scoring_units(
    predictions: dict[tuple[str, str, str, str], dict[str, np.ndarray]], splits: Splits
) -> dict[tuple[str, str, str, str], dict[str, np.ndarray]]:
    """Per-kg predictions → their target's scoring unit, by the units the training pool declares
    (a model predicts in the units it was trained on)."""
    pool = splits.pool
    converted = {}
    for key, sets in predictions.items():
        target = key[2]
        units = [pool.target_units[pool.target_columns.index(c)] for c in TARGETS[target]]
        factors = scoring_factors(target, units, file=pool.attrs.get("path")).astype(np.float32)
        converted[key] = {name: values * factors for name, values in sets.items()}
    return converted


def score_run(
    out: Path, units: list[Unit], results: dict, splits: Splits, settings: BenchmarkSettings
) -> dict[str, pd.DataFrame]:
    """Write metrics.csv, subject_metrics.csv, real_trials.csv, paired_tests.csv, curves.npz; the frames."""
    predictions = in_scoring_units(gather_predictions(units, results, splits, settings), splits)
    eval_sets = {name: scored_set(data, settings.targets) for name, data in splits.eval_sets().items()}
    metrics, subject_metrics, real = metric_tables(
        predictions,
        eval_sets,
        target_columns={t: TARGETS[t] for t in settings.targets},
        real_trials=splits.real,
    )
    tables = {
        "metrics": metrics,
        "subject_metrics": subject_metrics,
        "real_trials": real,
        "paired_tests": paired_tests(subject_metrics, protocols=settings.protocols, models=settings.models),
    }
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, float_format="%.6g")
    truth = {
        (target, name): reference_values(data, TARGETS[target])
        for target in settings.targets
        for name, data in eval_sets.items()
    }
    write_curves(out, predictions, truth)
    return tables
