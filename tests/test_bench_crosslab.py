"""The cross-lab experiment inside a tiny benchmark run: its table, resume, report section."""

from __future__ import annotations

import pandas as pd

from gait2hip.bench import crosslab
from gait2hip.bench.crosslab import CrossLabSettings, prepare_crosslab_data, run_crosslab
from gait2hip.data import load_dataset
from gait2hip.data.synthetic import synthetic_dataset


def test_the_table_has_every_source_and_held_out_lab(finished_run):
    table = pd.read_csv(finished_run / "crosslab" / "crosslab.csv")
    assert set(table["trained_on"]) == {"simulated", "fukuchi2018", "both"}
    real = table[table["tested_on"] == "fukuchi2018 (held-out subjects)"]
    assert set(real["config"]) == {"sim", "fukuchi", "both"} and set(real["target"]) == {"moments"}
    # every fukuchi2018 cycle scored once, by a model that never saw its subject
    assert set(real["n_cycles"]) == {178} and set(real["n_models"]) == {1}
    forces = table[table["target"] == "forces"]
    assert "fukuchi" not in set(forces["config"])  # no force labels in real data: no forces model
    moments = table[table["target"] == "moments"]
    assert moments[["rmse", "skill_train_mean", "skill_lab_mean", "r2_flexion"]].notna().all().all()
    report = (finished_run / "report.md").read_text()
    assert "Cross-lab: trained on → tested on" in report and "figures/crosslab.png" in report


def test_folds_hold_out_whole_subjects_and_a_rerun_trains_nothing(tmp_path, monkeypatch):
    simulated = synthetic_dataset(n_subjects=6, trials_per_cadence=1, n_timepoints=101, seed=3)
    data = prepare_crosslab_data(simulated, load_dataset("fukuchi2018"), [], folds=3)
    folds = [set(f) for f in data.real_folds]
    assert sum(len(f) for f in folds) == 30 and not (folds[0] & folds[1])
    train = data.training_set("both", 2)
    real_rows = train.meta["domain"] == "fukuchi2018"
    assert not set(train.meta.loc[real_rows, "subject_id"]) & folds[1]
    settings = CrossLabSettings(
        configs=("sim", "both+nonnegative_forces"), folds=3, epochs=1,
        model_overrides={"d_model": 8, "n_heads": 2, "n_layers": 1, "dim_feedforward": 8},
    )  # fmt: skip
    first = run_crosslab(tmp_path, data, settings)
    forced = first[(first["config"] == "both+nonnegative_forces") & (first["target"] == "forces")]
    assert (forced["neg_force_share"] == 0).all()  # the softplus output never goes below zero
    calls = []
    monkeypatch.setattr(crosslab, "_train", lambda *a, **k: calls.append(a) or "")
    again = run_crosslab(tmp_path, data, settings)
    assert calls == []
    pd.testing.assert_frame_equal(first, again)
