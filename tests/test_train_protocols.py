"""The trainer: parameters checked early, and a unit killed mid-fold resumes from its checkpoints."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import TINY_MODELS, tiny_settings

from gait2hip.bench.data import prepare_data
from gait2hip.train import protocols
from gait2hip.train.protocols import BUDGETS, PROTOCOLS, Budget, Runtime, Trainer


def test_trainer_checks_its_parameters_when_made():
    with pytest.raises(ValueError, match="unknown architecture"):
        Trainer(recipe=PROTOCOLS["paper"], architecture="gru", budget=BUDGETS["quick"])
    with pytest.raises(ValueError, match="target"):
        Trainer(recipe=PROTOCOLS["paper"], architecture="lstm", budget=BUDGETS["quick"], target="hips")
    with pytest.raises(ValueError, match="folds"):
        replace(BUDGETS["quick"], folds=0)
    with pytest.raises(ValueError, match="threads"):
        Runtime(threads=0)


def test_budget_holds_what_results_depend_on_and_runtime_where_it_runs():
    assert {"threads", "workers", "device"}.isdisjoint(BUDGETS["full"].to_dict())
    assert set(Runtime().to_dict()) == {"threads", "workers", "device"}
    assert BUDGETS["full"].folds == 5 and BUDGETS["full"].patience == 30  # the paper's


class _KillInFold2:
    """Progress stand-in: the run dies in its second cross-validation fold, after one epoch."""

    def add_task(self, description, total, **fields):
        self.in_fold2 = "fold 2" in description
        return 0

    def update(self, task, advance=0, **kwargs):
        if self.in_fold2 and advance:
            raise KeyboardInterrupt


def test_a_unit_killed_mid_fold_keeps_its_finished_folds_and_epochs(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setattr(protocols, "CHECKPOINT_SECONDS", 0.0)
    settings = tiny_settings(tiny_data)
    splits = prepare_data(settings, shared=None)
    budget: Budget = replace(settings.budget, max_epochs=3, patience=3)
    trainer = Trainer(
        recipe=PROTOCOLS["paper"],
        architecture="lstm",
        budget=budget,
        target="moments",
        seed=2025,
        runtime=Runtime(threads=1),
        model_overrides=TINY_MODELS["lstm"],
    )
    whole = trainer.fit(splits.pool)
    work = tmp_path / "unit.inprogress"
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(splits.pool, progress=_KillInFold2(), work_dir=work)
    assert (work / "fold1.json").exists() and (work / "fold2.pt").exists()

    trained = []
    real_train = protocols.train_model
    monkeypatch.setattr(
        protocols, "train_model", lambda *a, **k: trained.append(k["label"]) or real_train(*a, **k)
    )
    resumed = trainer.fit(splits.pool, work_dir=work, label="unit")
    assert trained == ["unit fold 2/2", f"unit final ({whole.final_epochs} ep)"]  # fold 1 not retrained
    drop = lambda folds: [{k: v for k, v in f.items() if "seconds" not in k} for f in folds]  # noqa: E731
    assert drop(resumed.folds) == drop(whole.folds)
    for name, data in splits.eval_sets().items():
        np.testing.assert_array_equal(resumed.predict(data), whole.predict(data), err_msg=name)


def test_a_joint_model_trains_on_a_mix_with_moments_only_cycles_and_refuses_a_pool_without_forces():
    from gait2hip.data.columns import MOMENTS_R, MUSCLE_GROUPS_R
    from gait2hip.data.mixing import concat_with_missing
    from gait2hip.data.synthetic import synthetic_dataset
    from gait2hip.errors import Gait2HipInputError

    sim = synthetic_dataset(n_subjects=4, trials_per_cadence=1, n_timepoints=21, seed=0).normalized_by_mass()
    real = synthetic_dataset(n_subjects=3, trials_per_cadence=1, n_timepoints=21, seed=9).normalized_by_mass()
    real = real.select_targets(MOMENTS_R)
    recipe = replace(PROTOCOLS["gait2hip"], subject_inputs=False, mirror=False)
    trainer = Trainer(
        recipe=recipe, architecture="lstm", budget=replace(BUDGETS["quick"], fixed_epochs=2),
        model_overrides=TINY_MODELS["lstm"],
    )  # fmt: skip
    fitted = trainer.fit(concat_with_missing([sim, real], names=["sim", "real"]))
    assert fitted.target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    assert np.isfinite(fitted.predict(real)).all()  # forces predicted for real cycles, from simulation
    forces = [fitted.target_columns.index(c) for c in MUSCLE_GROUPS_R]
    assert np.isfinite(fitted.y_norm.mean[forces]).all()  # statistics from the simulated labels
    with pytest.raises(Gait2HipInputError, match="no value"):
        trainer.fit(_moments_only_with_force_columns(real))


def _moments_only_with_force_columns(real):
    from gait2hip.data.columns import MOMENTS_R, MUSCLE_GROUPS_R
    from gait2hip.data.dataset import GaitDataset

    Y = np.full((len(real), real.n_timepoints, 17), np.nan, dtype=np.float32)
    Y[:, :, 14:] = real.Y
    return GaitDataset(
        X=real.X, Y=Y, input_columns=real.input_columns, target_columns=MUSCLE_GROUPS_R + MOMENTS_R,
        input_units=real.input_units, target_units=("N/kg",) * 14 + ("Nm/kg",) * 3, meta=real.meta,
    )  # fmt: skip
