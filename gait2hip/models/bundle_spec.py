"""What a model bundle records (:class:`BundleSpec`) and writing it (:func:`save_bundle`).

The format is described in :mod:`gait2hip.models.bundle`, which loads bundles and re-exports
both names (``from gait2hip.models.bundle import BundleSpec, save_bundle``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import save_file as _save_numpy_tensors
from safetensors.torch import save_model as _save_model_weights

from gait2hip import __version__
from gait2hip.models.manifest import MANIFEST_FILE, REFERENCE_FILE, WEIGHTS_FILE, file_sha256
from gait2hip.models.ood import fit_reference, ood_manifest_entry
from gait2hip.models.uncertainty import BAND_KEYS

INPUT_UNITS = ("deg", "rad", "s", "kg", "m", "1")
TARGET_UNITS = ("N", "N/kg", "Nm", "Nm/kg")


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


@dataclass
class BundleSpec:
    """Everything a bundle records about a trained model (what :func:`save_bundle` writes).

    Parameters
    ----------
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
        Training data description: see :func:`gait2hip.models.datacard.data_card_from_dataset`.
    metrics
        Test-set metrics (JSON-able), e.g. ``{"rmse": ..., "r2": ..., "units": "N/kg", "protocol": ...}``.
    train_inputs, train_targets
        The training cycles [N, T, D] in the bundle's units: the mean ± SD band and the
        out-of-distribution statistics are fitted from them (:func:`gait2hip.models.ood.fit_reference`).
    train_groups
        The subject of each training cycle: the OOD threshold then comes from subject-wise
        out-of-fold distances (recommended; see :func:`~gait2hip.models.ood.fit_reference`).
    reference
        Precomputed :func:`gait2hip.models.ood.fit_reference` output (instead of ``train_inputs``).
    description
        One line shown by ``gait2hip models list``.
    default_for
        'forces' or 'moments' when this bundle is the installed default for that target;
        'forces+moments' for a joint model that is the default for both.
    extra
        Anything else JSON-able worth keeping (recipe flags, seed, protocol, ...).
    members
        Further ensemble members beside ``model`` (same architecture, config and normalisation).
    band, uncertainty
        The calibrated band arrays (:func:`gait2hip.models.uncertainty.fit_band`) and the
        manifest's ``uncertainty`` record; give both or neither.
    parent
        For a fine-tuned bundle: what it was adapted from (name, SHA-256 of its weights, ...).

    Raises
    ------
    ValueError
        At construction: units not one per column or unknown, ``default_for`` unknown,
        only one of ``target_mean`` / ``target_std``.
    """

    model: torch.nn.Module
    input_columns: Sequence[str]
    input_units: Sequence[str]
    target_columns: Sequence[str]
    target_units: Sequence[str]
    input_mean: Any
    input_std: Any
    target_mean: Any | None = None
    target_std: Any | None = None
    seq_len: int | None = None
    architecture: str | None = None
    data_card: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] | None = None
    train_inputs: np.ndarray | None = None
    train_targets: np.ndarray | None = None
    train_groups: Sequence[str] | None = None
    reference: Mapping[str, np.ndarray] | None = None
    description: str = ""
    default_for: str | None = None
    extra: Mapping[str, Any] | None = None
    members: Sequence[torch.nn.Module] = ()
    band: Mapping[str, np.ndarray] | None = None
    uncertainty: Mapping[str, Any] | None = None
    parent: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        self.input_columns = [str(c) for c in self.input_columns]
        self.target_columns = [str(c) for c in self.target_columns]
        self.input_units = [str(u) for u in self.input_units]
        self.target_units = [str(u) for u in self.target_units]
        n_in, n_out = len(self.input_columns), len(self.target_columns)
        if len(self.input_units) != n_in or len(self.target_units) != n_out:
            raise ValueError("give one unit per input column and one per target column")
        if bad := [u for u in self.input_units if u not in INPUT_UNITS]:
            raise ValueError(f"unknown input units {bad}; use {INPUT_UNITS}")
        if bad := [u for u in self.target_units if u not in TARGET_UNITS]:
            raise ValueError(f"unknown target units {bad}; use {TARGET_UNITS}")
        if self.default_for not in (None, "forces", "moments", "forces+moments"):
            raise ValueError("default_for must be None, 'forces', 'moments' or 'forces+moments' (joint)")
        if (self.target_mean is None) != (self.target_std is None):
            raise ValueError("give both target_mean and target_std, or neither")
        config = getattr(self.model, "config", None)
        if config is None or not dataclasses.is_dataclass(config):
            raise ValueError("model has no `config` dataclass; build it with gait2hip.models.build_model")
        for member in self.members:
            if type(member) is not type(self.model) or member.config != config:
                raise ValueError("every ensemble member must have the model's architecture and config")
        if (self.band is None) != (self.uncertainty is None):
            raise ValueError("give both band and uncertainty, or neither")


def _normalisation(spec: BundleSpec) -> dict[str, Any]:
    n_in, n_out = len(spec.input_columns), len(spec.target_columns)
    normalisation: dict[str, Any] = {
        "input": {
            "mean": _vector(spec.input_mean, n_in, "input_mean"),
            "std": _vector(spec.input_std, n_in, "input_std"),
        },
        "target": None,
    }
    if spec.target_mean is not None:
        normalisation["target"] = {
            "mean": _vector(spec.target_mean, n_out, "target_mean"),
            "std": _vector(spec.target_std, n_out, "target_std"),
        }
    if min(normalisation["input"]["std"]) <= 0 or (
        normalisation["target"] and min(normalisation["target"]["std"]) <= 0
    ):
        raise ValueError("normalisation std must be > 0")
    return normalisation


def _reference(spec: BundleSpec, seq_len: int) -> Mapping[str, np.ndarray] | None:
    """The spec's OOD reference: given, fitted from its training cycles, or None; shapes checked."""
    reference = spec.reference
    if reference is None and spec.train_inputs is not None:
        angle_channels = [i for i, unit in enumerate(spec.input_units) if unit in ("deg", "rad")]
        reference = fit_reference(
            train_inputs=spec.train_inputs,
            train_targets=spec.train_targets,
            ood_channels=angle_channels or None,
            groups=spec.train_groups,
        )
    if reference is not None:
        widths = {"input_mean_curve": len(spec.input_columns), "target_mean_curve": len(spec.target_columns)}
        for key, width in widths.items():
            if key in reference and (np.shape(reference[key])[-1] != width or len(reference[key]) != seq_len):
                raise ValueError(
                    f"reference {key} has shape {np.shape(reference[key])}; expected [{seq_len}, {width}] "
                    "(train_inputs / train_targets must be [N, seq_len, channels] in column order)"
                )
    return reference


def save_bundle(path: str | Path, spec: BundleSpec) -> Path:
    """Write a model bundle directory (safetensors + JSON, no pickle).

    Parameters
    ----------
    path
        The bundle directory to create (its parents are created; existing files replaced).
    spec
        The model and what to record about it (see :class:`BundleSpec`).

    Returns
    -------
    Path
        The bundle directory.
    """
    path = Path(path)
    config_dict = dataclasses.asdict(spec.model.config)
    name = _architecture_name(spec.model, spec.architecture)
    seq_len = int(spec.seq_len if spec.seq_len is not None else config_dict.get("seq_len", 0))
    if seq_len <= 0:
        raise ValueError("seq_len is unknown: pass seq_len= (time points per cycle)")
    reference = _reference(spec, seq_len)
    if spec.band is not None:
        reference = {**(reference or {}), **{k: np.asarray(spec.band[k]) for k in BAND_KEYS}}
    normalisation = _normalisation(spec)

    path.mkdir(parents=True, exist_ok=True)
    files, members, ood = _write_tensors(path, spec, name, reference)

    manifest = {
        "format": "gait2hip-bundle",
        "format_version": 2 if reference is not None and "output_offset" in reference else 1,
        "name": path.name,
        "description": spec.description,
        "architecture": name,
        "config": config_dict,
        "seq_len": seq_len,
        "input_columns": spec.input_columns,
        "input_units": spec.input_units,
        "target_columns": spec.target_columns,
        "target_units": spec.target_units,
        "target_kind": target_kind(spec.target_units),
        "default_for": spec.default_for,
        "normalisation": normalisation,
        "data_card": dict(spec.data_card or {}),
        "metrics": dict(spec.metrics or {}),
        "ood": ood,
        "n_parameters": int(sum(p.numel() for p in spec.model.parameters())),
        "gait2hip_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": files,
        "extra": dict(spec.extra or {}),
    }
    if len(members) > 1:
        manifest["members"] = members
    if spec.uncertainty is not None:
        manifest["uncertainty"] = dict(spec.uncertainty)
    if spec.parent is not None:
        manifest["parent"] = dict(spec.parent)
    text = json.dumps(manifest, indent=2, allow_nan=False)
    (path / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
    return path


def _write_tensors(
    path: Path, spec: BundleSpec, name: str, reference: Mapping[str, np.ndarray] | None
) -> tuple[dict[str, str], list[str], dict[str, Any] | None]:
    """Write the weights of every member and the reference arrays into ``path`` (removing stale
    ones); their SHA-256 by file name, the member files and the manifest's ``ood`` entry."""
    _save_model_weights(spec.model, str(path / WEIGHTS_FILE), metadata={"format": "pt", "architecture": name})
    files = {WEIGHTS_FILE: file_sha256(path / WEIGHTS_FILE)}
    for stale in path.glob("member*.safetensors"):
        stale.unlink()
    members = [WEIGHTS_FILE]
    for k, member in enumerate(spec.members, start=1):
        members.append(f"member{k}.safetensors")
        _save_model_weights(member, str(path / members[-1]), metadata={"format": "pt", "architecture": name})
        files[members[-1]] = file_sha256(path / members[-1])
    ood: dict[str, Any] | None = None
    if reference is not None:
        tensors = {
            key: np.ascontiguousarray(value, dtype=np.int64 if key == "ood_channels" else np.float32)
            for key, value in reference.items()
        }
        _save_numpy_tensors(tensors, str(path / REFERENCE_FILE))
        files[REFERENCE_FILE] = file_sha256(path / REFERENCE_FILE)
        if "ood_threshold" in tensors:
            ood = ood_manifest_entry(tensors, spec.input_columns)
    elif (path / REFERENCE_FILE).exists():
        (path / REFERENCE_FILE).unlink()
    return files, members, ood
