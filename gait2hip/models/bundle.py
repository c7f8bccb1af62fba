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

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load as _load_numpy_bytes
from safetensors.torch import load_model as _load_model_weights

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle_spec import BundleSpec, save_bundle, target_kind
from gait2hip.models.discovery import resolve_bundle_paths
from gait2hip.models.manifest import (
    MANIFEST_FILE,
    REFERENCE_FILE,
    WEIGHTS_FILE,
    is_archive,
    read_manifest,
    read_member,
)
from gait2hip.models.uncertainty import BAND_KEYS

#: ``BundleSpec`` and ``save_bundle`` live in :mod:`gait2hip.models.bundle_spec`; importable from here too.
__all__ = ["Bundle", "BundleSpec", "load_bundle", "save_bundle", "target_kind"]


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
    contents = _read_files(folder, manifest, verify=verify)
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
    try:
        missing, unexpected = _load_weights(model, contents[WEIGHTS_FILE])
    except (RuntimeError, ValueError) as exc:  # e.g. "size mismatch": config and weights disagree
        first = next((line.strip() for line in str(exc).splitlines() if "mismatch" in line), str(exc)[:200])
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
    missing, unexpected = _load_weights(model, contents[name])
    if missing or unexpected:
        raise Gait2HipInputError(f"ensemble member {name} does not fit the architecture.", file=folder / name)
    return model.eval()


def _read_files(folder: Path, manifest: dict[str, Any], *, verify: bool) -> dict[str, bytes]:
    """The bytes of every file the manifest lists, checked against its SHA-256 (``verify``)."""
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
    return contents


def _load_weights(model: torch.nn.Module, data: bytes) -> tuple[list[str], list[str]]:
    """Load safetensors ``data`` into ``model`` (not strictly); the missing and unexpected keys.

    safetensors' ``load_model`` restores tensors shared between parameters; it reads files.
    """
    with tempfile.TemporaryDirectory(prefix="gait2hip-bundle-") as tmp:
        weights = Path(tmp) / WEIGHTS_FILE
        weights.write_bytes(data)
        return _load_model_weights(model, str(weights), strict=False)
