"""'Before' figures: the SHIPPED default predictor zero-shot on every fukuchi2018 cycle (REAL data).

Usage (from the repository root)::

    PYTHONPATH=$PWD python scripts/fukuchi_before.py [--model default]

Data: the embedded real dataset ``fukuchi2018`` (178 mean gait cycles, 30 subjects, both legs,
3 overground speeds; hip moments in Nm/kg with OpenSim signs). Model: the installed default
bundles through the public ``gait2hip.predict.Predictor`` API (each cycle fed pre-cut, in the
right-leg frame, as the dataset stores it). Per-kg outputs are compared, so the unknown body
mass plays no role (any mass in the Predictor's range gives the same per-kg curves).

Baselines (RMSE skill = 1 − RMSE_model / RMSE_baseline):

* ``simulated mean``: the mean right-hip moment curve (Nm/kg) of the embedded simulated
  default cohort (all of its cycles — what the default models were trained on);
* ``LOSO mean``: for each fukuchi2018 subject, the mean curve of the OTHER 29 subjects'
  cycles (all speeds and both legs) — the in-domain reference;
* ``LOSO mean, same speed``: the same but only the other subjects' cycles of the same
  condition (a stronger, speed-aware reference).

Metrics are gait2hip's (``gait2hip.evaluate.metrics``): RMSE over all cycles, points and
channels; R² per channel over the pooled cycles and points.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from gait2hip.data import MOMENTS_R, load_dataset
from gait2hip.evaluate.metrics import channel_r2, channel_rmse, scores, skill
from gait2hip.predict import Predictor

NOMINAL_MASS_KG = 70.0  # the Predictor needs a mass; per-kg outputs do not depend on it


def predict_moments(dataset, model: str) -> tuple[np.ndarray, pd.DataFrame]:
    """[N, T, 3] predicted hip moments (Nm/kg) of every cycle, and the Predictor's per-cycle table."""
    predictor = Predictor.from_bundle(model)
    n, t, d = dataset.X.shape
    index = pd.MultiIndex.from_product([range(n), range(t)], names=["cycle", "point"])
    angles = pd.DataFrame(
        dataset.X.reshape(n * t, d).astype(float), index=index, columns=dataset.input_columns
    )
    prediction = predictor.predict_trial(angles, mass_kg=NOMINAL_MASS_KG, side="right", in_degrees=True)
    curves = prediction.curves
    out = np.stack(
        [
            curves.loc[curves["cycle"] == number + 1, [c + "_per_kg" for c in MOMENTS_R]].to_numpy()
            for number in range(n)
        ]
    )
    return out, prediction.cycles


def loso_means(dataset, *, same_condition: bool) -> np.ndarray:
    """Each cycle's leave-one-subject-out mean curve [N, T, 3]."""
    subjects = dataset.meta["subject_id"].to_numpy(dtype=str)
    labels = dataset.meta["cadence_label"].to_numpy(dtype=str)
    out = np.empty_like(dataset.Y, dtype=float)
    for i in range(len(dataset)):
        keep = subjects != subjects[i]
        if same_condition:
            keep &= labels == labels[i]
        out[i] = dataset.Y[keep].mean(axis=0)
    return out


def report(name: str, y_true: np.ndarray, y_pred: np.ndarray, baselines: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    model = scores(y_true, y_pred)
    for label, pred in [(name, y_pred), *baselines.items()]:
        s = scores(y_true, pred)
        r2 = channel_r2(y_true, pred)
        rmse_c = channel_rmse(y_true, pred)
        row = {"predictor": label, "rmse": s["rmse"], "r2_channel_mean": s["r2_channel"]}
        for j, column in enumerate(MOMENTS_R):
            short = column.removeprefix("hip_").removesuffix("_r_moment")
            row[f"r2_{short}"] = float(r2[j])
            row[f"rmse_{short}"] = float(rmse_c[j])
        if label != name:
            row["skill_of_model_vs_this"] = skill(model["rmse"], s["rmse"])
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="bundle spec for Predictor.from_bundle")
    args = parser.parse_args()
    real = load_dataset("fukuchi2018")
    sim = load_dataset("default").select_targets(MOMENTS_R).normalized_by_mass()
    y_true = real.Y.astype(float)
    y_pred, cycles = predict_moments(real, args.model)
    sim_mean = np.broadcast_to(sim.Y.mean(axis=0), y_true.shape)
    baselines = {
        "simulated mean": sim_mean,
        "LOSO mean": loso_means(real, same_condition=False),
        "LOSO mean, same speed": loso_means(real, same_condition=True),
    }
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(f"data: fukuchi2018 (REAL) {real!r}; model: {args.model} ({Predictor.from_bundle(args.model)!r})")
    print(
        pd.DataFrame(report("model (zero-shot)", y_true, y_pred, baselines)).round(3).to_string(index=False)
    )
    flagged = cycles["ood"].mean() if "ood" in cycles else float("nan")
    print(f"cycles flagged out of distribution by the predictor: {flagged:.1%} of {len(cycles)}")
    for label in ("slow", "med", "fast"):
        mask = (real.meta["cadence_label"] == label).to_numpy()
        sub = {k: v[mask] for k, v in baselines.items()}
        rows = report("model (zero-shot)", y_true[mask], y_pred[mask], sub)
        compact = ", ".join(
            f"{r['predictor']}: RMSE {r['rmse']:.3f}, R² {r['r2_channel_mean']:.2f}"
            + (f", skill {r['skill_of_model_vs_this']:.2f}" if "skill_of_model_vs_this" in r else "")
            for r in rows
        )
        print(f"  {label} ({int(mask.sum())} cycles): {compact}")


if __name__ == "__main__":
    main()
