"""Model bundles: a trained model and everything needed to use it, without pickle.

A bundle is a directory (or the same files in one ``.zip``)::

    <name>/
        manifest.json           what the model is, what it expects, what it was trained on
        weights.safetensors     the model's parameters (safetensors, never a pickle)
        reference.safetensors   the training cohort's curves and out-of-distribution statistics
                                (and the calibrated prediction band, :mod:`gait2hip.models.uncertainty`)
        member<k>.safetensors   further ensemble members (optional; same architecture and
                                normalisation, listed in the manifest's ``members``)

``manifest.json`` holds the format version, the architecture name and its full config
(rebuilt with ``build_model(name, **config)``), the input and target columns with their
units (targets trained per kg of body mass: N/kg, Nm/kg), the input and target
normalisation, ``seq_len`` (the number of time points per cycle the model expects), the
training data card (:mod:`gait2hip.models.datacard`), test-set metrics, the gait2hip
version, the creation time, SHA-256 of both tensor files, and the out-of-distribution
measure with its threshold (:mod:`gait2hip.models.ood`), and, when calibrated, the
``uncertainty`` record (:func:`gait2hip.models.uncertainty.uncertainty_record`). A bundle
without ``members`` has one member (``weights.safetensors``); one without a band predicts
without one — both load as before.

Loading reads JSON and safetensors only: nothing is unpickled, and no file outside the
bundle is read (:mod:`gait2hip.models.manifest`), so a bundle from an untrusted source cannot
execute code or reach other files. Installed bundles are found by
:mod:`gait2hip.models.discovery`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import tempfile
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
from gait2hip.models.discovery import resolve_bundle_paths
from gait2hip.models.manifest import (
    MANIFEST_FILE,
    REFERENCE_FILE,
    WEIGHTS_FILE,
    file_sha256,
    is_archive,
    read_manifest,
    read_member,
)
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


@dataclass
class Bundle:
    """A loaded bundle: the model in eval mode, its manifest and reference arrays."""

    path: Path
    manifest: dict[str, Any]
    model: torch.nn.Module
    reference: dict[str, np.ndarray] = field(default_factory=dict)
    members: list[torch.nn.Module] = field(default_factory=list)
    """Further ensemble members beside ``model`` (empty for a one-member bundle)."""

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

    @property
    def ensemble(self) -> list[torch.nn.Module]:
        """Every member: ``model`` first."""
        return [self.model, *self.members]

    @property
    def has_band(self) -> bool:
        """True when the bundle carries a calibrated prediction band."""
        return bool(self.manifest.get("uncertainty")) and all(k in self.reference for k in BAND_KEYS)

    @property
    def band(self) -> dict[str, np.ndarray]:
        """The band arrays (:mod:`gait2hip.models.uncertainty`); empty without a band."""
        return {k: self.reference[k] for k in BAND_KEYS} if self.has_band else {}

    # ------------------------------------------------------------------ arrays
    def _stats(self, which: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        stats = self.manifest["normalisation"].get(which)
        if not stats:
            return None
        return (
            torch.tensor(stats["mean"], dtype=torch.float32),
            torch.tensor(stats["std"], dtype=torch.float32),
        )

    def predict_normalised(self, inputs: np.ndarray | torch.Tensor) -> np.ndarray:
        """Model outputs in the bundle's target units (per kg) for inputs in its input units.

        The ensemble mean for a bundle with several members (:meth:`predict_members`).

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
        members = self.predict_members(inputs)
        return members[0] if len(members) == 1 else members.mean(axis=0).astype(np.float32)

    @torch.inference_mode()
    def predict_members(self, inputs: np.ndarray | torch.Tensor) -> np.ndarray:
        """Every member's outputs [M, N, seq_len, D_out] (or [M, seq_len, D_out]), as
        :meth:`predict_normalised` computes them for one member."""
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
        squeeze = x.ndim == 2
        if squeeze:
            x = x[None]
        if x.ndim != 3 or x.shape[1:] != (self.seq_len, len(self.input_columns)):
            raise ValueError(
                f"inputs must be [N, {self.seq_len}, {len(self.input_columns)}]; got {tuple(x.shape)}"
            )
        mean, std = self._stats("input")  # type: ignore[misc]
        target = self._stats("target")
        offsets = self.reference.get("output_offset")  # [M, T, D]: a fine-tuned head's time-varying bias
        outputs = []
        for m, model in enumerate(self.ensemble):
            y = model((x - mean) / std)
            if target is not None:
                y = y * target[1] + target[0]
            if offsets is not None:
                y = y + torch.as_tensor(offsets[m])
            outputs.append(y.numpy().astype(np.float32, copy=False))
        out = np.stack(outputs)
        return out[:, 0] if squeeze else out

    def __repr__(self) -> str:
        return (
            f"Bundle({self.name!r}, {self.architecture}, T={self.seq_len}, "
            f"{len(self.input_columns)}→{len(self.target_columns)} "
            f"[{', '.join(sorted(set(self.target_units)))}]"
            f"{f', {len(self.ensemble)} members' if self.members else ''}"
            f"{', band' if self.has_band else ''}"
            f"{', simulated data' if self.simulated else ''})"
        )


def load_bundle(
    path_or_name: str | Path, *, verify: bool = True, search_dirs: Sequence[Path] | None = None
) -> Bundle:
    """Load a bundle (directory or installed name) — JSON and safetensors only, never pickle.

    Parameters
    ----------
    path_or_name
        A bundle directory, or the name of an installed bundle.
    verify
        Check the tensor files against the SHA-256 recorded in the manifest.
    search_dirs
        Folders holding installed bundles, for a name (default: the shipped bundles).

    Returns
    -------
    Bundle
        With the model rebuilt by ``build_model(architecture, **config)``, weights loaded
        strictly, in eval mode.
    """
    paths = resolve_bundle_paths(path_or_name, search_dirs=search_dirs)
    if len(paths) != 1:
        raise Gait2HipInputError(
            f"'{path_or_name}' names {len(paths)} bundles; load_bundle loads one.",
            fix="name one bundle (e.g. transformer-joint-default), or use Predictor for several.",
        )
    folder = paths[0]
    manifest = read_manifest(folder)
    contents: dict[str, bytes] = {}
    for filename, expected in manifest.get("files", {}).items():
        data = read_member(folder, filename)
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
        try:
            missing, unexpected = _load_model_weights(model, str(weights), strict=False)
        except (RuntimeError, ValueError) as exc:  # e.g. "size mismatch": config and weights disagree
            first = next(
                (line.strip() for line in str(exc).splitlines() if "mismatch" in line), str(exc)[:200]
            )
            raise Gait2HipInputError(
                f"the weights do not fit the architecture in manifest.json's config ({first}).",
                file=folder / WEIGHTS_FILE,
                column="config",
                fix="the manifest or the weights were edited or come from different bundles: reinstall the "
                "bundle (or export it again with gait2hip export).",
            ) from None
    if missing or unexpected:
        raise Gait2HipInputError(
            f"weights do not fit the architecture (missing {sorted(missing)[:3]}, "
            f"unexpected {sorted(unexpected)[:3]}).",
            file=folder / WEIGHTS_FILE,
        )
    model.eval()
    members = [_load_member(manifest, contents, name, folder) for name in manifest.get("members", [])[1:]]
    reference: dict[str, np.ndarray] = {}
    if REFERENCE_FILE in contents:
        reference = dict(_load_numpy_bytes(contents[REFERENCE_FILE]))
    manifest["name"] = folder.stem if is_archive(folder) else folder.name
    return Bundle(path=folder, manifest=manifest, model=model, reference=reference, members=members)


def _load_member(
    manifest: dict[str, Any], contents: dict[str, bytes], name: str, folder: Path
) -> torch.nn.Module:
    """One further ensemble member, rebuilt like the first and loaded strictly."""
    from gait2hip.models import build_model

    if name not in contents:
        raise Gait2HipInputError(f"ensemble member {name} is not in the manifest's files.", file=folder)
    model = build_model(manifest["architecture"], **manifest["config"])
    with tempfile.TemporaryDirectory(prefix="gait2hip-bundle-") as tmp:
        weights = Path(tmp) / "member.safetensors"
        weights.write_bytes(contents[name])
        missing, unexpected = _load_model_weights(model, str(weights), strict=False)
    if missing or unexpected:
        raise Gait2HipInputError(f"ensemble member {name} does not fit the architecture.", file=folder / name)
    return model.eval()
