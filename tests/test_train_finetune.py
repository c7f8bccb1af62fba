"""Fine-tuning a bundle on a lab's cycles: refusals, little change where the parent already fits,
the new bundle's record."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.data import load_dataset
from gait2hip.data.dataset import GaitDataset
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


def _replace(dataset: GaitDataset, **changes) -> GaitDataset:
    fields = dict(
        X=dataset.X, Y=dataset.Y, input_columns=dataset.input_columns, target_columns=dataset.target_columns,
        input_units=dataset.input_units, target_units=dataset.target_units, meta=dataset.meta.copy(),
        attrs=dict(dataset.attrs),
    )  # fmt: skip
    fields.update(changes)
    return GaitDataset(**fields)


def test_one_subject_is_refused(moments, lab):
    one = lab.select(subjects=[lab.meta["subject_id"].iloc[0]])
    with pytest.raises(Gait2HipInputError, match=r"holds 1 subject\(s\).*at least 2"):
        finetune(moments, one)


def test_data_without_the_bundles_targets_is_refused(moments, lab):
    from gait2hip.data.columns import MOMENTS_L

    left_only = _replace(lab, target_columns=MOMENTS_L)  # the default predicts the right hip only
    with pytest.raises(Gait2HipInputError, match="none of bundle transformer-joint-default's targets"):
        finetune(moments, left_only)


def test_missing_angle_is_refused(moments, lab):
    keep = [c for c in lab.input_columns if c != "knee_angle_l"]
    with pytest.raises(Gait2HipInputError, match="knee_angle_l"):
        finetune(moments, lab.select_inputs(keep))


def test_moments_in_the_wrong_unit_are_refused(moments, lab):
    # N·m written as if N·m/kg (a 70 kg subject): 70× too large
    with pytest.raises(Gait2HipInputError, match="wrong units"):
        finetune(moments, _replace(lab, Y=lab.Y * 70.0))
    # raw N·m without the body mass cannot be put per kg
    with pytest.raises(Gait2HipInputError, match="body mass is missing"):
        finetune(moments, _replace(lab, target_units=("Nm",) * 3))
    # radians labelled as degrees
    with pytest.raises(Gait2HipInputError, match="radians"):
        finetune(moments, _replace(lab, X=np.deg2rad(lab.X)))


def test_data_the_parent_already_fits_changes_its_predictions_little(moments, lab):
    """Labels equal to the parent's own predictions: the refit keeps the parent."""
    own = [moments.target_columns.index(c) for c in lab.target_columns]  # the lab's channels (moments)
    fitted = _replace(lab, Y=moments.predict_normalised(lab.X)[..., own])
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


def test_units_are_checked_per_unit_not_per_muscle_group(moments):
    """Another musculoskeletal model may give one muscle group a much smaller force (the gait2392
    example's adductor longus: 0.19x the parent's); a unit mix-up scales every force alike."""
    from gait2hip.train.labdata import lab_arrays
    from gait2hip.train.recipes import per_kg

    cohort = per_kg(load_dataset("default"))
    lab = cohort.select(subjects=sorted(set(cohort.meta["subject_id"]))[:3])
    j = lab.target_columns.index("addlong_r")
    small = lab.Y.copy()
    small[:, :, j] *= 0.1
    X, _, present = lab_arrays(moments, _replace(lab, Y=small))
    assert "addlong_r" in present and len(X) == len(lab)
    forces = np.array([u == "N/kg" for u in lab.target_units])
    with pytest.raises(Gait2HipInputError, match="wrong units"):
        lab_arrays(moments, _replace(lab, Y=np.where(forces, lab.Y * 1000.0, lab.Y)))
