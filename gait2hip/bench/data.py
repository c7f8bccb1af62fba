"""The data of a benchmark run: loaded, checked, per kg, split into pool / test / external, real trials."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gait2hip.bench.realtrials import load_real_trials
from gait2hip.bench.settings import BenchmarkSettings
from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.evaluate.realtrials import RealTrial
from gait2hip.evaluate.splits import subject_holdout
from gait2hip.evaluate.tables import EXTERNAL_COHORT
from gait2hip.train.recipes import TARGETS, per_kg


@dataclass
class Splits:
    """The data of one run, split and in per-kg units."""

    dataset: GaitDataset
    pool: GaitDataset
    test: GaitDataset
    external: GaitDataset | None
    holdout_test: tuple[str, ...]
    real: list[RealTrial] = field(default_factory=list)
    real_problems: list[str] = field(default_factory=list)

    def eval_sets(self) -> dict[str, GaitDataset]:
        sets = {"test": self.test}
        if self.external is not None and len(self.external):
            sets["external"] = self.external
        if self.real:
            sets["real"] = GaitDataset.concat([t.dataset for t in self.real])
        return sets

    def summary(self) -> dict:
        """Sizes and provenance, as ``run.json`` keeps them for the report."""
        return {
            "n_cycles": len(self.dataset),
            "n_timepoints": self.dataset.n_timepoints,
            "n_subjects": int(self.dataset.meta["subject_id"].nunique()),
            "pool_cycles": len(self.pool),
            "test_cycles": len(self.test),
            "external_cycles": None if self.external is None else len(self.external),
            "real_trials": [
                {"name": t.name, "notes": list(t.notes), "available": list(t.available)} for t in self.real
            ],
            "real_problems": list(self.real_problems),
            "sets": {
                name: {"cycles": len(data), "subjects": int(data.meta["subject_id"].nunique())}
                for name, data in self.eval_sets().items()
            },
        }


def fingerprint(dataset: GaitDataset) -> str:
    digest = hashlib.sha256()
    for array in (dataset.X, dataset.Y):
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    digest.update("|".join(dataset.input_columns + dataset.target_columns).encode())
    digest.update("|".join(dataset.meta["subject_id"].astype(str)).encode())
    return digest.hexdigest()[:16]


def _present_targets(dataset: GaitDataset) -> str:
    return ", ".join(t for t, columns in TARGETS.items() if all(c in dataset.target_columns for c in columns))


def prepare_data(settings: BenchmarkSettings, *, shared: Path | None) -> Splits:
    """Load, check, normalise per kg and split the data; build the real trials."""
    from gait2hip.data import load_dataset

    dataset = load_dataset(settings.data, trust_pickle=settings.trust_pickle)
    origin = dataset.attrs.get("path", settings.data)
    missing = [c for c in INPUT_ANGLES if c not in dataset.input_columns]
    if missing:
        raise Gait2HipInputError(
            "input angle column missing.",
            file=origin,
            column=missing[0],
            fix=f"the dataset needs the 10 input angles {', '.join(INPUT_ANGLES)}.",
        )
    for target in settings.targets:
        absent = [c for c in TARGETS[target] if c not in dataset.target_columns]
        if absent:
            raise Gait2HipInputError(
                f"the dataset has no {target} targets.",
                file=origin,
                column=absent[0],
                fix=f"choose a --target the dataset has ({_present_targets(dataset) or 'none'}), or use a "
                f"dataset with the {len(TARGETS[target])} {target} columns.",
            )
    dataset = per_kg(dataset)
    cohort = dataset.meta["cohort"].to_numpy(dtype=str)
    external = dataset.take(cohort == EXTERNAL_COHORT) if (cohort == EXTERNAL_COHORT).any() else None
    main = dataset.take(cohort != EXTERNAL_COHORT)
    holdout = subject_holdout(main.meta["subject_id"].to_numpy(dtype=str))
    real, problems = load_real_trials(shared, n_points=dataset.n_timepoints)
    return Splits(
        dataset=dataset,
        pool=main.select(subjects=holdout.pool),
        test=main.select(subjects=holdout.test),
        external=external,
        holdout_test=holdout.test,
        real=real,
        real_problems=problems,
    )
