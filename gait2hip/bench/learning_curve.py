"""Learning curve of a new lab: how many labelled subjects fine-tuning needs.

The new lab is the REAL ``fukuchi2018`` dataset (hip moments per kg). For each k in ``ks``
and each of ``draws`` random draws of k training subjects (``numpy.random.default_rng(seed +
1000·k + draw)``), the remaining subjects are the test set, and four predictors are scored
(RMSE over every test sample of the 3 hip moments, Nm/kg):

* ``zero-shot``: the parent bundle as shipped;
* ``fine-tuned``: :func:`gait2hip.train.finetune.finetune` of the parent on the k subjects
  (k = 1: no held-out subject, so the head is refitted with :data:`K1_FIXED`);
* ``scratch``: the same architecture trained from scratch on the k subjects with the default
  bundles' recipe and ``scratch_epochs`` epochs (:data:`SCRATCH_RECIPE`);
* ``lab mean``: the k subjects' mean curve.

A reference line is the lab's leave-one-subject-out mean curve over ALL other subjects.
Every finished (k, draw, method) is appended to ``results.csv`` in the run folder, so a killed
run resumes where it stopped; the settings are checked against ``settings.json``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.data.dataset import GaitDataset
from gait2hip.models.bundle import Bundle
from gait2hip.train.finetune import ONE_PERSON_FIXED, FinetuneSettings, finetune
from gait2hip.train.labdata import lab_arrays
from gait2hip.train.recipes import GAIT2HIP_RECIPE

METHODS = ("zero-shot", "fine-tuned", "scratch", "lab mean")
#: The head refit used with a single training subject (no held-out subject to choose it).
K1_FIXED = ONE_PERSON_FIXED
#: The default bundles' recipe (scripts/train_default_bundles.py): no subject inputs, one target group.
SCRATCH_RECIPE = dataclasses.replace(
    GAIT2HIP_RECIPE, name="gait2hip-default-bundle", joint_targets=False, subject_inputs=False
)


@dataclass(frozen=True)
class LearningCurveSettings:
    """What a learning-curve run computes (stored in ``settings.json``; must match on resume)."""

    ks: tuple[int, ...] = (1, 2, 4, 8, 16)
    draws: int = 5
    seed: int = 0
    scratch_epochs: int = 60
    methods: tuple[str, ...] = METHODS

    def __post_init__(self) -> None:
        if bad := [m for m in self.methods if m not in METHODS]:
            raise ValueError(f"unknown methods {bad}; choose from {METHODS}")
        if min(self.ks) < 1 or self.draws < 1 or self.scratch_epochs < 1:
            raise ValueError(f"invalid learning-curve settings: {self}")


def _rmse(prediction: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.nanmean((np.asarray(prediction) - truth) ** 2)))


def _scratch(
    train: GaitDataset,
    test_X: np.ndarray,
    *,
    epochs: int,
    seed: int,
    architecture: str,
    columns: Sequence[str],
) -> np.ndarray:
    """Predictions [N, T, len(columns)] of a model trained from scratch on ``train``."""
    from gait2hip.train.protocols import BUDGETS, Trainer

    budget = dataclasses.replace(BUDGETS["quick"], name="learning-curve", fixed_epochs=epochs)
    fitted = Trainer(
        recipe=SCRATCH_RECIPE, architecture=architecture, budget=budget, target="moments", seed=seed
    ).fit(train)
    test = GaitDataset(
        X=test_X,
        Y=np.zeros((len(test_X), test_X.shape[1], len(fitted.target_columns)), dtype=np.float32),
        input_columns=train.input_columns,
        target_columns=fitted.target_columns,
        input_units=("deg",) * test_X.shape[2],
        target_units=fitted.target_units,
        meta=pd.DataFrame({"subject_id": ["test"] * len(test_X), "mass_kg": np.nan}),
    )
    predicted = fitted.predict(test)
    return predicted[..., [list(fitted.target_columns).index(c) for c in columns]]


def lab_subjects(bundle: Bundle, dataset: GaitDataset) -> tuple[GaitDataset, str]:
    """The subjects of the new lab a bundle may be tested on, and a sentence saying which: all of
    them when it never trained on the dataset, else only the manifest's held-out
    ``metrics.real_test_subjects`` (refused when it trained on the dataset and lists none)."""
    from gait2hip.bench.calibration import real_test_subjects
    from gait2hip.errors import Gait2HipInputError

    name = str(dataset.attrs.get("name") or "")
    n_all = dataset.meta["subject_id"].nunique()
    held = real_test_subjects(bundle, name)
    if held is None:
        return dataset, f"{name}: all {n_all} subjects (the bundle was never trained on {name})"
    if not held:
        raise Gait2HipInputError(
            f"bundle {bundle.name} was trained on {name} and its manifest lists no held-out subject.",
            file=bundle.path,
            fix="use a bundle not trained on this lab, or one whose metrics.real_test_subjects lists them.",
        )
    note = (
        f"{name}: only the {len(held)} subjects the bundle was not trained on (metrics.real_test_subjects: "
        f"{', '.join(sorted(held))}); its other {n_all - len(held)} are its training data"
    )
    return dataset.select(subjects=held), note


def loo_mean_curve_rmse(Y: np.ndarray, subjects: np.ndarray) -> float:
    """RMSE of each subject's cycles against the mean curve of all OTHER subjects (pooled; targets
    the lab does not have, NaN, are left out)."""
    squared = [
        ((Y[subjects == s] - np.nanmean(Y[subjects != s], axis=0)) ** 2).ravel() for s in np.unique(subjects)
    ]
    return float(np.sqrt(np.nanmean(np.concatenate(squared))))


def run_learning_curve(
    bundle: Bundle,
    dataset: GaitDataset,
    *,
    out: str | Path,
    settings: LearningCurveSettings | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) the learning curve; the per-draw results (see the module docstring)."""
    settings = settings or LearningCurveSettings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record = {**dataclasses.asdict(settings), "bundle": bundle.name, "data": dataset.attrs.get("name", "")}
    record["bundle_weights"] = bundle.manifest.get("files", {}).get("weights.safetensors", "")
    settings_file = out / "settings.json"
    if settings_file.exists() and json.loads(settings_file.read_text()) != json.loads(json.dumps(record)):
        raise ValueError(f"{out} holds a run with other settings; choose another --out or delete it")
    settings_file.write_text(json.dumps(record, indent=2))
    results_file = out / "results.csv"
    done = (
        pd.read_csv(results_file) if results_file.exists() else pd.DataFrame(columns=["k", "draw", "method"])
    )
    finished = {(int(r.k), int(r.draw), str(r.method)) for r in done.itertuples()}
    notify = on_event or (lambda event: None)

    X, Y, present = lab_arrays(bundle, dataset)
    index = [bundle.target_columns.index(c) for c in present]  # the lab's targets only (a joint bundle)
    Y = Y[..., index]
    subjects = dataset.meta["subject_id"].to_numpy(dtype=str)
    unique = np.unique(subjects)
    zero_shot = bundle.predict_normalised(X)[..., index]
    total = len(settings.ks) * settings.draws * len(settings.methods)
    count = len(finished)
    for k in settings.ks:
        if k >= len(unique):
            raise ValueError(f"k = {k} leaves no test subject ({len(unique)} subjects)")
        for draw in range(settings.draws):
            rng = np.random.default_rng(settings.seed + 1000 * k + draw)
            chosen = np.sort(rng.choice(unique, size=k, replace=False))
            train, test = np.isin(subjects, chosen), ~np.isin(subjects, chosen)
            for method in settings.methods:
                if (k, draw, method) in finished:
                    continue
                started = time.perf_counter()
                detail = ""
                if method == "zero-shot":
                    prediction = zero_shot[test]
                elif method == "lab mean":
                    prediction = np.broadcast_to(np.nanmean(Y[train], axis=0), Y[test].shape)
                elif method == "fine-tuned":
                    fixed = K1_FIXED if k == 1 else None
                    result = finetune(
                        bundle, dataset.take(np.flatnonzero(train)), settings=FinetuneSettings(fixed=fixed)
                    )
                    prediction = result.predict(X[test])[..., index]
                    detail = f"{result.choice['anchor']}:{result.choice['lambda']:g}"
                else:
                    prediction = _scratch(
                        dataset.take(np.flatnonzero(train)),
                        X[test],
                        epochs=settings.scratch_epochs,
                        seed=settings.seed + draw,
                        architecture=bundle.architecture,
                        columns=present,
                    )
                row = {
                    "k": k,
                    "draw": draw,
                    "method": method,
                    "rmse": _rmse(prediction, Y[test]),
                    "rmse_flexion": _rmse(prediction[..., 0], Y[test][..., 0]),
                    "train_subjects": " ".join(chosen),
                    "test_subjects": len(np.unique(subjects[test])),
                    "detail": detail,
                    "seconds": round(time.perf_counter() - started, 2),
                }
                pd.DataFrame([row]).to_csv(
                    results_file, mode="a", header=not results_file.exists(), index=False
                )
                count += 1
                notify({"done": count, "total": total, **row})
    results = pd.read_csv(results_file)
    return results[results["k"].isin(settings.ks) & results["method"].isin(settings.methods)]


def summarise(results: pd.DataFrame, *, loo_rmse: float) -> pd.DataFrame:
    """Mean ± SD of the RMSE over draws, one row per k, one column pair per method."""
    grouped = results.groupby(["k", "method"])["rmse"].agg(["mean", "std", "count"]).reset_index()
    table = grouped.pivot(index="k", columns="method")
    rows = []
    for k in table.index:
        row: dict[str, Any] = {"k": int(k), "draws": int(table.loc[k, ("count",)].max())}
        for method in METHODS:
            if ("mean", method) in table.columns:
                row[method] = float(table.loc[k, ("mean", method)])
                row[method + " sd"] = float(table.loc[k, ("std", method)])
        row["LOO lab mean (all others)"] = loo_rmse
        rows.append(row)
    return pd.DataFrame(rows)


def stops_helping(summary: pd.DataFrame, *, others: Sequence[str] = ("scratch",)) -> int | None:
    """The smallest k at which fine-tuning's mean RMSE is no longer below every method in ``others``
    (default: training from scratch on the same k subjects); None when it is below at every k."""
    for row in summary.to_dict("records"):
        if "fine-tuned" not in row or any(o not in row for o in others):
            continue
        if not all(row["fine-tuned"] < row[o] for o in others):
            return int(row["k"])
    return None


def plot_learning_curve(summary: pd.DataFrame, out: str | Path, *, title: str = "") -> Path:
    """RMSE against k (log axis) for every method (mean ± SD over draws), the LOO lab mean dashed."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    ks = summary["k"].to_numpy()
    for i, method in enumerate(METHODS):
        if method in summary:
            ax.errorbar(
                ks,
                summary[method],
                yerr=summary[method + " sd"],
                marker="o",
                capsize=3,
                label=method,
                color=f"C{i}",
            )
    ax.axhline(summary["LOO lab mean (all others)"].iloc[0], color="0.4", ls="--", lw=1,
               label="lab mean, leave-one-out (all others)")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("labelled training subjects k")
    ax.set_ylabel("hip-moment RMSE (Nm/kg)")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
