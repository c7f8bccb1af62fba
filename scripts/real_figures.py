"""README figure: the default bundle on REAL people it never trained on, against the mean curves.

Usage (from the repository root)::

    PYTHONPATH=$PWD python scripts/real_figures.py --out docs/real/default_on_real.png [--model default]

Data: the embedded REAL fukuchi2018 — only the subjects the default bundle never saw (the 20 %
subject hold-out of ``scripts/train_default_bundles.py``: ``subject_holdout``, default_rng(42)) —
and the OpenSim example trials (gait2392 subject01 with OpenSim ID recomputed; the Moco 3-D walk
with its id_walk.sto), labs never trained on. Per panel: the measured hip moment (black; mean ± SD
over the held-out cycles), the bundle's prediction (blue), the training data's mean curve (grey,
dashed: the pooled mean of the simulated cohort and the fukuchi2018 training subjects) and the
lab's own mean curve (red, dotted: the other fukuchi2018 subjects; for the example trials all of
fukuchi2018). Moments in Nm/kg, internal joint moments, OpenSim signs (positive = flexion /
adduction / internal rotation).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from gait2hip.bench.realtrials import load_real_trials
from gait2hip.data import load_dataset
from gait2hip.data.columns import MOMENTS_R
from gait2hip.evaluate.baseline import MeanCurveBaseline
from gait2hip.evaluate.splits import subject_holdout
from gait2hip.models.bundle import load_bundle
from gait2hip.models.discovery import resolve_bundle_paths
from gait2hip.paths import shared_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    bundle = load_bundle(resolve_bundle_paths(args.model, target="moments")[0])
    idx = [bundle.target_columns.index(c) for c in MOMENTS_R]
    real = load_dataset("fukuchi2018")
    held = subject_holdout(real.meta["subject_id"].to_numpy(dtype=str))
    test, others = real.select(subjects=held.test), real.select(subjects=held.pool)
    trials, _ = load_real_trials(shared_dir())
    rows = [("fukuchi2018, 6 held-out subjects", test, MeanCurveBaseline.fit(others))]
    rows += [(t.name, t.dataset, MeanCurveBaseline.fit(real)) for t in trials]
    sim = load_dataset("default").normalized_by_mass().select_targets(MOMENTS_R)
    train_mean = np.concatenate([sim.Y, others.Y]).mean(axis=0)
    fig, axes = plt.subplots(len(rows), 3, figsize=(12, 3.0 * len(rows)), squeeze=False)
    x = np.linspace(0, 100, real.n_timepoints)
    for r, (label, data, lab) in enumerate(rows):
        inputs = data.inputs_in_degrees().select_inputs(list(bundle.input_columns)).X
        predicted = bundle.predict_normalised(inputs)[:, :, idx]
        measured = data.select_targets(MOMENTS_R).Y
        lab_curve = lab.predict(data)[:, :, [lab.target_columns.index(c) for c in MOMENTS_R]]
        for j, column in enumerate(MOMENTS_R):
            ax = axes[r][j]
            m, s = measured[:, :, j].mean(axis=0), measured[:, :, j].std(axis=0)
            ax.fill_between(x, m - s, m + s, color="0.85")
            ax.plot(x, m, "k", label="measured (ID)")
            ax.plot(x, predicted[:, :, j].mean(axis=0), color="#1f77b4", label="default bundle")
            ax.plot(x, train_mean[:, j], "--", color="0.5", label="training mean curve")
            ax.plot(x, lab_curve[:, :, j].mean(axis=0), ":", color="#d62728", label="lab's own mean curve")
            rmse = float(np.sqrt(np.mean((predicted[:, :, j] - measured[:, :, j]) ** 2)))
            ax.set_title(f"{label}\n{column.removesuffix('_r_moment')} (RMSE {rmse:.3f})", fontsize=8)
            ax.set_xlabel("% gait cycle")
            ax.set_ylabel("Nm/kg")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out} (model {bundle.name})")


if __name__ == "__main__":
    main()
