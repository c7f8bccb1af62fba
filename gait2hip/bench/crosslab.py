"""The cross-lab experiment: trained on {simulated, fukuchi2018, both} → tested on other labs' people.

Sources (targets per kg):

* **simulated** — the simulated cohort's healthy subjects (the embedded default cohort, or the
  run's data when it is a simulated cohort), split by the paper's 20 % subject hold-out into a
  training pool and held-out TEST subjects (the benchmark's split);
* **fukuchi2018** — the embedded REAL dataset (30 healthy adults, 3 overground speeds, one mean
  cycle per subject/speed/leg, hip moments only), split into ``folds`` groups of subjects: a
  model that trains on fukuchi2018 is trained once per fold without that fold's subjects and
  predicts them, so every real subject is scored by a model that never saw them;
* **the OpenSim example trials** (gait2392 subject01, the Moco 3-D walking trial: labs never
  trained on), built by :mod:`gait2hip.bench.realtrials`.

A configuration is a training source and a recipe (the cross-lab base recipe plus one flag of
:data:`gait2hip.train.recipes.ROBUSTNESS_FLAGS`, or ``nonnegative_forces``): its rows are the
ablation of the cross-lab table. Models trained on simulated data alone are trained once;
those trained on fukuchi2018 (alone or mixed) once per fold. Mixed training sets are stacked by
:func:`gait2hip.data.mixing.concat_with_missing` (real cycles have NaN forces; the loss is masked).

Results go to ``DIR/crosslab/``: ``units/<config>-f<k>/{predictions.npz,info.json}`` (a killed
run resumes), ``crosslab_rows.csv`` (one row per model and test set) and ``crosslab.csv`` (the
table: fold models averaged). Scoring: :mod:`gait2hip.evaluate.crosslab`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.data.mixing import concat_with_missing
from gait2hip.evaluate.crosslab import loso_mean, negative_force_share, score_rows, summarise, train_mean
from gait2hip.evaluate.realtrials import RealTrial
from gait2hip.evaluate.splits import subject_holdout
from gait2hip.train.folds import group_kfold
from gait2hip.train.loop import ProgressSink
from gait2hip.train.protocols import Budget, Runtime, fit_unit
from gait2hip.train.recipes import GAIT2HIP_RECIPE, Recipe, per_kg

SIMULATED, REAL, BOTH = "simulated", "fukuchi2018", "both"
#: The cross-lab base recipe: gait2hip's, without subject inputs (fukuchi2018 has no body mass,
#: height or stride time) and without mirroring (half the training cost on a 2-core machine;
#: the simulated cohort's left hips are the same people's), with the mean-curve start (the model
#: begins at the training data's mean curve, each source weighted equally) and batches of 32
#: (twice the optimiser steps of 64 for a budget of few epochs). Joint targets (forces + moments)
#: except when trained on fukuchi2018 alone, which has moments only.
BASE_RECIPE = replace(
    GAIT2HIP_RECIPE,
    name="crosslab",
    subject_inputs=False,
    mirror=False,
    mean_curve_prior=True,
    batch_size=32,
)
#: Configuration name → (training source, recipe flags switched on over the base recipe).
CONFIGS: dict[str, tuple[str, dict]] = {
    "sim": (SIMULATED, {}),
    "sim+angle_augment": (SIMULATED, {"angle_augment": True}),
    "sim+offset_free": (SIMULATED, {"offset_free": True}),
    "sim+time_warp": (SIMULATED, {"time_warp": True}),
    "fukuchi": (REAL, {}),
    "both": (BOTH, {}),
    "both+angle_augment": (BOTH, {"angle_augment": True}),
    "both+offset_free": (BOTH, {"offset_free": True}),
    "both+time_warp": (BOTH, {"time_warp": True}),
    "both+domain_balanced": (BOTH, {"domain_balanced": True}),
    "both+nonnegative_forces": (BOTH, {"nonnegative_forces": True}),
    "both-mean_curve_prior": (BOTH, {"mean_curve_prior": False}),
}
#: A small Transformer: the experiment must fit a shared 2-core machine.
SMALL_TRANSFORMER = {"d_model": 32, "n_heads": 4, "n_layers": 2, "dim_feedforward": 64, "dropout": 0.1}


@dataclass(frozen=True)
class CrossLabSettings:
    """What the experiment trains (stored in ``crosslab/settings.json``; must match on resume).

    Parameters
    ----------
    configs
        Names from :data:`CONFIGS` (or added with ``extra_configs``).
    folds
        Subject folds of fukuchi2018.
    epochs
        Fixed epochs of every model (cosine decay to 0).
    architecture, model_overrides
        The model (default a small Transformer, :data:`SMALL_TRANSFORMER`).
    seed
        Training seed of every model.
    extra_configs
        More configurations: name → (source, flags), e.g. the chosen default's combination.
    """

    configs: tuple[str, ...] = tuple(CONFIGS)
    folds: int = 5
    epochs: int = 30
    architecture: str = "transformer"
    model_overrides: dict = field(default_factory=lambda: dict(SMALL_TRANSFORMER))
    seed: int = 2025
    extra_configs: dict = field(default_factory=dict)

    def all_configs(self) -> dict[str, tuple[str, dict]]:
        return {**CONFIGS, **{k: (v[0], dict(v[1])) for k, v in self.extra_configs.items()}}

    def __post_init__(self) -> None:
        unknown = [c for c in self.configs if c not in self.all_configs()]
        if unknown or self.folds < 2 or self.epochs < 1:
            raise ValueError(f"invalid cross-lab settings: unknown configs {unknown}, folds {self.folds}")

    def to_dict(self) -> dict:
        return {**asdict(self), "configs": list(self.configs)}

    def recipe(self, name: str) -> tuple[str, Recipe]:
        """The training source and recipe of a configuration."""
        source, flags = self.all_configs()[name]
        recipe = replace(BASE_RECIPE, name=f"crosslab:{name}", **flags)
        if source == REAL:
            recipe = replace(recipe, joint_targets=False, mirror=False)
        return source, recipe


@dataclass
class CrossLabData:
    """The three sources, split (see the module docstring)."""

    sim_pool: GaitDataset
    sim_test: GaitDataset
    real: GaitDataset
    real_folds: list[tuple[str, ...]]
    trials: list[RealTrial]

    @property
    def sim_all(self) -> GaitDataset:
        return GaitDataset.concat([self.sim_pool, self.sim_test])

    def training_set(self, source: str, fold: int) -> GaitDataset:
        """The cycles a configuration's model of fold ``fold`` trains on (fold 0: no real data held out)."""
        held_out = set(self.real_folds[fold - 1]) if fold > 0 else set()
        real = self.real.take(~self.real.meta["subject_id"].isin(held_out).to_numpy())
        if source == SIMULATED:
            return self.sim_pool
        if source == REAL:
            return real
        return concat_with_missing([self.sim_pool, real], names=[SIMULATED, REAL])

    def test_sets(self, source: str, fold: int) -> dict[str, GaitDataset]:
        """Sets a model predicts: simulated test subjects, fukuchi2018 subjects it never saw, trials."""
        real = self.real
        if fold > 0:
            real = real.select(subjects=self.real_folds[fold - 1])
        sets = {"sim_test": self.sim_test, "real_test": real}
        for trial in self.trials:
            sets[f"trial:{trial.name}"] = trial.dataset
        return sets


def prepare_crosslab_data(
    simulated: GaitDataset, real: GaitDataset, trials: list[RealTrial], *, folds: int
) -> CrossLabData:
    """Split the sources: the simulated cohort's healthy subjects by the paper's hold-out, the
    real subjects into ``folds`` groups (:func:`gait2hip.train.folds.group_kfold`)."""
    simulated = per_kg(simulated)
    healthy = simulated.take(simulated.meta["cohort"].to_numpy(dtype=str) != "patient")
    holdout = subject_holdout(healthy.meta["subject_id"].to_numpy(dtype=str))
    real = per_kg(real)
    subjects = real.meta["subject_id"].to_numpy(dtype=str)
    groups = [tuple(sorted(set(subjects[idx]))) for idx in group_kfold(subjects, n_splits=folds)]
    return CrossLabData(
        sim_pool=healthy.select(subjects=holdout.pool),
        sim_test=healthy.select(subjects=holdout.test),
        real=real,
        real_folds=groups,
        trials=list(trials),
    )


def _units(settings: CrossLabSettings) -> list[tuple[str, int]]:
    """(configuration, fold) of every model: fold 0 = trained once on simulated data only."""
    units = []
    for name in settings.configs:
        source, _ = settings.recipe(name)
        folds = [0] if source == SIMULATED else list(range(1, settings.folds + 1))
        units += [(name, k) for k in folds]
    return units


def _train(out: Path, data: CrossLabData, settings: CrossLabSettings, name: str, fold: int, progress) -> str:
    source, recipe = settings.recipe(name)
    folder = out / "units" / f"{name}-f{fold}"
    budget = Budget(
        name="crosslab", folds=2, max_epochs=settings.epochs, patience=settings.epochs,
        fixed_epochs=settings.epochs, seeds=1, paper_seeds=1, ablation_models=(), ablation_flags=(),
    )  # fmt: skip
    fitted = fit_unit(
        data.training_set(source, fold),
        architecture=settings.architecture,
        recipe=recipe,
        target="forces" if recipe.joint_targets else "moments",
        seed=settings.seed,
        budget=budget,
        progress=progress,
        label=f"cross-lab {name} fold {fold}",
        extra_overrides=settings.model_overrides,
        work_dir=out / "units" / f"{name}-f{fold}.inprogress",
    )
    folder.mkdir(parents=True, exist_ok=True)
    predictions = {key: fitted.predict(test) for key, test in data.test_sets(source, fold).items()}
    np.savez_compressed(folder / "predictions.npz", **predictions)
    info = {**fitted.info(), "config": name, "source": source, "fold": fold}
    (folder / "info.json").write_text(json.dumps(info, indent=1, default=str))
    shutil.rmtree(out / "units" / f"{name}-f{fold}.inprogress", ignore_errors=True)
    return f"cross-lab {name} fold {fold}: {fitted.final_epochs} epochs, {fitted.seconds:.0f} s"


def run_crosslab(
    out: Path,
    data: CrossLabData,
    settings: CrossLabSettings,
    *,
    runtime: Runtime | None = None,
    progress: ProgressSink | None = None,
    on_done: Callable[[str], None] = lambda message: None,
) -> pd.DataFrame:
    """Train every model not yet in ``out`` (resume), score them all; the cross-lab table.

    Writes ``out/settings.json`` (checked on resume), ``crosslab_rows.csv`` and ``crosslab.csv``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # what every model depends on must match on resume; configurations may be added
    fixed = {k: v for k, v in settings.to_dict().items() if k not in ("configs", "extra_configs")}
    record = {"settings": fixed, "real_folds": [list(f) for f in data.real_folds]}
    path = out / "settings.json"
    if path.exists():
        previous = json.loads(path.read_text())
        if {k: previous.get(k) for k in record} != json.loads(json.dumps(record)):
            raise ValueError(f"{path} describes another cross-lab run; use a new folder")
    path.write_text(
        json.dumps({**record, "configs": {n: settings.all_configs()[n] for n in settings.configs}})
    )
    (runtime or Runtime()).apply()
    started = time.perf_counter()
    for name, fold in _units(settings):
        if not (out / "units" / f"{name}-f{fold}" / "info.json").exists():
            on_done(_train(out, data, settings, name, fold, progress))
    rows = score_crosslab(out, data, settings)
    rows.to_csv(out / "crosslab_rows.csv", index=False, float_format="%.6g")
    table = summarise(rows)
    table.to_csv(out / "crosslab.csv", index=False, float_format="%.6g")
    (out / "timing.json").write_text(json.dumps({"wall_seconds_this_call": time.perf_counter() - started}))
    return table


def _load(out: Path, name: str, fold: int) -> tuple[dict, dict[str, np.ndarray]]:
    folder = out / "units" / f"{name}-f{fold}"
    info = json.loads((folder / "info.json").read_text())
    with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
        return info, {k: npz[k] for k in npz.files}


#: Test-set keys → the names the table shows.
TESTED_ON = {"sim_test": "simulated (held-out subjects)", "real_test": "fukuchi2018 (held-out subjects)"}
#: What the lab mean curve is for each test set (the report states it).
LAB_MEAN_NOTE = {
    "sim_test": "simulated cohort, leave-one-subject-out, per speed",
    "real_test": "fukuchi2018, leave-one-subject-out, per speed",
    "trial": "the other real source's mean curve (fukuchi2018, all subjects, nearest speed); "
    "no real source has muscle forces, so none for forces",
}


def ood_flags(train: GaitDataset, tests: dict[str, GaitDataset]) -> dict[str, np.ndarray]:
    """Which cycles of each test set a bundle trained on ``train`` would flag out of distribution.

    The detector of the bundles (:func:`gait2hip.models.ood.fit_reference` on the training
    cycles' 10 angles, subject-wise out-of-fold threshold) and both of its rules.
    """
    from gait2hip.data.columns import INPUT_ANGLES
    from gait2hip.models.ood import (
        OOD_OUTSIDE_FRACTION_LIMIT,
        fit_reference,
        ood_distance,
        ood_outside_fraction,
    )

    angles = train.inputs_in_degrees().select_inputs(INPUT_ANGLES)
    reference = fit_reference(train_inputs=angles.X, groups=angles.meta["subject_id"].astype(str))
    threshold = float(reference["ood_threshold"][0])
    flags = {}
    for key, test in tests.items():
        x = test.inputs_in_degrees().select_inputs(INPUT_ANGLES).X
        far = ood_distance(x, reference) > threshold
        flags[key] = far | (ood_outside_fraction(x, reference) > OOD_OUTSIDE_FRACTION_LIMIT)
    return flags


class _Scorer:
    """The baselines shared by every configuration, and one configuration's rows."""

    def __init__(self, data: CrossLabData) -> None:
        from gait2hip.evaluate.baseline import MeanCurveBaseline

        self.data = data
        self.groups = {"moments": MOMENTS_R, "forces": MUSCLE_GROUPS_R}
        self.sim_lab = {g: loso_mean(data.sim_all, c, test=data.sim_test) for g, c in self.groups.items()}
        self.real_lab = loso_mean(data.real, MOMENTS_R)
        self.real_mean = MeanCurveBaseline.fit(data.real.select_targets(MOMENTS_R))
        self.flags: dict[tuple[str, int], dict[str, np.ndarray]] = {}

    def fold_rows(self, name: str, source: str, fold: int, info: dict, preds: dict, oof: dict) -> list[dict]:
        """Rows of one fold model on the simulated test subjects and the trials; its held-out
        fukuchi2018 predictions go into ``oof`` (scored once all folds are in)."""
        data = self.data
        train = data.training_set(source, fold)
        tests = data.test_sets(source, fold)
        if (source, fold) not in self.flags:
            self.flags[(source, fold)] = ood_flags(train, tests)
        columns = tuple(info["target_columns"])
        force_idx = [columns.index(c) for c in MUSCLE_GROUPS_R if c in columns]
        rows = []
        for key, test in tests.items():
            prediction = preds[key]
            negative = negative_force_share(prediction[:, :, force_idx]) if force_idx else np.nan
            flagged = self.flags[(source, fold)][key]
            if key == "real_test":
                at = np.flatnonzero(data.real.meta["subject_id"].isin(test.meta["subject_id"]))
                parts = {
                    "pred": prediction[:, :, [columns.index(c) for c in MOMENTS_R]],
                    "train": train_mean(train, test, MOMENTS_R),
                    "neg": np.full(len(test), negative),
                    "ood": flagged.astype(float),
                }
                for part, values in parts.items():
                    oof.setdefault(part, np.full((len(data.real), *values.shape[1:]), np.nan))[at] = values
                continue
            trial = key.startswith("trial:")
            base = {
                "config": name, "trained_on": source, "fold": fold,
                "tested_on": key.removeprefix("trial:") if trial else TESTED_ON[key],
                "neg_force_share": negative, "ood_flagged": float(np.mean(flagged)),
            }  # fmt: skip
            for group, cols in self.groups.items():
                truth = test.select_targets(cols).Y if all(c in columns for c in cols) else None
                if truth is None or not np.isfinite(truth).all():
                    continue  # the model does not predict this group, or the trial has no reference
                if trial:
                    lab = self.real_mean.predict(test) if group == "moments" else None
                else:
                    lab = self.sim_lab[group]
                rows.append(
                    score_rows(
                        truth,
                        prediction[:, :, [columns.index(c) for c in cols]],
                        columns=cols,
                        train_baseline=train_mean(train, test, cols),
                        lab_baseline=lab,
                        base={**base, "target": group},
                    )
                )
        return rows

    def held_out_real_row(self, name: str, source: str, oof: dict) -> dict:
        """The row of the fukuchi2018 subjects, each predicted by the fold model that never saw them."""
        negative = float(np.nanmean(oof["neg"])) if np.isfinite(oof["neg"]).any() else np.nan
        base = {
            "config": name, "trained_on": source, "fold": -1, "tested_on": TESTED_ON["real_test"],
            "target": "moments", "neg_force_share": negative, "ood_flagged": float(np.mean(oof["ood"])),
        }  # fmt: skip
        return score_rows(
            self.data.real.Y, oof["pred"], columns=MOMENTS_R, train_baseline=oof["train"],
            lab_baseline=self.real_lab, base=base,
        )  # fmt: skip


def score_crosslab(out: Path, data: CrossLabData, settings: CrossLabSettings) -> pd.DataFrame:
    """One row per (configuration, fold model, test set, target group); see :func:`summarise`.

    Besides the scores, ``neg_force_share`` (predicted force samples < 0) and ``ood_flagged``
    (share of the test cycles the bundle's OOD check would flag, detector fitted on the model's
    training cycles with a subject-wise threshold).
    """
    scorer = _Scorer(data)
    rows: list[dict] = []
    for name in settings.configs:
        source, _ = settings.recipe(name)
        oof: dict[str, np.ndarray] = {}
        for fold in [0] if source == SIMULATED else list(range(1, settings.folds + 1)):
            info, preds = _load(out, name, fold)
            rows += scorer.fold_rows(name, source, fold, info, preds, oof)
        if oof:
            rows.append(scorer.held_out_real_row(name, source, oof))
    frame = pd.DataFrame(rows)
    order = {t: i for i, t in enumerate([TESTED_ON["real_test"], TESTED_ON["sim_test"]])}
    frame["_order"] = frame["tested_on"].map(order).fillna(9)
    frame = frame.sort_values(["_order", "target"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def simulated_source(dataset: GaitDataset) -> GaitDataset:
    """The simulated cohort of a benchmark run: its own data when that is a simulated cohort with
    forces and moments, else the embedded default cohort."""
    from gait2hip.data import load_dataset

    has_both = all(c in dataset.target_columns for c in MUSCLE_GROUPS_R + MOMENTS_R)
    if dataset.attrs.get("simulated") and has_both:
        return dataset
    return load_dataset("default")


def run_for_benchmark(
    out: Path,
    *,
    dataset: GaitDataset,
    trials: list[RealTrial],
    budget: Budget,
    runtime: Runtime,
    progress: ProgressSink | None = None,
    on_done: Callable[[str], None] = lambda message: None,
) -> pd.DataFrame | None:
    """The benchmark's cross-lab step (``out/crosslab``), sized by the run's budget; None when the
    budget has no cross-lab configurations."""
    if not budget.crosslab_configs:
        return None
    from gait2hip.data import load_dataset

    settings = CrossLabSettings(
        configs=tuple(budget.crosslab_configs), folds=budget.crosslab_folds, epochs=budget.crosslab_epochs
    )
    data = prepare_crosslab_data(
        simulated_source(dataset), load_dataset("fukuchi2018"), trials, folds=settings.folds
    )
    return run_crosslab(out / "crosslab", data, settings, runtime=runtime, progress=progress, on_done=on_done)
