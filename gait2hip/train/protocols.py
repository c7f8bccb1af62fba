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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from gait2hip.data.dataset import GaitDataset
from gait2hip.data.mixing import check_target_coverage
from gait2hip.train.folds import group_kfold
from gait2hip.train.loop import ProgressSink, TrainConfig, predict, resolve_device, train_model
from gait2hip.train.normalize import Standardizer
from gait2hip.train.recipes import (
    GAIT2HIP_RECIPE,
    PAPER_RECIPE,
    Recipe,
    input_features,
    model_overrides,
    recipe_targets,
    training_set,
)

PROTOCOLS: dict[str, Recipe] = {"paper": PAPER_RECIPE, "gait2hip": GAIT2HIP_RECIPE}
PAPER_SEED = 2025
#: Wall time between two checkpoints of a unit's training run (with ``fit_unit(work_dir=...)``).
CHECKPOINT_SECONDS = 60.0


@dataclass(frozen=True)
class Budget:
    """How much training a run spends: everything its results depend on. ``full`` is the paper's.

    Parameters
    ----------
    name
        'quick' or 'full' (or a custom name).
    folds
        GroupKFold folds of the paper protocol (5 in the paper).
    max_epochs, patience
        Early-stopping budget of the paper protocol's folds (300 / 30 in the paper).
    fixed_epochs
        Epoch budget of the gait2hip recipe (cosine decay to 0 over it).
    seeds
        Seeds per (protocol, model, target) for gait2hip; the paper protocol always uses
        its seed 2025 first.
    paper_seeds
        Seeds of the paper protocol (1: the paper's single run with seed 2025).
    ablation_models
        Architectures the ablation is run on (each flag switched off in turn).
    ablation_flags
        Flags ablated (all of :data:`gait2hip.train.recipes.ABLATION_FLAGS` in full).
    """

    name: str
    folds: int
    max_epochs: int
    patience: int
    fixed_epochs: int
    seeds: int
    paper_seeds: int
    ablation_models: tuple[str, ...]
    ablation_flags: tuple[str, ...]

    def __post_init__(self) -> None:
        for key in ("folds", "max_epochs", "fixed_epochs", "seeds", "paper_seeds"):
            if getattr(self, key) < 1:
                raise ValueError(f"Budget.{key} must be at least 1, got {getattr(self, key)}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Runtime:
    """Where training runs: nothing here changes the results (on one device type).

    Parameters
    ----------
    threads
        torch intra-op threads per training process, set by :meth:`apply` (the only place
        gait2hip's training sets them).
    workers
        Training processes running units in parallel (the benchmark's process pool).
    device
        'cpu', 'cuda', 'cuda:N' or 'auto'; :meth:`resolved` checks it against this machine.
    """

    threads: int = 1
    workers: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.threads < 1 or self.workers < 1:
            raise ValueError(f"threads and workers must be at least 1, got {self.threads}, {self.workers}")

    def resolved(self) -> Runtime:
        """This runtime with ``device`` checked and made concrete ('auto' → 'cpu' or 'cuda').

        Raises
        ------
        ValueError
            When the device is not available on this machine.
        """
        return replace(self, device=str(resolve_device(self.device)))

    def apply(self) -> None:
        """Set torch's thread count for this process."""
        import torch

        torch.set_num_threads(self.threads)

    def to_dict(self) -> dict:
        return asdict(self)


_ALL_FLAGS = (
    "standardize_targets",
    "joint_targets",
    "mirror",
    "subject_inputs",
    "bidirectional",
    "lr_schedule",
)

BUDGETS: dict[str, Budget] = {
    # Same steps as full, scaled to finish in < 10 min on 2 CPU cores for 3 models x 2 targets x 2 protocols.
    "quick": Budget(
        name="quick",
        folds=2,
        max_epochs=6,
        patience=3,
        fixed_epochs=6,
        seeds=1,
        paper_seeds=1,
        ablation_models=("lstm",),
        ablation_flags=("standardize_targets", "mirror"),
    ),
    "full": Budget(
        name="full",
        folds=5,
        max_epochs=300,
        patience=30,
        fixed_epochs=150,
        seeds=3,
        paper_seeds=1,
        ablation_models=("transformer",),
        ablation_flags=_ALL_FLAGS,
    ),
}


def train_config(
    recipe: Recipe, *, budget: Budget, seed: int, epochs: int | None = None, device: str = "cpu"
) -> TrainConfig:
    """The optimiser settings of ``recipe`` under ``budget`` (threads: see :meth:`Runtime.apply`)."""
    total = epochs if epochs is not None else budget.max_epochs
    return TrainConfig(
        lr=recipe.lr,
        weight_decay=1e-5,
        batch_size=64,
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
    from gait2hip.models import build_model

    targets = recipe_targets(recipe, target)
    train_ds = training_set(pool, recipe=recipe, targets=targets)
    X, in_cols, in_units = input_features(train_ds, recipe=recipe)
    Y = train_ds.Y
    # NaN = a label this source does not have (gait2hip.data.mixing); a column with none is an error
    check_target_coverage(Y, targets, file=pool.attrs.get("path"))
    overrides = {**model_overrides(recipe, architecture), **(extra_overrides or {})}

    def builder(d_in: int) -> object:
        return lambda: build_model(
            architecture, d_in=d_in, d_out=len(targets), seq_len=pool.n_timepoints, **overrides
        )

    folds: list[dict] = []
    if recipe.epoch_selection == "cv":
        subjects = train_ds.meta["subject_id"].to_numpy(dtype=str)
        folds = _cv_folds(
            X,
            Y,
            subjects,
            builder=builder(X.shape[2]),
            recipe=recipe,
            budget=budget,
            seed=seed,
            device=device,
            progress=progress,
            label=label,
            work_dir=work_dir,
        )
        final_epochs = max(1, round(float(np.median([f["best_epoch"] for f in folds]))))
    else:
        final_epochs = budget.fixed_epochs

    x_norm = Standardizer.fit(X)
    y_norm = (
        Standardizer.fit(Y, allow_missing=True)
        if recipe.standardize_targets
        else Standardizer.identity(Y.shape[2])
    )
    result = train_model(
        builder(X.shape[2]),
        x_norm.transform(X),
        y_norm.transform(Y),
        epochs=final_epochs,
        config=train_config(recipe, budget=budget, seed=seed, epochs=final_epochs, device=device),
        progress=progress,
        label=f"{label} final ({final_epochs} ep)",
        checkpoint=work_dir / "final.pt" if work_dir is not None else None,
        checkpoint_seconds=CHECKPOINT_SECONDS,
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
        model_overrides=overrides,
    )


def _cv_folds(
    X: np.ndarray,
    Y: np.ndarray,
    subjects: np.ndarray,
    *,
    builder,
    recipe: Recipe,
    budget: Budget,
    seed: int,
    device: str,
    progress: ProgressSink | None,
    label: str,
    work_dir: Path | None,
) -> list[dict]:
    """The paper's epoch selection: one early-stopped run per GroupKFold fold; each fold's summary.

    A fold finished by an earlier call (``work_dir/fold{k}.json``) is read back, not retrained.
    """
    folds: list[dict] = []
    for k, val_idx in enumerate(group_kfold(subjects, n_splits=budget.folds), start=1):
        finished = work_dir / f"fold{k}.json" if work_dir is not None else None
        if finished is not None and finished.exists():
            folds.append(json.loads(finished.read_text()))
            continue
        train_mask = np.ones(len(X), dtype=bool)
        train_mask[val_idx] = False
        xn = Standardizer.fit(X[train_mask])
        yn = (
            Standardizer.fit(Y[train_mask], allow_missing=True)
            if recipe.standardize_targets
            else Standardizer.identity(Y.shape[2])
        )
        result = train_model(
            builder,
            xn.transform(X[train_mask]),
            yn.transform(Y[train_mask]),
            X_val=xn.transform(X[val_idx]),
            Y_val=yn.transform(Y[val_idx]),
            config=train_config(recipe, budget=budget, seed=seed, device=device),
            progress=progress,
            label=f"{label} fold {k}/{budget.folds}",
            checkpoint=work_dir / f"fold{k}.pt" if work_dir is not None else None,
            checkpoint_seconds=CHECKPOINT_SECONDS,
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
