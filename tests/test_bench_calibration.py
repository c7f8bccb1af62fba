"""Coverage of the bands: a bundle trained on part of a real dataset is scored only on the subjects
it names as held out, and cross-fitted coverage keeps each subject out of its own band."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from gait2hip.bench.calibration import crossfit_limits, load_sources, real_test_subjects, source_rows
from gait2hip.models.bundle import load_bundle
from gait2hip.models.uncertainty import band_limits, coverage, fit_band


@pytest.fixture(scope="module")
def default():
    return load_bundle("transformer-joint-default")


def _with_manifest(bundle, **changes):
    other = copy.copy(bundle)
    other.manifest = copy.deepcopy(bundle.manifest)
    for dotted, value in changes.items():
        node = other.manifest
        *parents, key = dotted.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return other


def test_a_bundle_naming_held_out_subjects_is_scored_only_on_them(default):
    held = default.manifest["metrics"]["real_test_subjects"]
    assert "fukuchi2018" in default.manifest["data_card"]["real_sources"] and 0 < len(held) < 30
    (source,) = load_sources(default, shared=None, names=("fukuchi2018",))
    assert set(source.subjects) == set(held) and source.name == "fukuchi2018 held-out"
    assert all(s in source.note for s in held) and "training data" in source.note


def test_a_bundle_trained_on_the_dataset_without_a_held_out_list_is_not_scored_on_it(default):
    unlisted = _with_manifest(default, **{"metrics.real_test_subjects": []})
    assert real_test_subjects(unlisted, "fukuchi2018") == []
    assert load_sources(unlisted, shared=None, names=("fukuchi2018",)) == []


def test_a_bundle_never_trained_on_the_dataset_is_scored_on_all_of_it(default):
    simulated_only = _with_manifest(default, **{"data_card.real_sources": []})
    (source,) = load_sources(simulated_only, shared=None, names=("fukuchi2018",))
    assert len(set(source.subjects)) == 30


def test_cross_fitting_keeps_a_subject_out_of_its_own_band():
    """Five subjects with small residuals, one with residuals 8x larger: a band fitted on all six
    covers that subject far better than the band fitted on the five others."""
    rng = np.random.default_rng(0)
    subjects = np.repeat([f"S{i}" for i in range(6)], 20)
    sd = np.where(subjects == "S5", 0.8, 0.1)[:, None, None]
    Y = rng.normal(0.0, 1.0, (120, 11, 1)) * sd
    parts = (np.zeros_like(Y), np.zeros_like(Y), None)
    odd = subjects == "S5"
    in_sample = coverage(Y[odd], *band_limits(np.zeros_like(Y[odd]), fit_band(Y)))["coverage"]
    folds = [np.flatnonzero(subjects == s) for s in np.unique(subjects)]
    lower, upper = crossfit_limits(parts, Y, folds)
    crossed = coverage(Y[odd], lower[odd], upper[odd])["coverage"]
    assert crossed < 0.4 < in_sample


def test_the_default_band_is_reported_in_sample_and_cross_fitted_on_its_real_calibration_subjects(default):
    (source,) = load_sources(default, shared=None, names=("fukuchi2018",))
    rows = source_rows(default, source)
    hows = [r["how"] for r in rows if r["targets"] == "moments"]
    assert any("in-sample" in h for h in hows) and "cross-fitted, leave-one-subject-out" in hows
    assert "cross-fitted, two halves" in hows
    assert {r["subjects"] for r in rows} == {len(set(source.subjects))}


def test_cycles_moved_out_of_distribution_are_flagged_and_get_a_wider_band(default):
    from gait2hip.bench.calibration import ood_rows, shifted

    (source,) = load_sources(default, shared=None, names=("fukuchi2018",))
    inside, outside = ood_rows(default, [source, shifted(source, degrees=40.0)]).to_dict("records")
    assert outside["flagged by distance"] == outside["cycles"] and outside["OOD factor flagged"] > 1.5
    assert outside["widening flagged"] > 2 * max(inside["widening unflagged"], inside["widening flagged"])


def test_calibrating_a_joint_bundle_on_moments_only_data_keeps_its_other_channels_band(default, tmp_path):
    from gait2hip.bench.calibration import calibrate_bundle

    (source,) = load_sources(default, shared=None, names=("fukuchi2018",))
    four = source.take(np.isin(source.subjects, sorted(set(source.subjects))[:4]))
    out = load_bundle(calibrate_bundle(default, four, tmp_path / "recalibrated"))
    moments = np.array([c.endswith("_moment") for c in default.target_columns])
    assert np.isfinite(out.band["band_hi"]).all()
    np.testing.assert_array_equal(out.band["band_hi"][:, ~moments], default.band["band_hi"][:, ~moments])
    assert not np.allclose(out.band["band_hi"][:, moments], default.band["band_hi"][:, moments])


def test_a_bundle_fine_tuned_from_the_default_keeps_the_parents_held_out_list(default):
    held = default.manifest["metrics"]["real_test_subjects"]
    child = _with_manifest(
        default,
        **{"data_card.real_sources": [], "metrics.real_test_subjects": [], "parent": {
            "data_card": default.manifest["data_card"], "metrics": default.manifest["metrics"]}},
    )  # fmt: skip
    assert real_test_subjects(child, "fukuchi2018") == sorted(held)
