"""The two training protocols, their compute budgets, and the trainer that runs them.

``paper`` (Gait2Hip-60, step for step): the 20 % subject hold-out (:func:`subject_holdout`),
GroupKFold on the pool with early stopping to find each fold's best epoch, the median best
epoch, retraining from scratch on the whole pool for that many epochs, then one evaluation on
the held-out subjects. Inputs z-scored with training statistics; MSE on N/kg or Nm/kg; AdamW
lr 1e-4, weight decay 1e-5, batch 64, clip 0.5, ≤ 300 epochs, patience 30, min_delta 1e-8,
seed 2025.

``gait2hip``: the same data and the same test subjects, trained with
:data:`gait2hip.train.recipes.GAIT2HIP_RECIPE`.

A "unit" is one trained model: (protocol, architecture, target, seed). :class:`Trainer`
(or the function :func:`fit_unit` it calls) trains it into a :class:`FittedUnit`; the benchmark
(:mod:`gait2hip.bench`) saves it and its predictions so a killed run resumes.

What the results depend on (:class:`Budget`: folds, epochs, seeds) is kept apart from where
the training runs (:class:`Runtime`: processes, torch threads, device).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gait2hip.data.dataset import GaitDataset
from gait2hip.data.mixing import check_target_coverage
from gait2hip.train.augment import batch_options, domain_weights
from gait2hip.train.budget import BUDGETS as BUDGETS  # re-exported: budgets are named here too
from gait2hip.train.budget import Budget, Runtime
from gait2hip.train.folds import group_kfold
from gait2hip.train.loop import ProgressSink, TrainConfig, TrainResult, predict, train_model
from gait2hip.train.normalize import Standardizer
from gait2hip.train.recipes import (
    GAIT2HIP_RECIPE,
    PAPER_RECIPE,
    Recipe,
    input_features,
    mean_curve,
    model_overrides,
    output_overrides,
    recipe_targets,
    training_set,
)

PROTOCOLS: dict[str, Recipe] = {"paper": PAPER_RECIPE, "gait2hip": GAIT2HIP_RECIPE}
PAPER_SEED = 2025
#: Wall time between two checkpoints of a unit's training run (with ``fit_unit(work_dir=...)``).
CHECKPOINT_SECONDS = 60.0


def train_config(
    recipe: Recipe, *, budget: Budget, seed: int, epochs: int | None = None, device: str = "cpu"
) -> TrainConfig:
    """The optimiser settings of ``recipe`` under ``budget`` (threads: see :meth:`Runtime.apply`)."""
    total = epochs if epochs is not None else budget.max_epochs
    return TrainConfig(
        lr=recipe.lr,
        weight_decay=1e-5,
        batch_size=recipe.batch_size,
        grad_clip=0.5,
        max_epochs=budget.max_epochs,
        patience=budget.patience,
        min_delta=1e-8,
        seed=seed,
        schedule=recipe.schedule,
        warmup_epochs=math.ceil(recipe.warmup_fraction * total) if recipe.schedule == "cosine" else 0,
        device=device,
    )


@dataclass
class FittedUnit:
    """A trained model with everything needed to apply it and to describe how it was made."""

    architecture: str
    recipe: Recipe
    target: str
    seed: int
    model: object
    input_columns: tuple[str, ...]
    input_units: tuple[str, ...]
    target_columns: tuple[str, ...]
    target_units: tuple[str, ...]
    x_norm: Standardizer
    y_norm: Standardizer
    final_epochs: int
    folds: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    n_train_cycles: int = 0
    train_inputs: np.ndarray | None = None
    train_targets: np.ndarray | None = None
    model_overrides: dict = field(default_factory=dict)
    train_groups: tuple[str, ...] | None = None
    cpu_seconds: float = 0.0

    def predict(self, dataset: GaitDataset) -> np.ndarray:
        """Predictions [N, T, len(target_columns)] in N/kg / Nm/kg for ``dataset``'s cycles."""
        X, _, _ = input_features(dataset, recipe=self.recipe)
        return self.y_norm.inverse(predict(self.model, self.x_norm.transform(X)))

    @property
    def cycle_epochs(self) -> int:
        """Training cycles × epochs summed over every run of this unit (folds and final): its work."""
        folds = sum(f["n_train_trials"] * f["epochs_run"] for f in self.folds)
        return int(folds + self.n_train_cycles * self.final_epochs)

    def save_bundle(self, path, **details):
        """Write this unit as a model bundle (:func:`gait2hip.models.bundle.save_bundle`).

        Supplies what the unit knows — model, columns, units, the input normalisation, the target
        normalisation when the recipe standardises targets, the architecture and the training
        cycles (for the OOD reference) — and forwards ``details`` (data card, metrics,
        description, extra, ...).
        """
        from gait2hip.models.bundle import BundleSpec, save_bundle

        standardized = self.recipe.standardize_targets
        spec = BundleSpec(
            model=self.model,
            input_columns=self.input_columns,
            input_units=self.input_units,
            target_columns=self.target_columns,
            target_units=self.target_units,
            input_mean=self.x_norm.mean,
            input_std=self.x_norm.scale,
            target_mean=self.y_norm.mean if standardized else None,
            target_std=self.y_norm.scale if standardized else None,
            architecture=self.architecture,
            train_inputs=self.train_inputs,
            train_targets=self.train_targets,
            train_groups=self.train_groups,
            **details,
        )
        return save_bundle(path, spec)

    def info(self) -> dict:
        return {
            "architecture": self.architecture,
            "recipe": self.recipe.to_dict(),
            "target": self.target,
            "seed": self.seed,
            "final_epochs": self.final_epochs,
            "folds": self.folds,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "n_train_cycles": self.n_train_cycles,
            "cycle_epochs": self.cycle_epochs,
            "input_columns": list(self.input_columns),
            "target_columns": list(self.target_columns),
            "target_units": list(self.target_units),
            "model_overrides": self.model_overrides,
        }


def fit_unit(
    pool: GaitDataset,
    *,
    architecture: str,
    recipe: Recipe,
    target: str,
    seed: int,
    budget: Budget,
    device: str = "cpu",
    progress: ProgressSink | None = None,
    label: str = "",
    extra_overrides: dict | None = None,
    work_dir: Path | None = None,
) -> FittedUnit:
    """Train one model on the training pool (targets per kg) following ``recipe``.

    ``epoch_selection='cv'`` (paper): ``budget.folds``-fold GroupKFold over the pool's
    subjects, each fold early-stopped on its validation subjects with input statistics
    fitted on its own training subjects; the median of the folds' best epochs (rounded) is
    the epoch count of the final model, retrained from scratch on the whole pool.
    ``epoch_selection='fixed'``: one run of ``budget.fixed_epochs`` epochs on the whole pool.

    With a ``work_dir``, every training run checkpoints there and each finished fold leaves its
    summary (``fold{k}.json``), so the same call after a kill loses at most a minute of training;
    the caller removes the folder once the unit is saved. Torch threads are the caller's
    (:meth:`Runtime.apply`).
    """
    targets = recipe_targets(recipe, target, available=pool.target_columns)
    train_ds = training_set(pool, recipe=recipe, targets=targets)
    X, in_cols, in_units = input_features(train_ds, recipe=recipe)
    Y = train_ds.Y
    # NaN = a label this source does not have (gait2hip.data.mixing); a column with none is an error
    check_target_coverage(Y, targets, file=pool.attrs.get("path"))
    runs = _UnitRuns(
        X=X,
        Y=Y,
        recipe=recipe,
        architecture=architecture,
        targets=targets,
        input_columns=in_cols,
        seq_len=pool.n_timepoints,
        overrides={**model_overrides(recipe, architecture), **(extra_overrides or {})},
        domains=train_ds.meta["domain"].to_numpy(dtype=str) if "domain" in train_ds.meta else None,
        budget=budget,
        seed=seed,
        device=device,
        progress=progress,
        work_dir=work_dir,
    )
    folds: list[dict] = []
    if recipe.epoch_selection == "cv":
        folds = _cv_folds(runs, train_ds.meta["subject_id"].to_numpy(dtype=str), label=label)
        final_epochs = max(1, round(float(np.median([f["best_epoch"] for f in folds]))))
    else:
        final_epochs = budget.fixed_epochs
    x_norm, y_norm, result = runs.train(
        slice(None), epochs=final_epochs, label=f"{label} final ({final_epochs} ep)", name="final"
    )
    return FittedUnit(
        architecture=architecture,
        recipe=recipe,
        target=target,
        seed=seed,
        model=result.model,
        input_columns=in_cols,
        input_units=in_units,
        target_columns=targets,
        target_units=train_ds.target_units,
        x_norm=x_norm,
        y_norm=y_norm,
        final_epochs=final_epochs,
        folds=folds,
        seconds=sum(f["seconds"] for f in folds) + result.seconds,
        cpu_seconds=sum(f.get("cpu_seconds", 0.0) for f in folds) + result.cpu_seconds,
        n_train_cycles=len(X),
        train_inputs=X,
        train_targets=Y,
        train_groups=tuple(train_ds.meta["subject_id"].astype(str)),
        model_overrides=runs.overrides,
    )


@dataclass(frozen=True)
class _UnitRuns:
    """The training runs of one unit (the CV folds and the final run): its data, model and budget.

    :meth:`train` fits a run's own normalisation on its training rows, builds the model factory
    and batch options from it, and trains (checkpointing to ``work_dir/<name>.pt``).
    """

    X: np.ndarray
    Y: np.ndarray
    recipe: Recipe
    architecture: str
    targets: tuple[str, ...]
    input_columns: tuple[str, ...]
    seq_len: int
    overrides: dict
    domains: np.ndarray | None
    budget: Budget
    seed: int
    device: str
    progress: ProgressSink | None
    work_dir: Path | None

    def train(
        self,
        rows: np.ndarray | slice,
        *,
        val_rows: np.ndarray | None = None,
        epochs: int | None = None,
        label: str,
        name: str,
    ) -> tuple[Standardizer, Standardizer, TrainResult]:
        """One run on ``rows``: early-stopped on ``val_rows``, or ``epochs`` epochs; its normalisation."""
        xn = Standardizer.fit(self.X[rows])
        yn = _target_norm(self.Y[rows], self.recipe)
        options = self._options(xn, yn, rows)
        validation = {}
        if val_rows is not None:
            validation = {"X_val": xn.transform(self.X[val_rows]), "Y_val": yn.transform(self.Y[val_rows])}
        result = train_model(
            options.pop("build"),
            xn.transform(self.X[rows]),
            yn.transform(self.Y[rows]),
            **validation,
            epochs=epochs,
            config=train_config(
                self.recipe, budget=self.budget, seed=self.seed, epochs=epochs, device=self.device
            ),
            progress=self.progress,
            label=label,
            checkpoint=self.work_dir / f"{name}.pt" if self.work_dir is not None else None,
            checkpoint_seconds=CHECKPOINT_SECONDS,
            **options,
        )
        return xn, yn, result

    def _options(self, xn: Standardizer, yn: Standardizer, rows: np.ndarray | slice) -> dict:
        """The model factory and batch options of one run (with its own normalisation)."""
        from gait2hip.models import build_model

        recipe, domains = self.recipe, self.domains
        prior = None
        if recipe.mean_curve_prior:  # each source weighs the same (domain_weights with one source: all 1)
            weights = None if domains is None else domain_weights(domains[rows])
            prior = mean_curve(yn.transform(self.Y[rows]), weights)
        outputs = output_overrides(recipe, self.targets, mean=yn.mean, scale=yn.scale, prior=prior)
        build = lambda: build_model(  # noqa: E731
            self.architecture, d_in=self.X.shape[2], d_out=len(self.targets), seq_len=self.seq_len,
            **self.overrides, **outputs,
        )  # fmt: skip
        options = batch_options(
            recipe, input_columns=self.input_columns, input_scale=xn.scale,
            domains=None if domains is None else domains[rows],
        )  # fmt: skip
        return {"build": build, **options}


def _target_norm(Y: np.ndarray, recipe: Recipe) -> Standardizer:
    """Target standardisation of a run (over labelled entries only), or the identity."""
    if recipe.standardize_targets:
        return Standardizer.fit(Y, allow_missing=True)
    return Standardizer.identity(Y.shape[2])


def _cv_folds(runs: _UnitRuns, subjects: np.ndarray, *, label: str) -> list[dict]:
    """The paper's epoch selection: one early-stopped run per GroupKFold fold; each fold's summary.

    A fold finished by an earlier call (``work_dir/fold{k}.json``) is read back, not retrained.
    """
    folds: list[dict] = []
    n_folds, work_dir = runs.budget.folds, runs.work_dir
    for k, val_idx in enumerate(group_kfold(subjects, n_splits=n_folds), start=1):
        finished = work_dir / f"fold{k}.json" if work_dir is not None else None
        if finished is not None and finished.exists():
            folds.append(json.loads(finished.read_text()))
            continue
        train_mask = np.ones(len(runs.X), dtype=bool)
        train_mask[val_idx] = False
        *_, result = runs.train(
            train_mask, val_rows=val_idx, label=f"{label} fold {k}/{n_folds}", name=f"fold{k}"
        )
        folds.append(
            {
                "fold": k,
                "n_train_trials": int(train_mask.sum()),
                "n_val_trials": len(val_idx),
                "n_val_subjects": len(set(subjects[val_idx])),
                **result.summary(),
            }
        )
        if finished is not None:
            finished.parent.mkdir(parents=True, exist_ok=True)
            partial = finished.with_suffix(".partial")
            partial.write_text(json.dumps(folds[-1]))
            partial.replace(finished)
    return folds


@dataclass(frozen=True)
class Trainer:
    """One estimator for every protocol: ``Trainer(recipe=..., architecture=..., budget=...).fit(pool)``.

    Parameters
    ----------
    recipe
        :data:`~gait2hip.train.recipes.PAPER_RECIPE` (CV epoch selection, then retraining on the
        whole pool), :data:`~gait2hip.train.recipes.GAIT2HIP_RECIPE` (a fixed budget), or a variant.
    architecture
        A registered architecture (:func:`gait2hip.models.available_models`).
    budget
        Folds, epochs (:data:`BUDGETS`).
    target
        'forces' or 'moments' (the first of both for a joint-target recipe).
    seed
        Training seed.
    runtime
        Threads and device (what the results do not depend on).
    model_overrides
        Architecture options added to the recipe's (e.g. tiny sizes in tests).

    Examples
    --------
    >>> from gait2hip.train.protocols import BUDGETS, Trainer
    >>> from gait2hip.train.recipes import GAIT2HIP_RECIPE
    >>> trainer = Trainer(recipe=GAIT2HIP_RECIPE, architecture="lstm", budget=BUDGETS["quick"])
    >>> trainer.target
    'forces'
    """

    recipe: Recipe
    architecture: str
    budget: Budget
    target: str = "forces"
    seed: int = PAPER_SEED
    runtime: Runtime = field(default_factory=Runtime)
    model_overrides: dict | None = None

    def __post_init__(self) -> None:
        from gait2hip.models import available_models
        from gait2hip.train.recipes import TARGETS

        if self.architecture not in available_models():
            raise ValueError(
                f"unknown architecture {self.architecture!r}; choose from {', '.join(available_models())}"
            )
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")

    def fit(
        self,
        pool: GaitDataset,
        *,
        progress: ProgressSink | None = None,
        label: str = "",
        work_dir: Path | None = None,
    ) -> FittedUnit:
        """Train on ``pool`` (targets per kg); see :func:`fit_unit`. ``work_dir``: checkpoints (resume)."""
        self.runtime.apply()
        return fit_unit(
            pool,
            architecture=self.architecture,
            recipe=self.recipe,
            target=self.target,
            seed=self.seed,
            budget=self.budget,
            device=self.runtime.device,
            progress=progress,
            label=label or f"{self.architecture} {self.target}",
            extra_overrides=self.model_overrides,
            work_dir=work_dir,
        )
