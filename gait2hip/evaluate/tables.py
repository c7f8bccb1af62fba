"""Metric tables of a set of predictions: per cohort and cadence, per subject, per real trial, paired tests.

Predictions are keyed ``(protocol, model, target, seed)`` → ``{set name: [N, T, C] array}``
(in the target's scoring unit, :data:`UNITS`: per kg, the contact force in % body weight —
:func:`scoring_factors` converts; seed ``'ensemble'`` for a seed average, ``'-'`` for the baseline).
Set names:
``'test'`` (healthy held-out subjects), ``'external'`` (the patients), ``'real'`` (real trials).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gait2hip.data.dataset import GRAVITY, GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.evaluate.metrics import skill, subject_mean, subject_scores
from gait2hip.evaluate.realtrials import RealTrial, real_trial_rows
from gait2hip.evaluate.stats import paired_wilcoxon

CADENCES = ("slow", "med", "fast")
EXTERNAL_COHORT = "patient"
BASELINE = "mean-curve"
#: Evaluation set → the cohort its rows are labelled with.
COHORTS = {"test": "healthy", "external": EXTERNAL_COHORT}
#: The unit each target group is scored (and reported) in: forces and moments per kg, the hip contact
#: force in % body weight (the unit of the in-vivo implant literature).
UNITS = {"forces": "N/kg", "moments": "Nm/kg", "contact": "%BW"}
#: Factor from a column's per-kg unit to its group's scoring unit: % BW = N/kg / g × 100.
_TO_SCORING_UNIT = {
    ("forces", "N/kg"): 1.0,
    ("moments", "Nm/kg"): 1.0,
    ("contact", "N/kg"): 100.0 / GRAVITY,
    ("contact", "%BW"): 1.0,
}

Predictions = Mapping[tuple[str, str, str, str], Mapping[str, np.ndarray]]


def scoring_factors(target: str, units: Sequence[str], *, file: str | None = None) -> np.ndarray:
    """Per-channel factors [C] from the declared ``units`` of a target group's columns (per kg, as the
    benchmark trains) to its scoring unit (:data:`UNITS`): 1 for N/kg and Nm/kg, 100 / g for a contact
    force in N/kg (→ % BW).

    Raises
    ------
    Gait2HipInputError
        A unit that cannot be put into the scoring unit (e.g. N or Nm: not yet divided by body mass).
    """
    factors = []
    for unit in units:
        factor = _TO_SCORING_UNIT.get((target, unit))
        if factor is None:
            accepted = [u for (t, u) in _TO_SCORING_UNIT if t == target]
            raise Gait2HipInputError(
                f"the {target} targets are in {unit}; they are scored in {UNITS.get(target, '?')}.",
                file=file,
                fix=f"give the {target} columns in {' or '.join(accepted) or 'a known unit'}.",
            )
        factors.append(factor)
    return np.asarray(factors, dtype=np.float64)


def reference_values(data: GaitDataset, columns: Sequence[str]) -> np.ndarray:
    """``data``'s targets ``columns`` [N, T, C]; NaN (no reference) for a column it does not have
    (e.g. the contact force of a real trial that was never labelled with it)."""
    out = np.full((len(data), data.n_timepoints, len(columns)), np.nan, dtype=data.Y.dtype)
    for j, column in enumerate(columns):
        if column in data.target_columns:
            out[:, :, j] = data.Y[:, :, data.target_columns.index(column)]
    return out


def cohort_rows(
    data: GaitDataset, truth: np.ndarray, prediction: np.ndarray, *, base: dict
) -> tuple[list[dict], list[dict]]:
    """Metric rows (overall + per cadence, subject-mean) and per-subject rows for one cohort."""
    labels = data.meta["cadence_label"].to_numpy(dtype=str)
    subjects = data.meta["subject_id"].to_numpy(dtype=str)
    rows, subject_rows = [], []
    for cadence in ("overall", *CADENCES):
        mask = np.ones(len(data), dtype=bool) if cadence == "overall" else labels == cadence
        if not mask.any():
            continue
        per_subject = subject_scores(truth[mask], prediction[mask], subjects[mask])
        rows.append({**base, "cadence": cadence, **subject_mean(per_subject)})
        for subject, values in per_subject.iterrows():
            subject_rows.append({**base, "cadence": cadence, "subject_id": subject, **values.to_dict()})
    return rows, subject_rows


def metric_tables(
    predictions: Predictions,
    eval_sets: Mapping[str, GaitDataset],
    *,
    target_columns: Mapping[str, Sequence[str]],
    real_trials: Sequence[RealTrial] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """metrics, subject_metrics and real_trials frames of every prediction, with skill vs the baseline.

    Parameters
    ----------
    predictions
        See the module docstring; the baseline's rows (model ``'mean-curve'``) give the skill reference.
    eval_sets
        The datasets predicted, by set name.
    target_columns
        The columns of each target ('forces', 'moments', 'contact') in the predictions' channel order;
        ``eval_sets`` hold them in the scoring unit (:data:`UNITS`), as the predictions do.
    real_trials
        The trials of the ``'real'`` set, in order.
    """
    rows, subject_rows, real_rows = [], [], []
    for (protocol, model, target, seed), sets in predictions.items():
        columns = list(target_columns[target])
        base = {"protocol": protocol, "model": model, "target": target, "seed": seed, "units": UNITS[target]}
        for set_name, cohort in COHORTS.items():
            if set_name not in sets:
                continue
            data = eval_sets[set_name]
            r, s = cohort_rows(
                data, data.select_targets(columns).Y, sets[set_name], base={**base, "cohort": cohort}
            )
            rows += r
            subject_rows += s
        if "real" in sets:
            truth = reference_values(eval_sets["real"], columns)
            real_rows += real_trial_rows(real_trials, truth, sets["real"], columns=columns, base=base)
    metrics = pd.DataFrame(rows)
    if len(metrics):
        metrics["skill"] = _skill(metrics, ["target", "cohort", "cadence"])
    real = pd.DataFrame(real_rows)
    if len(real):
        real["skill"] = _skill(real, ["target", "trial"])
    return metrics, pd.DataFrame(subject_rows), real


def _skill(frame: pd.DataFrame, key: list[str]) -> list[float]:
    reference = frame[frame["model"] == BASELINE].set_index(key)["rmse"]
    return [
        skill(rmse, reference.get(tuple(values), np.nan))
        for rmse, *values in zip(frame["rmse"], *(frame[k] for k in key), strict=True)
    ]


def paired_tests(
    subject_metrics: pd.DataFrame, *, protocols: Sequence[str], models: Sequence[str]
) -> pd.DataFrame:
    """Wilcoxon signed-rank on per-subject RMSE (healthy test subjects, seed-averaged), per target.

    Pairs: every two models within a protocol, each model vs the baseline, and gait2hip vs
    paper for the same model when both protocols ran.
    """
    if subject_metrics.empty:
        return pd.DataFrame()
    frames = []
    data = subject_metrics[
        (subject_metrics["cohort"] == "healthy")
        & (subject_metrics["cadence"] == "overall")
        & (subject_metrics["seed"] != "ensemble")
        & (~subject_metrics["protocol"].str.startswith("ablation"))
    ]
    for target, group in data.groupby("target"):
        systems = {
            f"{protocol}/{model}": g.groupby("subject_id")["rmse"].mean()
            for (protocol, model), g in group.groupby(["protocol", "model"])
        }
        names = list(systems)
        pairs = []
        for protocol in protocols:
            within = [n for n in names if n.startswith(protocol + "/")]
            pairs += [(a, b) for i, a in enumerate(within) for b in within[i + 1 :]]
            pairs += [(a, f"baseline/{BASELINE}") for a in within if f"baseline/{BASELINE}" in systems]
        if {"paper", "gait2hip"} <= set(protocols):
            pairs += [
                (f"gait2hip/{m}", f"paper/{m}")
                for m in models
                if f"gait2hip/{m}" in systems and f"paper/{m}" in systems
            ]
        table = paired_wilcoxon(systems, pairs=pairs)
        table.insert(0, "target", target)
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
