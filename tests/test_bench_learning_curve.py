"""The learning curve's new lab: only subjects the parent bundle never trained on."""

from __future__ import annotations

import copy

import pytest

from gait2hip.bench.learning_curve import lab_subjects
from gait2hip.data import load_dataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import load_bundle


@pytest.fixture(scope="module")
def default():
    return load_bundle("transformer-joint-default")


def _card(bundle, **changes):
    other = copy.copy(bundle)
    other.manifest = copy.deepcopy(bundle.manifest)
    for key, value in changes.items():
        section, name = key.split(".")
        other.manifest[section][name] = value
    return other


def test_the_default_is_tested_only_on_its_held_out_fukuchi_subjects(default):
    data = load_dataset("fukuchi2018")
    lab, note = lab_subjects(default, data)
    held = default.manifest["metrics"]["real_test_subjects"]
    assert set(lab.meta["subject_id"]) == set(held) and len(held) < data.meta["subject_id"].nunique()
    assert "not trained on" in note and all(s in note for s in held)


def test_a_parent_never_trained_on_the_lab_uses_every_subject_and_an_unlisted_one_is_refused(default):
    data = load_dataset("fukuchi2018")
    lab, note = lab_subjects(_card(default, **{"data_card.real_sources": []}), data)
    assert lab.meta["subject_id"].nunique() == 30 and "never trained" in note
    with pytest.raises(Gait2HipInputError, match="lists no held-out subject"):
        lab_subjects(_card(default, **{"metrics.real_test_subjects": []}), data)
