"""Model bundles: exact round trip, no pickle on load, integrity check, OOD reference, lookup by name."""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pytest
import torch

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.errors import Gait2HipInputError
from gait2hip.models import build_model
from gait2hip.models import discovery as bundle_module
from gait2hip.models.bundle import BundleSpec, load_bundle, save_bundle
from gait2hip.models.discovery import installed_bundles, resolve_bundle_paths
from gait2hip.models.manifest import MANIFEST_FILE, REFERENCE_FILE, WEIGHTS_FILE, pack_bundle
from gait2hip.models.ood import fit_reference, ood_distance, ood_outside_fraction

torch.set_num_threads(1)
T = 21


def _cycles(n: int, seed: int = 0) -> np.ndarray:
    """Smooth angle curves [n, T, 10] in degrees with subject-to-subject variation."""
    rng = np.random.default_rng(seed)
    phase = np.linspace(0, 2 * np.pi, T)
    amplitude = np.array([30, 8, 6, 30, 8, 6, 60, 15, 60, 15], dtype=float)
    offset = np.array([10, 0, -5, 10, 0, -5, 20, 0, 20, 0], dtype=float)
    shifts = np.array([0, 0.5, 1, np.pi, np.pi + 0.5, np.pi + 1, 0.8, 1.2, np.pi + 0.8, np.pi + 1.2])
    gain = 1 + 0.1 * rng.standard_normal((n, 1, 10))
    jitter = 2 * rng.standard_normal((n, 1, 10))
    curves = offset + amplitude * np.sin(phase[None, :, None] + shifts[None, None, :]) * gain + jitter
    return curves.astype(np.float32)


def _save(tmp_path, *, target_norm: bool = True, name: str = "lstm-forces-test", default_for=None):
    torch.manual_seed(0)
    model = build_model("lstm", d_in=10, d_out=14, seq_len=T, hidden_size=8, num_layers=1)
    X = _cycles(40)
    Y = np.random.default_rng(1).normal(5.0, 2.0, size=(40, T, 14)).astype(np.float32)
    path = save_bundle(
        tmp_path / name,
        BundleSpec(
            model=model,
            input_columns=INPUT_ANGLES,
            input_units=["deg"] * 10,
            target_columns=MUSCLE_GROUPS_R,
            target_units=["N/kg"] * 14,
            input_mean=X.mean(axis=(0, 1)),
            input_std=X.std(axis=(0, 1)),
            target_mean=Y.mean(axis=(0, 1)) if target_norm else None,
            target_std=Y.std(axis=(0, 1)) if target_norm else None,
            data_card={"sha256": "abc", "description": "unit-test cycles", "simulated": True},
            metrics={"rmse": 1.5, "r2": 0.8, "units": "N/kg"},
            train_inputs=X,
            train_targets=Y,
            description="test bundle",
            default_for=default_for,
            extra={"seed": 7},
        ),
    )
    return path, model, X, Y


def test_round_trip_reproduces_the_model_exactly(tmp_path):
    path, model, X, _ = _save(tmp_path)
    assert {p.name for p in path.iterdir()} == {MANIFEST_FILE, WEIGHTS_FILE, REFERENCE_FILE}
    bundle = load_bundle(path)
    assert not bundle.model.training
    assert bundle.architecture == "lstm" and bundle.seq_len == T
    assert bundle.input_columns == INPUT_ANGLES and bundle.target_units == ("N/kg",) * 14
    assert bundle.target_kind == "forces" and bundle.simulated
    assert bundle.manifest["metrics"]["rmse"] == 1.5 and bundle.manifest["extra"] == {"seed": 7}
    for key, value in model.state_dict().items():
        torch.testing.assert_close(bundle.model.state_dict()[key], value, rtol=0, atol=0)

    # predict_normalised = de-standardise(model((x - mean) / std)), computed by hand here.
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    norm = manifest["normalisation"]
    x = X[:3]
    model.eval()
    with torch.no_grad():
        raw = model(torch.tensor((x - np.float32(norm["input"]["mean"])) / np.float32(norm["input"]["std"])))
    expected = raw.numpy() * np.float32(norm["target"]["std"]) + np.float32(norm["target"]["mean"])
    np.testing.assert_allclose(bundle.predict_normalised(x), expected, rtol=1e-5, atol=1e-5)
    assert bundle.predict_normalised(x[0]).shape == (T, 14)
    with pytest.raises(ValueError, match="inputs must be"):
        bundle.predict_normalised(np.zeros((1, T + 1, 10), dtype=np.float32))


def test_no_target_normalisation_and_training_band(tmp_path):
    path, _, X, Y = _save(tmp_path, target_norm=False)
    bundle = load_bundle(path)
    assert bundle.manifest["normalisation"]["target"] is None
    np.testing.assert_allclose(bundle.reference["target_mean_curve"], Y.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bundle.reference["input_sd_curve"], X.std(axis=0, ddof=1), rtol=1e-4)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    path, *_ = _save(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("a bundle load must not unpickle anything")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    for name in (WEIGHTS_FILE, REFERENCE_FILE):  # safetensors: 8-byte header length, then JSON
        assert (path / name).read_bytes()[8:9] == b"{"
    bundle = load_bundle(path)
    assert bundle.predict_normalised(_cycles(2)).shape == (2, T, 14)


def test_tampered_weights_are_refused(tmp_path):
    path, *_ = _save(tmp_path)
    data = bytearray((path / WEIGHTS_FILE).read_bytes())
    data[-1] ^= 0xFF
    (path / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(Gait2HipInputError, match="SHA-256"):
        load_bundle(path)


def test_not_a_bundle_and_unknown_name(tmp_path):
    with pytest.raises(Gait2HipInputError, match="not a gait2hip model bundle"):
        load_bundle(tmp_path)
    with pytest.raises(Gait2HipInputError, match="not found"):
        load_bundle("no-such-bundle-anywhere")


def test_ood_distance_flags_far_cycles_and_passes_training_ones():
    X = _cycles(200, seed=3)
    reference = fit_reference(train_inputs=X)
    threshold = float(reference["ood_threshold"][0])
    train = ood_distance(X, reference)
    assert np.mean(train <= threshold) == pytest.approx(0.99, abs=0.006)
    fresh = _cycles(50, seed=4)
    assert np.mean(ood_distance(fresh, reference) <= threshold) > 0.85
    crouch = fresh.copy()
    crouch[:, :, [6, 8]] += 40.0  # knees 40° more flexed all cycle long
    assert (ood_distance(crouch, reference) > threshold).all()
    assert (ood_outside_fraction(crouch, reference) > 0.05).all()
    assert (ood_outside_fraction(X, reference) < 0.05).mean() > 0.95


def test_lookup_by_name_and_default(tmp_path, monkeypatch):
    _save(tmp_path, name="lstm-forces-mine", default_for="forces")
    monkeypatch.setenv("GAIT2HIP_BUNDLE_PATH", str(tmp_path))  # the library does not read it
    monkeypatch.setattr(bundle_module, "INSTALLED_BUNDLES_DIR", tmp_path / "none-shipped")
    assert "lstm-forces-mine" not in installed_bundles()
    dirs = bundle_module.bundle_search_dirs([tmp_path])
    assert installed_bundles(dirs)["lstm-forces-mine"] == tmp_path / "lstm-forces-mine"
    assert load_bundle("lstm-forces-mine", search_dirs=dirs).name == "lstm-forces-mine"
    assert resolve_bundle_paths("default", target="forces", search_dirs=dirs) == [
        tmp_path / "lstm-forces-mine"
    ]
    with pytest.raises(Gait2HipInputError, match="no installed default"):
        resolve_bundle_paths("default", target="moments", search_dirs=dirs)
    with pytest.raises(Gait2HipInputError, match="not found"):
        load_bundle("lstm-forces-mine")  # shipped bundles only


def test_subject_input_columns_are_left_out_of_the_ood_measure(tmp_path):
    X = _cycles(40)
    extra = np.broadcast_to(np.array([1.1, 70.0, 1.75], dtype=np.float32), (40, T, 3))
    X13 = np.concatenate([X, extra + np.random.default_rng(0).normal(0, 0.1, (40, 1, 3))], axis=2)
    model = build_model("lstm", d_in=13, d_out=3, seq_len=T, hidden_size=4, num_layers=1)
    path = save_bundle(
        tmp_path / "b",
        BundleSpec(
            model=model,
            input_columns=(*INPUT_ANGLES, "stride_time_s", "mass_kg", "height_m"),
            input_units=["deg"] * 10 + ["s", "kg", "m"],
            target_columns=MOMENTS_R,
            target_units=["Nm/kg"] * 3,
            input_mean=X13.mean(axis=(0, 1)),
            input_std=X13.std(axis=(0, 1)),
            train_inputs=X13,
        ),
    )
    bundle = load_bundle(path)
    assert bundle.reference["ood_channels"].tolist() == list(range(10))
    assert bundle.manifest["ood"]["columns"] == list(INPUT_ANGLES)
    heavy = X13[:5].copy()
    heavy[:, :, 11] = 140.0  # body mass is not a kinematic outlier
    np.testing.assert_allclose(ood_distance(heavy, bundle.reference), ood_distance(X13[:5], bundle.reference))


def test_single_archive_loads_like_the_folder(tmp_path, monkeypatch):
    path, *_ = _save(tmp_path, name="lstm-forces-zip")
    archive = pack_bundle(path, tmp_path / "shipped" / "lstm-forces-zip.zip")
    folder_bundle, zip_bundle = load_bundle(path), load_bundle(archive)
    x = _cycles(2)
    np.testing.assert_array_equal(folder_bundle.predict_normalised(x), zip_bundle.predict_normalised(x))
    assert zip_bundle.name == "lstm-forces-zip" and zip_bundle.has_ood
    assert installed_bundles([tmp_path / "shipped"])["lstm-forces-zip"] == archive
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(Gait2HipInputError, match="not a gait2hip model bundle"):
        load_bundle(broken)


def _point_manifest_at(path, filename: str, sha256: str) -> None:
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    manifest["files"][filename] = sha256
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_manifest_files_outside_the_bundle_are_refused_unread(tmp_path, monkeypatch, kind):
    import hashlib
    from pathlib import Path

    path, *_ = _save(tmp_path / "bundles")
    secret = tmp_path / "secret.txt"  # outside the bundle, with its true hash in the manifest
    secret.write_text("not for bundles\n")
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    if kind == "dotdot":
        filename = "../../secret.txt"
    elif kind == "absolute":
        filename = str(secret)
    else:
        (path / "extra.safetensors").symlink_to(secret)
        filename = "extra.safetensors"
    _point_manifest_at(path, filename, digest)
    read: list[Path] = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(
        Path, "read_bytes", lambda self: (read.append(self.resolve()), real_read_bytes(self))[1]
    )
    with pytest.raises(Gait2HipInputError, match=r"outside|absolute|climbs out") as raised:
        load_bundle(path)
    assert repr(filename) in str(raised.value) and "Refused" in str(raised.value)
    assert secret.resolve() not in read
    with pytest.raises(Gait2HipInputError, match=re.escape(repr(filename))):
        pack_bundle(path, tmp_path / "packed.zip")  # nor packed into an archive
    assert not (tmp_path / "packed.zip").exists()


def test_the_etc_hostname_probe_is_refused(tmp_path):
    path, *_ = _save(tmp_path)
    _point_manifest_at(path, "../../../../etc/hostname", "0" * 64)
    with pytest.raises(Gait2HipInputError, match=r"'\.\./\.\./\.\./\.\./etc/hostname'.*climbs out"):
        load_bundle(path)


def test_config_that_does_not_fit_the_weights_is_one_clear_error(tmp_path):
    import json

    path, *_ = _save(tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["config"]["hidden_size"] *= 2  # weights saved for the original size
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Gait2HipInputError, match=r"do not fit the architecture .*size mismatch") as info:
        load_bundle(path)
    assert "weights.safetensors" in str(info.value) and "Fix:" in str(info.value)
