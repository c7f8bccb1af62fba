"""Hip contact force scores of a bundle in % body weight (default: the shipped joint default).

    PYTHONPATH=$PWD python scripts/contact_scores.py [--model default] [--shared ../shared]

Sets: the SIMULATED cohort 2.0 subjects the bundle never trained on (its manifest's
``test_subjects``, the paper's hold-out: healthy; and the 9 simulated patients), scored as the
benchmark does (per subject, then averaged; skill = 1 − RMSE / RMSE of the training pool's mean
curve per cadence); and the OpenSim example trials (REAL people's kinematics) whose contact force
our pipeline labelled (:mod:`gait2hip.bench.realtrials`; a model estimate, not a measurement):
RMSE, per-channel r and R², and the peak |F| predicted vs labelled. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.bench.realtrials import load_real_trials
from gait2hip.data import load_dataset
from gait2hip.data.columns import CONTACT_R
from gait2hip.evaluate.baseline import MeanCurveBaseline
from gait2hip.evaluate.metrics import channel_r2, skill, subject_mean, subject_scores
from gait2hip.evaluate.realtrials import real_trial_rows
from gait2hip.evaluate.tables import scoring_factors
from gait2hip.models.bundle import load_bundle
from gait2hip.models.discovery import resolve_bundle_paths
from gait2hip.paths import shared_dir
from gait2hip.report.document import _markdown_table as markdown_table
from gait2hip.train.recipes import per_kg


def _predict(bundle, data) -> np.ndarray:
    inputs = data.inputs_in_degrees().select_inputs(list(bundle.input_columns)).X
    idx = [bundle.target_columns.index(c) for c in CONTACT_R]
    units = [bundle.target_units[j] for j in idx]
    return bundle.predict_normalised(inputs)[:, :, idx] * scoring_factors("contact", units)


def _truth(data) -> np.ndarray:
    contact = data.select_targets(CONTACT_R)
    return contact.Y * scoring_factors("contact", contact.target_units)


def simulated_rows(bundle, cohort, baseline) -> list[dict]:
    test = set(bundle.manifest["metrics"]["test_subjects"])
    subjects = cohort.meta["subject_id"].to_numpy(dtype=str)
    kind = cohort.meta["cohort"].to_numpy(dtype=str)
    rows = []
    for name, mask in (
        ("simulated held-out healthy (cohort 2.0)", np.isin(subjects, sorted(test)) & (kind != "patient")),
        ("simulated patients (cohort 2.0)", kind == "patient"),
    ):
        data = cohort.take(np.flatnonzero(mask))
        truth, ids = _truth(data), data.meta["subject_id"].to_numpy(dtype=str)
        model = subject_mean(subject_scores(truth, _predict(bundle, data), ids))
        base = subject_mean(subject_scores(truth, _truth_of_baseline(baseline, data), ids))
        r2 = channel_r2(truth, _predict(bundle, data))
        rows.append(
            {
                "set": name,
                "subjects / cycles": f"{model['n_subjects']} / {model['n_trials']}",
                "RMSE %BW": f"{model['rmse']:.1f}",
                "R² per channel (mean)": f"{model['r2_channel']:.2f}",
                "R² |F|": f"{r2[0]:.2f}",
                "mean-curve RMSE %BW": f"{base['rmse']:.1f}",
                "skill": f"{skill(model['rmse'], base['rmse']):.2f}",
            }
        )
    return rows


def _truth_of_baseline(baseline: MeanCurveBaseline, data) -> np.ndarray:
    units = ["N/kg"] * len(CONTACT_R)  # fitted on the per-kg pool
    return baseline.predict(data) * scoring_factors("contact", units)


def real_rows(bundle, trials, baseline) -> list[dict]:
    rows = []
    for trial in trials:
        if not set(CONTACT_R) <= set(trial.available):
            continue
        truth, predicted = _truth(trial.dataset), _predict(bundle, trial.dataset)
        row = real_trial_rows([trial], truth, predicted, columns=CONTACT_R, base={})[0]
        mean_curve = _truth_of_baseline(baseline, trial.dataset)
        base = float(np.sqrt(np.mean((truth - mean_curve) ** 2)))
        rows.append(
            {
                "trial (REAL kinematics, contact labelled by our pipeline)": trial.name,
                "RMSE %BW": f"{row['rmse']:.1f}",
                "r per channel (mean)": f"{row['r_channel']:.2f}",
                "R² per channel (mean)": f"{row['r2_channel']:.2f}",
                "r |F|": f"{row['r_hip_r_contact_mag']:.2f}",
                "skill vs training mean curve": f"{skill(row['rmse'], base):.2f}",
                "peak |F| predicted / labelled %BW": (
                    f"{predicted[0, :, 0].max():.0f} / {truth[0, :, 0].max():.0f}"
                ),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--shared", type=Path, default=None)
    args = parser.parse_args()
    bundle = load_bundle(resolve_bundle_paths(args.model)[0])
    if not set(CONTACT_R) <= set(bundle.target_columns):
        parser.error(f"{bundle.name} predicts no hip contact force")
    cohort = per_kg(load_dataset("default"))
    test = set(bundle.manifest["metrics"]["test_subjects"])
    healthy = cohort.meta["cohort"].to_numpy(dtype=str) != "patient"
    pool = cohort.take(np.flatnonzero(healthy & ~cohort.meta["subject_id"].isin(sorted(test)).to_numpy()))
    baseline = MeanCurveBaseline.fit(pool.select_targets(CONTACT_R))
    trials, problems = load_real_trials(shared_dir(path=args.shared) if args.shared else shared_dir())
    version = cohort.attrs.get("generator_version")
    print(f"bundle {bundle.name}; data {cohort.attrs.get('name')} (SIMULATED, generator {version})")
    print(markdown_table(pd.DataFrame(simulated_rows(bundle, cohort, baseline))))
    print()
    print(markdown_table(pd.DataFrame(real_rows(bundle, trials, baseline))))
    for problem in problems:
        print("real trials:", problem)


if __name__ == "__main__":
    main()
