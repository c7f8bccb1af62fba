"""Moment conventions and units applied to a prediction with its 90 % band (shipped default bundles)."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.data.angles import read_angles
from gait2hip.predict import Predictor
from gait2hip.predict.moments import express_moments

GAIT2392_IK = "opensim-examples/gait2392-subject01/subject01_walk1_ik.mot"


@pytest.fixture(scope="module")
def prediction(shared):
    with pytest.warns(UserWarning, match="knee flexion is negative"):
        angles = read_angles(shared / GAIT2392_IK)
    return Predictor.from_bundle("default").predict_trial(angles, mass_kg=72.6, cycles=[(0.618, 1.853)])


def test_external_percent_bwh_moves_the_band_with_its_curve(prediction):
    m = "hip_flexion_r_moment"
    assert m + "_per_kg_lo" in prediction.curves, "the shipped default carries a band"
    out = express_moments(prediction, convention="external", units="%BWh", height_m=1.80)
    curves, before = out.curves, prediction.curves
    # 1 Nm/kg for a 1.80 m subject is 100 / (9.81 · 1.80) = 5.663 %BW·h; external = −internal,
    # so the old upper limit becomes the new lower one
    np.testing.assert_allclose(curves[m + "_pct_bwh_lo"], -5.6631 * before[m + "_per_kg_hi"], rtol=1e-3)
    np.testing.assert_allclose(curves[m + "_lo"], -before[m + "_hi"])
    assert (curves[m + "_pct_bwh_lo"] <= curves[m + "_pct_bwh"]).all()
    assert (curves[m + "_pct_bwh"] <= curves[m + "_pct_bwh_hi"]).all()
    assert curves.attrs["units"][m + "_pct_bwh_hi"] == "%BWh" and m + "_per_kg_lo" not in curves
    # forces and their bands are untouched
    np.testing.assert_array_equal(curves["glmed_r_per_kg_lo"], before["glmed_r_per_kg_lo"])
