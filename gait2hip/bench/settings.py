"""What a benchmark run does: its settings (results vs runtime) and the units (models) it trains."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this module for DEFAULT_MODELS: no torch here
    from gait2hip.train.protocols import Budget, Runtime
    from gait2hip.train.recipes import Recipe

#: The architectures a benchmark (and ``gait2hip bench speed``) compares unless told otherwise.
DEFAULT_MODELS: tuple[str, ...] = ("lstm", "transformer", "mamba")


@dataclass(frozen=True)
class BenchmarkSettings:
    """One benchmark run. Stored in ``run.json``; a resumed run must match everything but ``runtime``.

    Parameters
    ----------
    data
        'default', or a dataset path (:func:`gait2hip.data.load_dataset`).
    targets
        ('forces',), ('moments',) or both.
    models
        Registered architectures.
    protocols
        ('paper',), ('gait2hip',) or both.
    budget
        Folds, epochs and ablation (:data:`gait2hip.train.protocols.BUDGETS`).
    seeds, paper_seeds
        Seeds per system of the gait2hip and the paper protocol.
    runtime
        Training processes, threads, device: where it runs, not what comes out.
    model_overrides
        Architecture options by architecture (e.g. tiny models in tests).
    trust_pickle
        Unpickle object arrays of a release file (how it is read, not what is computed: not in
        ``run.json``).
    """

    data: str
    targets: tuple[str, ...]
    models: tuple[str, ...]
    protocols: tuple[str, ...]
    budget: Budget
    seeds: int
    paper_seeds: int
    runtime: Runtime = field(default_factory=lambda: _runtime())
    model_overrides: dict = field(default_factory=dict)
    trust_pickle: bool = False

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "targets": list(self.targets),
            "models": list(self.models),
            "protocols": list(self.protocols),
            "profile": self.budget.to_dict(),
            "runtime": self.runtime.to_dict(),
            "seeds": self.seeds,
            "paper_seeds": self.paper_seeds,
            "model_overrides": self.model_overrides,
        }


def _runtime() -> Runtime:
    from gait2hip.train.protocols import Runtime

    return Runtime()


@dataclass(frozen=True)
class Unit:
    """One trained model: protocol (or ablation), architecture, target ('joint' = both), seed."""

    protocol: str
    architecture: str
    target: str
    seed: int
    recipe: Recipe

    @property
    def key(self) -> str:
        return f"{self.protocol}-{self.architecture}-{self.target}-s{self.seed}".replace(":", "_")

    @property
    def label(self) -> str:
        return f"{self.protocol} {self.architecture} {self.target} s{self.seed}"

    def reported_targets(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        return wanted if self.target == "joint" else (self.target,)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "protocol": self.protocol,
            "architecture": self.architecture,
            "target": self.target,
            "seed": self.seed,
            "recipe": self.recipe.to_dict(),
        }


def plan_units(
    settings: BenchmarkSettings,
    *,
    joint_possible: bool = True,
    mirror_possible: bool = True,
    subject_inputs_possible: bool = True,
) -> list[Unit]:
    """Every model the run trains.

    ``joint_possible`` is False when the data lacks forces or moments: the gait2hip recipe
    then trains one model per target (its ``joint_targets`` flag cannot apply).
    ``mirror_possible`` is False without left-hip target columns (e.g. the Gait2Hip-60
    release): mirroring is switched off and not ablated. ``subject_inputs_possible`` is False
    without body mass, height and stride time (fukuchi2018): the recipe runs without them.
    """
    from gait2hip.train.protocols import PAPER_SEED, PROTOCOLS

    units: list[Unit] = []
    if "paper" in settings.protocols:
        for seed in range(PAPER_SEED, PAPER_SEED + settings.paper_seeds):
            for architecture in settings.models:
                for target in settings.targets:
                    units.append(Unit("paper", architecture, target, seed, PROTOCOLS["paper"]))
    if "gait2hip" in settings.protocols:
        recipe = PROTOCOLS["gait2hip"]
        if not joint_possible:
            recipe = replace(recipe, joint_targets=False)
        if not mirror_possible:
            recipe = replace(recipe, mirror=False)
        if not subject_inputs_possible:
            recipe = replace(recipe, subject_inputs=False)
        for seed in range(PAPER_SEED, PAPER_SEED + settings.seeds):
            for architecture in settings.models:
                for target in ("joint",) if recipe.joint_targets else settings.targets:
                    units.append(Unit("gait2hip", architecture, target, seed, recipe))
        for architecture in settings.budget.ablation_models:
            if architecture not in settings.models:
                continue
            for flag in settings.budget.ablation_flags:
                if (
                    (flag == "joint_targets" and not joint_possible)
                    or (flag == "mirror" and not mirror_possible)
                    or (flag == "subject_inputs" and not subject_inputs_possible)
                ):
                    continue
                ablated = recipe.without(flag)
                for target in ("joint",) if ablated.joint_targets else settings.targets:
                    units.append(Unit(f"ablation:-{flag}", architecture, target, PAPER_SEED, ablated))
    return units
