"""Ensemble bundles: members saved and loaded, old one-member bundles unchanged, ONNX parity."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gait2hip.models import build_model
from gait2hip.models.bundle import BundleSpec, load_bundle, save_bundle
from gait2hip.models.ensemble import combine_members, with_band
from gait2hip.models.uncertainty import fit_band, uncertainty_record

T = 21
ANGLES = [f"a{i}" for i in range(4)]


def _bundle(folder, seed):
    torch.manual_seed(seed)
    model = build_model("transformer", d_in=4, d_out=2, seq_len=T, d_model=8, n_heads=2, n_layers=1,
                        dim_feedforward=16)  # fmt: skip
    rng = np.random.default_rng(0)
    inputs = 20 * np.sin(np.linspace(0, 6.28, T))[None, :, None] + rng.normal(0, 2, (40, T, 4))
    return save_bundle(
        folder,
        BundleSpec(
            model=model, input_columns=ANGLES, input_units=["deg"] * 4, target_columns=["m1", "m2"],
            target_units=["Nm/kg"] * 2, input_mean=np.zeros(4), input_std=np.full(4, 20.0),
            target_mean=np.zeros(2), target_std=np.ones(2), architecture="transformer",
            train_inputs=inputs.astype(np.float32), train_targets=rng.normal(0, 1, (40, T, 2)),
            extra={"seed": seed},
        ),
    )  # fmt: skip


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    root = tmp_path_factory.mktemp("members")
    return [load_bundle(_bundle(root / f"seed{s}", s)) for s in (1, 2, 3)]


def test_a_one_member_bundle_has_no_members_entry_and_loads_as_before(members):
    manifest = json.loads((members[0].path / "manifest.json").read_text())
    assert "members" not in manifest and manifest["format_version"] == 1
    assert members[0].members == [] and len(members[0].ensemble) == 1
    x = members[0].reference["input_mean_curve"][None]
    np.testing.assert_array_equal(members[0].predict_members(x)[0], members[0].predict_normalised(x))


def test_an_ensemble_predicts_the_mean_of_its_members(members, tmp_path):
    ensemble = load_bundle(combine_members(members, tmp_path / "ensemble"))
    assert len(ensemble.ensemble) == 3 and ensemble.manifest["extra"]["member_seeds"] == [1, 2, 3]
    assert sorted(ensemble.manifest["files"]) == sorted(
        ["weights.safetensors", "member1.safetensors", "member2.safetensors", "reference.safetensors"]
    )
    x = np.random.default_rng(5).normal(0, 20, (3, T, 4)).astype(np.float32)
    separate = np.stack([b.predict_normalised(x) for b in members])
    np.testing.assert_allclose(ensemble.predict_members(x), separate, atol=1e-6)
    np.testing.assert_allclose(ensemble.predict_normalised(x), separate.mean(axis=0), atol=1e-6)
    assert separate.std(axis=0).mean() > 1e-3  # the seeds really differ


def test_members_of_other_shapes_are_refused(members, tmp_path):
    from gait2hip.errors import Gait2HipInputError

    other_folder = tmp_path / "other"
    model = build_model("transformer", d_in=4, d_out=2, seq_len=T, d_model=16, n_heads=2, n_layers=1)
    save_bundle(other_folder, BundleSpec(
        model=model, input_columns=ANGLES, input_units=["deg"] * 4, target_columns=["m1", "m2"],
        target_units=["Nm/kg"] * 2, input_mean=np.zeros(4), input_std=np.ones(4), architecture="transformer",
        seq_len=T,
    ))  # fmt: skip
    with pytest.raises(Gait2HipInputError, match="differs"):
        combine_members([members[0], load_bundle(other_folder)], tmp_path / "bad")


def test_onnx_graph_of_an_ensemble_with_band_matches_pytorch(members, tmp_path):
    pytest.importorskip("onnxruntime")
    from gait2hip.bench.calibration import band_for
    from gait2hip.models.onnx import export_onnx, onnx_metadata, onnx_session

    ensemble = load_bundle(combine_members(members, tmp_path / "ensemble"))
    rng = np.random.default_rng(3)
    x = 20 * np.sin(np.linspace(0, 6.28, T))[None, :, None] + rng.normal(0, 2, (30, T, 4))
    residuals = rng.normal(0, 0.3, (30, T, 2))
    band = fit_band(residuals, spread=np.full((30, T, 2), 0.01))
    banded = load_bundle(
        with_band(ensemble, tmp_path / "ensemble", band=band,
                  uncertainty=uncertainty_record(members=3, calibration={"data": "synthetic"}))
    )  # fmt: skip
    path = export_onnx(banded, tmp_path / "ensemble.onnx")
    assert onnx_metadata(path)["members"] == "3"
    x_new = np.concatenate([x[:2], x[:1] + 60.0]).astype(np.float32)  # the last one far out of range
    targets, lower, upper, ratio = onnx_session(path).run(None, {"angles": x_new})
    lo, hi = band_for(banded, banded.band, x_new)
    np.testing.assert_allclose(targets, banded.predict_normalised(x_new), atol=1e-4)
    np.testing.assert_allclose(lower, lo, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(upper, hi, rtol=1e-5, atol=1e-4)
    assert ratio[2] > 1.0 and (upper - lower)[2].mean() > (upper - lower)[0].mean()
