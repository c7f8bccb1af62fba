"""The per-cycle figure: labelled contact panels in % body weight with the band and the in-vivo range."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import to_left
from gait2hip.models.bundle import load_bundle
from gait2hip.models.discovery import resolve_bundle_paths
from gait2hip.predict.plots import draw_cycle


@pytest.fixture(scope="module")
def joint_bundle():
    bundle = load_bundle(resolve_bundle_paths("default")[0])
    if "hip_r_contact_mag" not in bundle.target_columns:
        pytest.skip("the installed default bundle predicts no contact force")
    return bundle


def _curves(bundle) -> pd.DataFrame:
    """A made-up cycle: every output at its training mean (per kg), the contact force per kg only."""
    T = bundle.seq_len
    frame = {"cycle": 1, "side": "right", "percent": np.linspace(0, 100, T)}
    mean = bundle.reference["target_mean_curve"]
    for j, target in enumerate(bundle.target_columns):
        frame[target + "_per_kg"] = mean[:, j]
    return pd.DataFrame(frame)


def test_contact_panels_are_labelled_in_percent_body_weight(joint_bundle):
    curves = _curves(joint_bundle)
    fig = draw_cycle(curves, bundles=[joint_bundle], side="right", title="t")
    try:
        axes = {ax.get_title().replace("\n", " "): ax for ax in fig.axes if ax.get_title()}
        assert "hip contact force |F|" in axes
        contact = [t for t in axes if t.startswith("hip contact force")]
        assert len(contact) == 7
        assert {axes[t].get_ylabel() for t in contact} == {"% body weight"}
        assert axes["Gluteus medius"].get_ylabel() == "N/kg"
        magnitude = axes["hip contact force |F|"]
        predicted = next(line for line in magnitude.get_lines() if line.get_label() == "predicted")
        j = joint_bundle.target_columns.index("hip_r_contact_mag")
        expected = joint_bundle.reference["target_mean_curve"][:, j] / 9.81 * 100
        np.testing.assert_allclose(predicted.get_ydata(), expected, rtol=1e-6)
        labels = [line.get_label() for line in magnitude.get_lines()]
        assert any(label.startswith("in-vivo peak 247 ± 20 %BW") for label in labels)
        in_vivo = next(line for line in magnitude.get_lines() if label_of(line).startswith("in-vivo"))
        assert in_vivo.get_ydata()[0] == pytest.approx(247.0)
        assert not any(label_of(line).startswith("in-vivo") for line in axes["Gluteus medius"].get_lines())
        texts = " ".join(t.get_text() for t in fig.texts)
        assert "Bergmann et al. 2016" in texts
    finally:
        plt.close(fig)


def label_of(line) -> str:
    return str(line.get_label())


def test_left_cycle_draws_the_z_band_in_the_left_hips_opensim_sense(joint_bundle):
    """A left cycle's z is in OpenSim's sense (+ right = medial): its training band (the right hip's,
    + lateral) is drawn turned over, so a typical left curve lies inside it."""
    bundle = joint_bundle
    j = bundle.target_columns.index("hip_r_contact_z")
    right_mean = bundle.reference["target_mean_curve"][:, j]
    curves = pd.DataFrame({"cycle": 1, "side": "left", "percent": np.linspace(0, 100, bundle.seq_len)})
    for k, target in enumerate(bundle.target_columns):
        curves[to_left(target) + "_per_kg"] = bundle.reference["target_mean_curve"][:, k]
    curves["hip_l_contact_z_per_kg"] = -right_mean  # a typical left hip, as the left labels are
    fig = draw_cycle(curves, bundles=[bundle], side="left", title="t")
    try:
        ax = next(
            a for a in fig.axes if a.get_title().replace("\n", " ").startswith("hip contact force z, femur")
        )
        band_mean = next(line for line in ax.get_lines() if line.get_label() != "predicted").get_ydata()
        assert np.mean(right_mean) > 0 and np.mean(band_mean) < 0
    finally:
        plt.close(fig)
