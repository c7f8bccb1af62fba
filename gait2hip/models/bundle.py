"""Model bundles: a trained model and everything needed to use it, without pickle.

A bundle is a directory::

    <name>/
        manifest.json           what the model is, what it expects, what it was trained on
        weights.safetensors     the model's parameters (safetensors, never a pickle)
        reference.safetensors   the training cohort's curves and out-of-distribution statistics

``manifest.json`` holds the format version, the architecture name and its full config
(rebuilt with ``build_model(name, **config)``), the input and target columns with their
units (targets trained per kg of body mass: N/kg, Nm/kg), the input and target
normalisation, ``seq_len`` (the number of time points per cycle the model expects), the
training data card (hash, description, simulated flag), test-set metrics, the gait2hip
version, the creation time, SHA-256 of both tensor files, and the out-of-distribution
measure with its threshold.

Loading reads JSON and safetensors only: nothing is unpickled, so a bundle from an
untrusted source cannot execute code.

Out-of-distribution measure (fitted at save time from the training cycles' angle curves,
in degrees, at ``seq_len`` points):

* ``ood_distance``: the cycle's curves flattened to one vector of T·D values, projected on
  the first k principal components of the training cycles (k explains 99 % of their
  variance, at most 30). The distance is sqrt(Σ_j s_j² / λ_j + r² / ρ): the Mahalanobis
  distance in the PCA space plus the residual off that space (r² the squared
  reconstruction error, ρ the training cycles' mean squared residual, floored at 1° RMS
  per sample so that measurement noise absent from smooth training curves is not
  "far"). The threshold is the 99th percentile of the training cycles' out-of-fold
  distances (5 folds: each cycle scored against a PCA fitted without it, as a new
  patient's cycle is), fitted on at most 2000 cycles (seeded subsample).
* ``ood_outside_fraction``: the fraction of the cycle's samples (time points × channels)
  whose z-score against the training cohort's mean ± SD curve exceeds 4; threshold 5 %.

A cycle is flagged when either exceeds its threshold.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load as _load_numpy_bytes
from safetensors.numpy import save_file as _save_numpy_tensors
from safetensors.torch import load_model as _load_model_weights
from safetensors.torch import save_model as _save_model_weights

from gait2hip import __version__
from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import RESOURCES

BUNDLE_FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "weights.safetensors"
REFERENCE_FILE = "reference.safetensors"

#: Shipped bundles live here; GAIT2HIP_BUNDLE_PATH (os.pathsep-separated) adds folders.
INSTALLED_BUNDLES_DIR = RESOURCES / "bundles"
BUNDLE_PATH_ENV = "GAIT2HIP_BUNDLE_PATH"

INPUT_UNITS = ("deg", "rad", "s", "kg", "m", "1")
TARGET_UNITS = ("N", "N/kg", "Nm", "Nm/kg")

#: Out-of-distribution settings (see the module docstring).
OOD_VARIANCE_KEPT = 0.99
OOD_MAX_COMPONENTS = 30
OOD_PERCENTILE = 99.0
OOD_Z_LIMIT = 4.0
OOD_OUTSIDE_FRACTION_LIMIT = 0.05
OOD_FOLDS = 5
OOD_MAX_CYCLES = 2000
#: The off-PCA residual is scaled by at least this RMS (deg per sample and channel), so
#: measurement noise absent from smooth (e.g. simulated) training curves is not "far away".
OOD_RESIDUAL_FLOOR_DEG = 1.0


# ---------------------------------------------------------------------- reference statistics
def fit_reference(
    *,
    train_inputs: np.ndarray,
    train_targets: np.ndarray | None = None,
    ood_channels: Sequence[int] | None = None,
) -> dict[str, np.ndarray]:
    """The training cohort's mean ± SD curves and the out-of-distribution model.

    Parameters
    ----------
    train_inputs
        Training cycles' inputs [N, T, D_in] in the bundle's input units (degrees), the
        same columns as the bundle's ``input_columns``.
    train_targets
        Training cycles' targets [N, T, D_out] in the bundle's target units; gives the
        target band drawn behind predictions.
    ood_channels
        Input channels the OOD measures look at (default: all). :func:`save_bundle` passes
        the angle channels, so per-cycle constants such as body mass are left out.

    Returns
    -------
    dict
        float32 arrays: ``input_mean_curve`` / ``input_sd_curve`` [T, D_in],
        ``target_mean_curve`` / ``target_sd_curve`` [T, D_out] (when targets are given),
        ``ood_channels`` [C] (int64), ``ood_center`` [T·C], ``ood_components`` [k, T·C],
        ``ood_variances`` [k], ``ood_residual_variance`` [1], ``ood_threshold`` [1],
        ``ood_train_distances`` [≤ 2000] (out of fold).
    """
    X = np.asarray(train_inputs, dtype=np.float64)
    if X.ndim != 3 or len(X) < 3:
        raise ValueError(f"train_inputs must be [N≥3, T, D]; got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("train_inputs contain NaN or infinite values")
    channels = np.arange(X.shape[2]) if ood_channels is None else np.asarray(ood_channels, dtype=np.int64)
    if channels.size == 0 or channels.min() < 0 or channels.max() >= X.shape[2]:
        raise ValueError(f"ood_channels {channels.tolist()} do not index the {X.shape[2]} input channels")
    reference: dict[str, np.ndarray] = {
        "input_mean_curve": X.mean(axis=0),
        "input_sd_curve": X.std(axis=0, ddof=1),
    }
    if train_targets is not None:
        Y = np.asarray(train_targets, dtype=np.float64)
        if Y.shape[:2] != X.shape[:2]:
            raise ValueError(f"train_targets {Y.shape} and train_inputs {X.shape} disagree")
        reference["target_mean_curve"] = Y.mean(axis=0)
        reference["target_sd_curve"] = Y.std(axis=0, ddof=1)

    flat = X[:, :, channels].reshape(len(X), -1)
    if len(flat) > OOD_MAX_CYCLES:  # a seeded subsample describes the cohort as well, much faster
        flat = flat[np.sort(np.random.default_rng(0).choice(len(flat), OOD_MAX_CYCLES, replace=False))]
    pca = _fit_pca(flat)
    reference.update(pca)
    # The threshold comes from out-of-fold distances: a cycle scored against a PCA fitted
    # without it, as a new patient's cycle will be (in-sample distances are biased low).
    if len(flat) >= 5 * OOD_FOLDS:
        folds = np.random.default_rng(0).permutation(len(flat)) % OOD_FOLDS
        distances = np.empty(len(flat))
        for fold in range(OOD_FOLDS):
            held_out = folds == fold
            distances[held_out] = _pca_distance(flat[held_out], _fit_pca(flat[~held_out]))
    else:
        distances = _pca_distance(flat, pca)
    reference["ood_train_distances"] = distances
    reference["ood_threshold"] = np.array([np.percentile(distances, OOD_PERCENTILE)])
    arrays = {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in reference.items()}
    arrays["ood_channels"] = channels
    return arrays


def _fit_pca(flat: np.ndarray) -> dict[str, np.ndarray]:
    """Centre, first k principal axes and variances, and residual variance of flattened cycles."""
    center = flat.mean(axis=0)
    centred = flat - center
    variances, axes = np.linalg.eigh(centred.T @ centred / (len(flat) - 1))
    variances, axes = np.maximum(variances[::-1], 0.0), axes[:, ::-1]
    explained = np.cumsum(variances) / max(variances.sum(), 1e-12)
    k = int(np.searchsorted(explained, OOD_VARIANCE_KEPT) + 1)
    k = max(1, min(k, OOD_MAX_COMPONENTS, len(flat) - 2))
    floor = flat.shape[1] * OOD_RESIDUAL_FLOOR_DEG**2
    return {
        "ood_center": center,
        "ood_components": axes[:, :k].T,
        "ood_variances": np.maximum(variances[:k], 1e-12),
        "ood_residual_variance": np.array([max(variances[k:].sum(), floor)]),
    }


def _pca_distance(flat: np.ndarray, pca: Mapping[str, np.ndarray]) -> np.ndarray:
    centred = flat - np.asarray(pca["ood_center"], dtype=np.float64)
    components = np.asarray(pca["ood_components"], dtype=np.float64)
    scores = centred @ components.T
    mahalanobis = (scores**2 / np.asarray(pca["ood_variances"], dtype=np.float64)).sum(axis=1)
    residual = ((centred - scores @ components) ** 2).sum(axis=1)
    return np.sqrt(mahalanobis + residual / float(pca["ood_residual_variance"][0]))


def _ood_view(cycles: np.ndarray, reference: Mapping[str, np.ndarray]) -> np.ndarray:
    """The OOD channels of cycles [N, T, D_in] (all channels when the reference predates them)."""
    x = np.asarray(cycles, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"cycles must be [N, T, D]; got shape {x.shape}")
    if "ood_channels" in reference:
        x = x[:, :, np.asarray(reference["ood_channels"], dtype=np.int64)]
    return x


def ood_distance(cycles: np.ndarray, reference: Mapping[str, np.ndarray]) -> np.ndarray:
    """PCA-Mahalanobis + residual distance of each cycle [N, T, D_in] to the training cycles."""
    x = _ood_view(cycles, reference)
    return _pca_distance(x.reshape(len(x), -1), reference)


def ood_outside_fraction(cycles: np.ndarray, reference: Mapping[str, np.ndarray]) -> np.ndarray:
    """Fraction of each cycle's samples beyond ±``OOD_Z_LIMIT`` SD of the training curves."""
    channels = np.asarray(reference.get("ood_channels", np.arange(np.shape(cycles)[2])), dtype=np.int64)
    mean = np.asarray(reference["input_mean_curve"], dtype=np.float64)[:, channels]
    sd = np.maximum(np.asarray(reference["input_sd_curve"], dtype=np.float64)[:, channels], 1e-6)
    z = (_ood_view(cycles, reference) - mean) / sd
    return (np.abs(z) > OOD_Z_LIMIT).mean(axis=(1, 2))


# ---------------------------------------------------------------------- data card
def data_card_from_dataset(dataset: Any, *, description: str | None = None) -> dict[str, Any]:
    """A bundle's data card for a training ``GaitDataset``: content hash, description, simulated flag.

    The hash is SHA-256 over the inputs, targets, column names and units, so two bundles
    trained on the same cycles share it.
    """
    digest = hashlib.sha256()
    for array in (dataset.X, dataset.Y):
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    for names in (dataset.input_columns, dataset.target_columns, dataset.input_units, dataset.target_units):
        digest.update("\x1f".join(names).encode())
    attrs = dict(getattr(dataset, "attrs", {}) or {})
    meta = dataset.meta
    return {
        "sha256": digest.hexdigest(),
        "name": str(attrs.get("name", "")),
        "description": description or str(attrs.get("description", "")),
        "simulated": bool(attrs.get("simulated", False)),
        "n_cycles": len(dataset),
        "n_subjects": int(meta["subject_id"].nunique()),
        "cohorts": sorted({str(c) for c in meta["cohort"] if str(c)}),
        "source_path": str(attrs.get("path", "")),
    }


# ---------------------------------------------------------------------- the bundle
def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vector(values: Any, width: int, name: str) -> list[float]:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.shape != (width,):
        raise ValueError(f"{name} must have one value per channel ({width}); got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return [float(v) for v in array]


def target_kind(target_units: Sequence[str]) -> str:
    """'forces', 'moments' or 'forces+moments' from the target units."""
    kinds = {"moments" if unit.startswith("Nm") else "forces" for unit in target_units}
    return "forces+moments" if len(kinds) == 2 else kinds.pop()


def _architecture_name(model: torch.nn.Module, architecture: str | None) -> str:
    if architecture:
        return architecture
    for candidate in (getattr(model, "architecture", None), getattr(model.config, "name", None)):
        if isinstance(candidate, str) and candidate:
            return candidate
    try:
        from gait2hip.models import available_models, build_model

        for name in available_models():
            probe = build_model(name, **dataclasses.asdict(model.config))
            if type(probe) is type(model):
                return name
    except Exception:  # the registry is optional here; the explicit argument is the fallback
        pass
    raise ValueError("cannot tell the model's architecture name; pass architecture='transformer' (or other)")


def save_bundle(
    path: str | Path,
    *,
    model: torch.nn.Module,
    input_columns: Sequence[str],
    input_units: Sequence[str],
    target_columns: Sequence[str],
    target_units: Sequence[str],
    input_mean: Any,
    input_std: Any,
    target_mean: Any | None = None,
    target_std: Any | None = None,
    seq_len: int | None = None,
    architecture: str | None = None,
    data_card: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    train_inputs: np.ndarray | None = None,
    train_targets: np.ndarray | None = None,
    reference: Mapping[str, np.ndarray] | None = None,
    description: str = "",
    default_for: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model bundle directory (safetensors + JSON, no pickle).

    Parameters
    ----------
    path
        The bundle directory to create (its parents are created; existing files replaced).
    model
        A gait2hip model with a ``config`` dataclass (``build_model(architecture, **config)``
        must rebuild it). Saved as it is; its train/eval mode does not matter.
    input_columns, input_units
        The model's input channels in order and their units ('deg' for angles).
    target_columns, target_units
        The model's output channels in order and their units ('N/kg', 'Nm/kg', 'N' or 'Nm').
    input_mean, input_std
        Per-channel input normalisation used in training: the model saw ``(x - mean) / std``.
    target_mean, target_std
        Per-channel target normalisation, if the model was trained on standardised targets
        (its raw outputs are then ``(y - mean) / std``); None when it predicts targets directly.
    seq_len
        Time points per cycle the model expects (default ``model.config.seq_len``).
    architecture
        Registry name ('lstm', 'transformer', 'mamba', ...); inferred when omitted.
    data_card
        Training data description: see :func:`data_card_from_dataset`.
    metrics
        Test-set metrics (JSON-able), e.g. ``{"rmse": ..., "r2": ..., "units": "N/kg", "protocol": ...}``.
    train_inputs, train_targets
        The training cycles [N, T, D] in the bundle's units: the mean ± SD band and the
        out-of-distribution statistics are fitted from them (:func:`fit_reference`).
    reference
        Precomputed :func:`fit_reference` output (instead of ``train_inputs``).
    description
        One line shown by ``gait2hip models list``.
    default_for
        'forces' or 'moments' when this bundle is the installed default for that target.
    extra
        Anything else JSON-able worth keeping (recipe flags, seed, protocol, ...).

    Returns
    -------
    Path
        The bundle directory.
    """
    path = Path(path)
    config = getattr(model, "config", None)
    if config is None or not dataclasses.is_dataclass(config):
        raise ValueError("model has no `config` dataclass; build it with gait2hip.models.build_model")
    config_dict = dataclasses.asdict(config)
    name = _architecture_name(model, architecture)
    seq_len = int(seq_len if seq_len is not None else config_dict.get("seq_len", 0))
    if seq_len <= 0:
        raise ValueError("seq_len is unknown: pass seq_len= (time points per cycle)")
    input_columns, target_columns = list(map(str, input_columns)), list(map(str, target_columns))
    input_units, target_units = list(map(str, input_units)), list(map(str, target_units))
    if len(input_units) != len(input_columns) or len(target_units) != len(target_columns):
        raise ValueError("give one unit per input column and one per target column")
    if bad := [u for u in input_units if u not in INPUT_UNITS]:
        raise ValueError(f"unknown input units {bad}; use {INPUT_UNITS}")
    if bad := [u for u in target_units if u not in TARGET_UNITS]:
        raise ValueError(f"unknown target units {bad}; use {TARGET_UNITS}")
    if default_for not in (None, "forces", "moments"):
        raise ValueError("default_for must be None, 'forces' or 'moments'")
    if (target_mean is None) != (target_std is None):
        raise ValueError("give both target_mean and target_std, or neither")
    if reference is None and train_inputs is not None:
        angle_channels = [i for i, unit in enumerate(input_units) if unit in ("deg", "rad")]
        reference = fit_reference(
            train_inputs=train_inputs, train_targets=train_targets, ood_channels=angle_channels or None
        )

    if reference is not None:
        widths = {"input_mean_curve": len(input_columns), "target_mean_curve": len(target_columns)}
        for key, width in widths.items():
            if key in reference and (np.shape(reference[key])[-1] != width or len(reference[key]) != seq_len):
                raise ValueError(
                    f"reference {key} has shape {np.shape(reference[key])}; expected [{seq_len}, {width}] "
                    "(train_inputs / train_targets must be [N, seq_len, channels] in column order)"
                )

    normalisation: dict[str, Any] = {
        "input": {
            "mean": _vector(input_mean, len(input_columns), "input_mean"),
            "std": _vector(input_std, len(input_columns), "input_std"),
        },
        "target": None,
    }
    if target_mean is not None:
        normalisation["target"] = {
            "mean": _vector(target_mean, len(target_columns), "target_mean"),
            "std": _vector(target_std, len(target_columns), "target_std"),
        }
    if min(normalisation["input"]["std"]) <= 0 or (
        normalisation["target"] and min(normalisation["target"]["std"]) <= 0
    ):
        raise ValueError("normalisation std must be > 0")

    path.mkdir(parents=True, exist_ok=True)
    _save_model_weights(model, str(path / WEIGHTS_FILE), metadata={"format": "pt", "architecture": name})
    files = {WEIGHTS_FILE: _file_sha256(path / WEIGHTS_FILE)}
    ood: dict[str, Any] | None = None
    if reference is not None:
        tensors = {
            key: np.ascontiguousarray(value, dtype=np.int64 if key == "ood_channels" else np.float32)
            for key, value in reference.items()
        }
        _save_numpy_tensors(tensors, str(path / REFERENCE_FILE))
        files[REFERENCE_FILE] = _file_sha256(path / REFERENCE_FILE)
        if "ood_threshold" in tensors:
            ood = {
                "measure": "pca_mahalanobis_residual",
                "description": (
                    "sqrt(sum_j s_j^2/lambda_j + r^2/rho): Mahalanobis distance of the cycle's angle "
                    "curves (degrees, flattened T x D) in the space of the training cycles' first k "
                    "principal components, plus the off-space residual r^2 over the training mean rho "
                    f"(floored at {OOD_RESIDUAL_FLOOR_DEG:g} deg RMS per sample)"
                ),
                "components": int(tensors["ood_components"].shape[0]),
                "columns": [input_columns[i] for i in tensors.get("ood_channels", range(len(input_columns)))],
                "variance_kept": OOD_VARIANCE_KEPT,
                "threshold": float(tensors["ood_threshold"][0]),
                "threshold_rule": (
                    f"{OOD_PERCENTILE:g}th percentile of the training cycles' out-of-fold distances"
                ),
                "z_limit": OOD_Z_LIMIT,
                "outside_fraction_limit": OOD_OUTSIDE_FRACTION_LIMIT,
                "outside_rule": (
                    f"flag when more than {OOD_OUTSIDE_FRACTION_LIMIT:.0%} of the cycle's samples lie "
                    f"beyond ±{OOD_Z_LIMIT:g} SD of the training mean curve"
                ),
            }
    elif (path / REFERENCE_FILE).exists():
        (path / REFERENCE_FILE).unlink()

    manifest = {
        "format": "gait2hip-bundle",
        "format_version": BUNDLE_FORMAT_VERSION,
        "name": path.name,
        "description": description,
        "architecture": name,
        "config": config_dict,
        "seq_len": seq_len,
        "input_columns": input_columns,
        "input_units": input_units,
        "target_columns": target_columns,
        "target_units": target_units,
        "target_kind": target_kind(target_units),
        "default_for": default_for,
        "normalisation": normalisation,
        "data_card": dict(data_card or {}),
        "metrics": dict(metrics or {}),
        "ood": ood,
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "gait2hip_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": files,
        "extra": dict(extra or {}),
    }
    text = json.dumps(manifest, indent=2, allow_nan=False)
    (path / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
    return path


@dataclass
class Bundle:
    """A loaded bundle: the model in eval mode, its manifest and reference arrays."""

    path: Path
    manifest: dict[str, Any]
    model: torch.nn.Module
    reference: dict[str, np.ndarray] = field(default_factory=dict)

    # ------------------------------------------------------------------ manifest views
    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.name)

    @property
    def architecture(self) -> str:
        return str(self.manifest["architecture"])

    @property
    def seq_len(self) -> int:
        return int(self.manifest["seq_len"])

    @property
    def input_columns(self) -> tuple[str, ...]:
        return tuple(self.manifest["input_columns"])

    @property
    def input_units(self) -> tuple[str, ...]:
        return tuple(self.manifest["input_units"])

    @property
    def target_columns(self) -> tuple[str, ...]:
        return tuple(self.manifest["target_columns"])

    @property
    def target_units(self) -> tuple[str, ...]:
        return tuple(self.manifest["target_units"])

    @property
    def target_kind(self) -> str:
        return str(self.manifest.get("target_kind") or target_kind(self.target_units))

    @property
    def simulated(self) -> bool:
        return bool(self.manifest.get("data_card", {}).get("simulated", False))

    @property
    def has_ood(self) -> bool:
        return bool(self.manifest.get("ood")) and "ood_center" in self.reference

    # ------------------------------------------------------------------ arrays
    def _stats(self, which: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        stats = self.manifest["normalisation"].get(which)
        if not stats:
            return None
        return (
            torch.tensor(stats["mean"], dtype=torch.float32),
            torch.tensor(stats["std"], dtype=torch.float32),
        )

    @torch.inference_mode()
    def predict_normalised(self, inputs: np.ndarray | torch.Tensor) -> np.ndarray:
        """Model outputs in the bundle's target units (per kg) for inputs in its input units.

        Parameters
        ----------
        inputs
            [N, seq_len, D_in] (or [seq_len, D_in]) in ``input_columns`` order and units.

        Returns
        -------
        numpy.ndarray
            [N, seq_len, D_out] float32 in ``target_units`` (e.g. N/kg); the model's input
            z-scoring and any target standardisation are undone here.
        """
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        squeeze = x.ndim == 2
        if squeeze:
            x = x[None]
        if x.ndim != 3 or x.shape[1:] != (self.seq_len, len(self.input_columns)):
            raise ValueError(
                f"inputs must be [N, {self.seq_len}, {len(self.input_columns)}]; got {tuple(x.shape)}"
            )
        mean, std = self._stats("input")  # type: ignore[misc]
        y = self.model((x - mean) / std)
        if (target := self._stats("target")) is not None:
            y = y * target[1] + target[0]
        out = y.numpy().astype(np.float32, copy=False)
        return out[0] if squeeze else out

    def __repr__(self) -> str:
        return (
            f"Bundle({self.name!r}, {self.architecture}, T={self.seq_len}, "
            f"{len(self.input_columns)}→{len(self.target_columns)} "
            f"[{', '.join(sorted(set(self.target_units)))}]"
            f"{', simulated data' if self.simulated else ''})"
        )


# ---------------------------------------------------------------------- finding bundles
def bundle_search_dirs() -> list[Path]:
    """Folders holding installed bundles: GAIT2HIP_BUNDLE_PATH entries, then the shipped ones."""
    dirs = [Path(p) for p in os.environ.get(BUNDLE_PATH_ENV, "").split(os.pathsep) if p]
    dirs.append(INSTALLED_BUNDLES_DIR)
    return dirs


def installed_bundles() -> dict[str, Path]:
    """Installed bundle name → directory (earlier search folders win on a name clash)."""
    found: dict[str, Path] = {}
    for folder in bundle_search_dirs():
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            name = child.stem if _is_archive(child) else child.name
            if name not in found and _read_member(child, MANIFEST_FILE) is not None:
                found[name] = child
    return found


def _is_archive(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".zip"


def _read_member(bundle: Path, filename: str) -> bytes | None:
    """A bundle file's bytes, from a bundle folder or a bundle .zip (root or one sub-folder)."""
    if bundle.is_dir():
        file = bundle / filename
        return file.read_bytes() if file.is_file() else None
    if _is_archive(bundle):
        try:
            with zipfile.ZipFile(bundle) as archive:
                names = [n for n in archive.namelist() if n == filename or n.endswith("/" + filename)]
                return archive.read(min(names, key=len)) if names else None
        except zipfile.BadZipFile:
            return None
    return None


def pack_bundle(folder: str | Path, out: str | Path | None = None) -> Path:
    """Pack a bundle folder into one ``.zip`` archive (loadable like the folder, never unpacked).

    Parameters
    ----------
    folder
        The bundle folder.
    out
        The archive (default: ``<folder>.zip`` beside it).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    out = Path(out) if out is not None else folder.with_suffix(".zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename in (MANIFEST_FILE, *manifest.get("files", {})):
            archive.write(folder / filename, arcname=filename)
    return out


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle (folder or .zip), with a clear error when it is not one."""
    folder = Path(path)
    manifest_path = folder / MANIFEST_FILE
    text = _read_member(folder, MANIFEST_FILE)
    if text is None:
        raise Gait2HipInputError(
            "this is not a gait2hip model bundle (no manifest.json).",
            file=folder,
            fix="pass a bundle folder or .zip, or a name from `gait2hip models list`.",
        )
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Gait2HipInputError(
            f"manifest.json is not valid JSON ({getattr(exc, 'msg', exc)}).", file=manifest_path
        ) from None
    if manifest.get("format") != "gait2hip-bundle":
        raise Gait2HipInputError("manifest.json is not a gait2hip bundle manifest.", file=manifest_path)
    if int(manifest.get("format_version", 0)) > BUNDLE_FORMAT_VERSION:
        raise Gait2HipInputError(
            f"bundle format {manifest['format_version']} is newer than this gait2hip understands "
            f"({BUNDLE_FORMAT_VERSION}).",
            file=manifest_path,
            fix="upgrade gait2hip.",
        )
    return manifest


def default_bundle_names() -> dict[str, str]:
    """Target kind ('forces', 'moments') → the installed default bundle's name."""
    defaults: dict[str, str] = {}
    for name, folder in installed_bundles().items():
        kind = read_manifest(folder).get("default_for")
        if kind and kind not in defaults:
            defaults[kind] = name
    return defaults


def resolve_bundle_paths(spec: str | Path, *, target: str | None = None) -> list[Path]:
    """Bundle directories for a ``--model`` value.

    Parameters
    ----------
    spec
        A bundle directory; an installed bundle's name; 'default' (the default bundle of
        every target kind, or of ``target``); or several of these joined by commas.
    target
        With 'default': 'forces' or 'moments' to pick one; None for all defaults.
    """
    if isinstance(spec, Path) or (os.sep in str(spec) and "," not in str(spec)):
        parts = [str(spec)]
    else:
        parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    if not parts:
        raise Gait2HipInputError("no model given.", fix="use --model default or a bundle name / folder.")
    installed = installed_bundles()
    paths: list[Path] = []
    for part in parts:
        candidate = Path(part).expanduser()
        if candidate.is_dir() or _is_archive(candidate):
            read_manifest(candidate)
            paths.append(candidate.resolve())
        elif part == "default":
            defaults = default_bundle_names()
            kinds = [target] if target else sorted(defaults)
            missing = [k for k in kinds if k not in defaults]
            if not defaults or missing:
                raise Gait2HipInputError(
                    f"no installed default bundle for {missing or 'any target'}.",
                    fix="pass --model PATH/TO/BUNDLE (see `gait2hip models list`).",
                )
            paths.extend(installed[defaults[k]] for k in kinds)
        elif part in installed:
            paths.append(installed[part])
        else:
            known = ", ".join(sorted(installed)) or "none installed"
            raise Gait2HipInputError(
                f"model bundle '{part}' not found (installed: {known}).",
                file=part,
                fix="pass an existing bundle folder or an installed name from `gait2hip models list`.",
            )
    return list(dict.fromkeys(paths))


def load_bundle(path_or_name: str | Path, *, verify: bool = True) -> Bundle:
    """Load a bundle (directory or installed name) — JSON and safetensors only, never pickle.

    Parameters
    ----------
    path_or_name
        A bundle directory, or the name of an installed bundle.
    verify
        Check the tensor files against the SHA-256 recorded in the manifest.

    Returns
    -------
    Bundle
        With the model rebuilt by ``build_model(architecture, **config)``, weights loaded
        strictly, in eval mode.
    """
    paths = resolve_bundle_paths(path_or_name)
    if len(paths) != 1:
        raise Gait2HipInputError(
            f"'{path_or_name}' names {len(paths)} bundles; load_bundle loads one.",
            fix="name one bundle (e.g. transformer-forces-default), or use Predictor for several.",
        )
    folder = paths[0]
    manifest = read_manifest(folder)
    contents: dict[str, bytes] = {}
    for filename, expected in manifest.get("files", {}).items():
        data = _read_member(folder, filename)
        if data is None:
            raise Gait2HipInputError(f"bundle file {filename} is missing.", file=folder)
        if verify and hashlib.sha256(data).hexdigest() != expected:
            raise Gait2HipInputError(
                f"{filename} does not match the SHA-256 in manifest.json (corrupted or modified).",
                file=folder / filename,
                fix="re-download or re-export the bundle.",
            )
        contents[filename] = data
    if WEIGHTS_FILE not in contents:
        raise Gait2HipInputError(f"manifest.json lists no {WEIGHTS_FILE}.", file=folder / MANIFEST_FILE)
    from gait2hip.models import build_model

    try:
        model = build_model(manifest["architecture"], **manifest["config"])
    except Exception as exc:
        raise Gait2HipInputError(
            f"cannot rebuild architecture '{manifest.get('architecture')}' from the manifest ({exc}).",
            file=folder / MANIFEST_FILE,
            fix="use the gait2hip version that wrote the bundle "
            f"({manifest.get('gait2hip_version', 'unknown')}).",
        ) from None
    with tempfile.TemporaryDirectory(prefix="gait2hip-bundle-") as tmp:
        # safetensors' load_model restores tensors shared between parameters; it reads files
        weights = Path(tmp) / WEIGHTS_FILE
        weights.write_bytes(contents[WEIGHTS_FILE])
        missing, unexpected = _load_model_weights(model, str(weights), strict=False)
    if missing or unexpected:
        raise Gait2HipInputError(
            f"weights do not fit the architecture (missing {sorted(missing)[:3]}, "
            f"unexpected {sorted(unexpected)[:3]}).",
            file=folder / WEIGHTS_FILE,
        )
    model.eval()
    reference: dict[str, np.ndarray] = {}
    if REFERENCE_FILE in contents:
        reference = dict(_load_numpy_bytes(contents[REFERENCE_FILE]))
    manifest["name"] = folder.stem if _is_archive(folder) else folder.name
    return Bundle(path=folder, manifest=manifest, model=model, reference=reference)


def describe_bundle(manifest: Mapping[str, Any]) -> dict[str, str]:
    """A one-row summary of a manifest (for listings)."""
    card = manifest.get("data_card") or {}
    metrics = manifest.get("metrics") or {}
    shown = []
    for key in ("r2", "rmse"):
        value = metrics.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            shown.append(f"{key.upper()} {value:.3g}")
    if shown and metrics.get("units"):
        shown.append(str(metrics["units"]))
    default = f" (default {manifest['default_for']})" if manifest.get("default_for") else ""
    return {
        "bundle": str(manifest.get("name", "")) + default,
        "model": f"{manifest.get('architecture', '')}, T={manifest.get('seq_len', '')}",
        "targets": f"{len(manifest.get('target_columns', []))} {manifest.get('target_kind', '')}",
        "trained on": ("SIMULATED: " if card.get("simulated") else "")
        + str(card.get("name") or card.get("description") or "unknown"),
        "test metrics": " ".join(shown) or "-",
    }


def print_installed_bundles(*, console: Any = None) -> None:
    """Print the installed bundles (``gait2hip models list``)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    bundles = installed_bundles()
    if not bundles:
        console.print(
            f"No model bundles installed (looked in: {', '.join(str(d) for d in bundle_search_dirs())}).",
            highlight=False,
        )
        return
    table = Table(title="Installed gait2hip model bundles", title_justify="left")
    manifests = {name: read_manifest(folder) for name, folder in bundles.items()}
    rows = [describe_bundle({**manifest, "name": name}) for name, manifest in manifests.items()]
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*row.values())
    console.print(table)
    for name, folder in bundles.items():
        card = manifests[name].get("data_card") or {}
        origin = "SIMULATED data" if card.get("simulated") else "measured data"
        console.print(f"  {name} — trained on {origin} — {folder}", highlight=False, soft_wrap=True)
    console.print(
        f"Add folders with {BUNDLE_PATH_ENV}=DIR{os.pathsep}DIR; "
        "--model default picks the default bundle per target.",
        highlight=False,
    )
