"""Compute budgets (what a run's results depend on) and runtimes (where it runs).

:class:`Budget` holds folds, epochs, seeds, the ablation and the cross-lab experiment's size;
:data:`BUDGETS` the named ones ('quick', 'full'). :class:`Runtime` holds processes, torch threads
and the device, which change nothing in the results (on one device type).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from gait2hip.train.loop import resolve_device


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
    crosslab_configs, crosslab_folds, crosslab_epochs
        The cross-lab experiment of the run (:mod:`gait2hip.bench.crosslab`): its configurations
        (none: not run), fukuchi2018 subject folds and fixed epochs of its small Transformer.
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
    crosslab_configs: tuple[str, ...] = ()
    crosslab_folds: int = 5
    crosslab_epochs: int = 30

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

#: Every configuration of the cross-lab experiment (gait2hip.bench.crosslab.CONFIGS; kept here
#: as names so that train never imports bench).
_CROSSLAB_CONFIGS = (
    "sim",
    "sim+angle_augment",
    "sim+offset_free",
    "sim+time_warp",
    "fukuchi",
    "both",
    "both+angle_augment",
    "both+offset_free",
    "both+time_warp",
    "both+domain_balanced",
    "both+nonnegative_forces",
    "both-mean_curve_prior",
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
        crosslab_configs=("sim", "fukuchi", "both"),
        crosslab_folds=2,
        crosslab_epochs=4,
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
        crosslab_configs=_CROSSLAB_CONFIGS,
        crosslab_folds=5,
        crosslab_epochs=30,
    ),
}
