"""ONNX export: ONNX Runtime reproduces PyTorch within 1e-4 for every architecture, metadata kept."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R
from gait2hip.models import available_models, build_model
from gait2hip.models.bundle import BundleSpec, load_bundle, save_bundle
from gait2hip.models.onnx import export_onnx, onnx_metadata, onnx_parity, onnx_session

torch.set_num_threads(1)
T = 101  # the bundles' length: the Transformer's positions and any unrolled scan are built for it
SMALL = {
    "lstm": {"hidden_size": 16},
    "transformer": {"d_model": 32, "dim_feedforward": 64},
    "mamba": {"d_model": 16},
}


def _bundle(tmp_path, name: str, *, paper_size: bool = False):
    torch.manual_seed(0)
    overrides = {} if paper_size else SMALL.get(name, {})
    model = build_model(name, d_in=10, d_out=3, seq_len=T, **overrides)
    rng = np.random.default_rng(0)
    X = (20 * np.sin(np.linspace(0, 6.28, T))[None, :, None] + rng.normal(0, 5, (12, T, 10))).astype(
        np.float32
    )
    return save_bundle(
        tmp_path / f"{name}-moments",
        BundleSpec(
            model=model,
            input_columns=INPUT_ANGLES,
            input_units=["deg"] * 10,
            target_columns=MOMENTS_R,
            target_units=["Nm/kg"] * 3,
            input_mean=X.mean(axis=(0, 1)),
            input_std=X.std(axis=(0, 1)),
            target_mean=[0.1, -0.2, 0.05],
            target_std=[0.4, 0.3, 0.1],
            train_inputs=X,
            data_card={"simulated": True, "description": "test"},
        ),
    )


@pytest.mark.parametrize("name", ["lstm", "transformer", "mamba"])
def test_onnx_matches_pytorch_paper_sized(tmp_path, name):
    path = _bundle(tmp_path, name, paper_size=True)
    onnx_file = export_onnx(path, tmp_path / f"{name}.onnx")
    assert onnx_parity(path, onnx_file, batch=3) <= 1e-4
    # the batch dimension is dynamic
    session = onnx_session(onnx_file)
    x = np.zeros((7, T, 10), dtype=np.float32)
    assert session.run(None, {"angles": x})[0].shape == (7, T, 3)


@pytest.mark.parametrize("name", [n for n in available_models() if n not in ("lstm", "transformer", "mamba")])
def test_other_architectures_export(tmp_path, name):
    path = _bundle(tmp_path, name)
    assert onnx_parity(path, export_onnx(path, tmp_path / f"{name}.onnx"), batch=2) <= 1e-4


def test_normalisation_is_baked_in_and_metadata_is_kept(tmp_path):
    path = _bundle(tmp_path, "lstm")
    onnx_file = export_onnx(path, tmp_path / "m.onnx")
    bundle = load_bundle(path)
    angles = bundle.reference["input_mean_curve"][None].astype(np.float32)
    got = onnx_session(onnx_file).run(None, {"angles": angles})[0]
    np.testing.assert_allclose(got, bundle.predict_normalised(angles), atol=1e-5)
    meta = onnx_metadata(onnx_file)
    assert meta["input_columns"].split(",") == list(INPUT_ANGLES)
    assert meta["target_units"] == "Nm/kg,Nm/kg,Nm/kg" and meta["seq_len"] == str(T)
    assert json.loads(meta["gait2hip_manifest"])["architecture"] == "lstm"
    assert meta["simulated_training_data"] == "true"


def test_exported_file_states_its_input_conventions(tmp_path):
    """Knee sign, cycle definition, resampling, units and moment convention read back from metadata_props."""
    from gait2hip.models.onnx import input_conventions

    bundle = load_bundle(_bundle(tmp_path, "lstm"))
    path = export_onnx(bundle, tmp_path / "m.onnx")
    meta = onnx_metadata(path)
    assert meta["angle_units"].startswith("degrees") and "knee flexion POSITIVE" in meta["knee_sign"]
    assert "heel strike to the next heel strike" in meta["cycle_definition"]
    assert f"{bundle.seq_len} evenly spaced points" in meta["resampling"]
    assert "INTERNAL joint moments" in meta["moment_convention"]
    assert {k: meta[k] for k in input_conventions(bundle.seq_len)} == input_conventions(bundle.seq_len)
