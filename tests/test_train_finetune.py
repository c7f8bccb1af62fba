"""Fine-tuning a bundle on a lab's cycles: refusals, little change where the parent already fits,
the new bundle's record."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import dataset_with

from gait2hip.data import load_dataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import load_bundle
from gait2hip.train.finetune import FinetuneSettings, finetune


@pytest.fixture(scope="module")
def moments():
    return load_bundle("transformer-joint-default")


@pytest.fixture(scope="module")
def lab():
    """Six real fukuchi2018 subjects (hip moments only, Nm/kg)."""
    data = load_dataset("fukuchi2018")
    subjects = sorted(set(data.meta["subject_id"]))[:6]
    return data.select(subjects=subjects)


def test_one_subject_is_refused(moments, lab):
    one = lab.select(subjects=[lab.meta["subject_id"].iloc[0]])
    with pytest.raises(Gait2HipInputError, match=r"holds 1 subject\(s\).*at least 2"):
        finetune(moments, one)


def test_data_without_the_bundles_targets_is_refused(moments, lab):
    from gait2hip.data.columns import MOMENTS_L

    left_only = dataset_with(lab, target_columns=MOMENTS_L)  # the default predicts the right hip only
    with pytest.raises(Gait2HipInputError, match="none of bundle transformer-joint-default's targets"):
        finetune(moments, left_only)


def test_missing_angle_is_refused(moments, lab):
    keep = [c for c in lab.input_columns if c != "knee_angle_l"]
    with pytest.raises(Gait2HipInputError, match="knee_angle_l"):
        finetune(moments, lab.select_inputs(keep))


def test_moments_in_the_wrong_unit_are_refused(moments, lab):
    # N·m written as if N·m/kg (a 70 kg subject): 70× too large
    with pytest.raises(Gait2HipInputError, match="wrong units"):
        finetune(moments, dataset_with(lab, Y=lab.Y * 70.0))
    # raw N·m without the body mass cannot be put per kg
    with pytest.raises(Gait2HipInputError, match="body mass is missing"):
        finetune(moments, dataset_with(lab, target_units=("Nm",) * 3))
    # radians labelled as degrees
    with pytest.raises(Gait2HipInputError, match="radians"):
        finetune(moments, dataset_with(lab, X=np.deg2rad(lab.X)))


def test_data_the_parent_already_fits_changes_its_predictions_little(moments, lab):
    """Labels equal to the parent's own predictions: the refit keeps the parent."""
    own = [moments.target_columns.index(c) for c in lab.target_columns]  # the lab's channels (moments)
    fitted = dataset_with(lab, Y=moments.predict_normalised(lab.X)[..., own])
    result = finetune(moments, fitted)
    other = load_dataset("fukuchi2018").select(subjects=["WBDS20", "WBDS21"])
    before, after = moments.predict_normalised(other.X)[..., own], result.predict(other.X)[..., own]
    assert result.choice["anchor"] == "parent"
    assert np.abs(after - before).max() < 1e-3  # Nm/kg; the moments reach ~1.5 Nm/kg


def test_simulated_training_cycles_change_the_predictions_little(moments):
    """Simulated subjects from the parent's own training pool (it fits them): predictions on the
    simulated held-out subjects move by far less than the parent's error there."""
    from gait2hip.train.recipes import per_kg

    cohort = per_kg(load_dataset("default"))
    test = moments.manifest["metrics"]["test_subjects"]
    healthy = cohort.take(np.flatnonzero(cohort.meta["cohort"].to_numpy(dtype=str) != "patient"))
    pool = sorted(set(healthy.meta["subject_id"]) - set(test))[:8]
    result = finetune(moments, healthy.select(subjects=pool))
    held_out = healthy.select(subjects=test).select_targets(moments.target_columns)
    before, after = moments.predict_normalised(held_out.X), result.predict(held_out.X)
    parent_rmse = np.sqrt(np.mean((before - held_out.Y) ** 2))
    change = np.sqrt(np.mean((after - before) ** 2))
    assert change < 0.5 * parent_rmse


def test_the_new_bundle_records_parent_data_and_scores_and_predicts_what_was_fitted(moments, lab, tmp_path):
    result = finetune(moments, lab, settings=FinetuneSettings(folds=3))
    path = result.save(tmp_path / "adapted")
    adapted = load_bundle(path)
    manifest = adapted.manifest
    assert manifest["format_version"] == 2 and manifest["parent"]["name"] == "transformer-joint-default"
    assert manifest["parent"]["weights_sha256"] == moments.manifest["files"]["weights.safetensors"]
    assert manifest["data_card"]["n_subjects"] == 6 and manifest["data_card"]["simulated"] is False
    assert manifest["metrics"]["rmse"] < manifest["metrics"]["parent_rmse"]  # out-of-fold, held-out subjects
    assert adapted.has_band and manifest["uncertainty"]["calibration"]["subjects"] == 6
    np.testing.assert_allclose(adapted.predict_normalised(lab.X), result.predict(lab.X), atol=1e-5)
    # the architecture is the parent's: only the output head differs
    changed = [
        name for name, p in adapted.model.state_dict().items()
        if not np.allclose(p.numpy(), moments.model.state_dict()[name].numpy())
    ]  # fmt: skip
    assert changed and all(name.split(".")[-2] == "output_proj" for name in changed)
