"""Prediction bands: conformal calibration, the OOD widening rule, the band in predictions."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.models.uncertainty import (
    band_limits,
    band_scale,
    coverage,
    fit_band,
    member_stats,
    ood_inflation,
)


def test_a_band_fitted_on_held_out_residuals_covers_new_ones_at_its_level():
    rng = np.random.default_rng(1)
    # heteroscedastic residuals: the SD grows along the cycle, so a per-point band is needed
    sd = np.linspace(0.05, 0.4, 51)[None, :, None]
    calibration = rng.normal(0.0, 1.0, (300, 51, 2)) * sd
    new = rng.normal(0.0, 1.0, (300, 51, 2)) * sd
    band = fit_band(calibration)
    lower, upper = band_limits(np.zeros_like(new), band)
    result = coverage(new, lower, upper)
    assert 0.87 <= result["coverage"] <= 0.93
    # per point: the late, noisy points get a wider band than the early ones
    assert band["band_hi"][-1, 0] > 5 * band["band_hi"][0, 0]
    # a constant band (one quantile for the whole cycle) would over-cover early, under-cover late
    early = coverage(new[:, :10], lower[:, :10], upper[:, :10])["coverage"]
    late = coverage(new[:, -10:], lower[:, -10:], upper[:, -10:])["coverage"]
    assert abs(early - late) < 0.06


def test_absent_targets_are_ignored_not_counted():
    rng = np.random.default_rng(2)
    residuals = rng.normal(0.0, 0.1, (100, 11, 2))
    residuals[:50, :, 1] = np.nan  # half the cycles have no label for output 1
    band = fit_band(residuals)
    assert np.isfinite(band["band_hi"]).all()
    truth = rng.normal(0.0, 0.1, (100, 11, 2))
    truth[:, :, 1] = np.nan
    result = coverage(truth, *band_limits(np.zeros_like(truth), band))
    assert result["n_samples"] == 100 * 11


def test_ood_rule_widens_by_distance_over_threshold_and_never_narrows():
    np.testing.assert_allclose(ood_inflation([3.0, 12.0, 6.0, np.nan], 6.0), [1.0, 2.0, 1.0, 1.0])
    band = {"band_lo": -np.ones((5, 1)), "band_hi": np.ones((5, 1)), "band_spread": np.zeros((5, 1))}
    mean = np.zeros((2, 5, 1))
    scale = band_scale(
        spread=None, band_spread=None, inflation=ood_inflation([3.0, 12.0], 6.0), shape=mean.shape
    )
    lower, upper = band_limits(mean, band, scale)
    np.testing.assert_allclose(upper[:, 0, 0] - lower[:, 0, 0], [2.0, 4.0])


def test_members_disagreeing_more_than_in_calibration_widen_the_band():
    members = np.stack([np.zeros((1, 4, 1)), np.full((1, 4, 1), 2.0)])  # SD 1 around a mean of 1
    mean, spread = member_stats(members)
    np.testing.assert_allclose(mean, 1.0)
    np.testing.assert_allclose(spread, 1.0)
    scale = band_scale(spread=spread, band_spread=np.full((4, 1), 0.25), inflation=None, shape=mean.shape)
    np.testing.assert_allclose(scale, 4.0)  # 4× the calibration spread
    scale = band_scale(spread=spread, band_spread=np.full((4, 1), 2.0), inflation=None, shape=mean.shape)
    np.testing.assert_allclose(scale, 1.0)  # less spread than in calibration: never narrower


def test_fit_band_checks_its_arguments():
    with pytest.raises(ValueError, match="residuals"):
        fit_band(np.zeros((1, 5, 1)))
    with pytest.raises(ValueError, match="level"):
        fit_band(np.zeros((10, 5, 1)), level=0.3)


def _predict_normal_and_shifted(predictor, examples):
    from gait2hip.data.angles import read_angles

    angles = read_angles(examples / "gait2392-subject01" / "subject01_walk1_ik.mot")
    window = [(0.618, 1.853)]
    normal = predictor.predict_trial(angles, mass_kg=72.6, cycles=window)
    shifted_angles = angles.copy()
    for column in [c for c in shifted_angles.columns if "hip_flexion" in c]:
        shifted_angles[column] = shifted_angles[column] + 25.0
    return normal, predictor.predict_trial(shifted_angles, mass_kg=72.6, cycles=window)


def _width(prediction, name: str) -> np.ndarray:
    return (prediction.curves[name + "_hi"] - prediction.curves[name + "_lo"]).to_numpy()


def test_shipped_default_predictions_carry_a_band_widened_for_an_ood_cycle(examples):
    """The real gait2392 example through the Predictor and the shipped (ensemble) default: every
    output has its band around the prediction; the same stride with the hip flexed 25° more is
    flagged, its OOD factor is distance / threshold and its band is wider on average (the members'
    spread changes too, so not by exactly that factor at every point)."""
    from gait2hip.predict import Predictor

    normal, shifted = _predict_normal_and_shifted(Predictor.from_bundle("default"), examples)
    for name in ("glmed_r", "hip_adduction_r_moment"):
        curves = normal.curves
        assert (curves[name + "_lo"] <= curves[name]).all() and (curves[name] <= curves[name + "_hi"]).all()
        assert normal.curves.attrs["units"][name + "_hi"] == normal.curves.attrs["units"][name]
    row_normal, row_shifted = normal.cycles.iloc[0], shifted.cycles.iloc[0]
    assert row_shifted["ood"] and row_shifted["band_inflation"] > row_normal["band_inflation"]
    expected = max(1.0, row_shifted["ood_distance"] / row_shifted["ood_threshold"])
    assert row_shifted["band_inflation"] == pytest.approx(expected)
    name = "hip_adduction_r_moment"
    assert _width(shifted, name).mean() > _width(normal, name).mean()


def test_one_member_band_is_widened_by_exactly_the_ood_factor(examples, tmp_path):
    """With one member (no spread term) the flagged stride's band is wider by exactly its
    distance / threshold at every point (the stated rule)."""
    from gait2hip.models.bundle import load_bundle, save_bundle
    from gait2hip.models.ensemble import spec_from_bundle
    from gait2hip.predict import Predictor

    default = load_bundle("transformer-joint-default")
    one = save_bundle(tmp_path / "one", spec_from_bundle(default, members=[]))
    normal, shifted = _predict_normal_and_shifted(Predictor.from_bundle(str(one)), examples)
    row_normal, row_shifted = normal.cycles.iloc[0], shifted.cycles.iloc[0]
    assert row_shifted["ood"] and row_shifted["band_inflation"] > row_normal["band_inflation"]
    # a moment (force bands are clipped at 0)
    ratio = _width(shifted, "hip_adduction_r_moment") / _width(normal, "hip_adduction_r_moment")
    np.testing.assert_allclose(ratio, row_shifted["band_inflation"] / row_normal["band_inflation"], rtol=1e-4)
