"""Rewriting bundles: several seeds into one ensemble bundle, a calibrated band into a bundle.

Both rebuild a :class:`~gait2hip.models.bundle.BundleSpec` from a loaded bundle
(:func:`spec_from_bundle`) and write it with :func:`~gait2hip.models.bundle.save_bundle`, so the
result is an ordinary bundle (hashes, manifest) that older code loads as its first member.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import Bundle, BundleSpec, save_bundle
from gait2hip.models.uncertainty import BAND_KEYS


def spec_from_bundle(bundle: Bundle, **changes: Any) -> BundleSpec:
    """A :class:`BundleSpec` that writes ``bundle`` again (``changes`` replace its fields)."""
    manifest = bundle.manifest
    norm = manifest["normalisation"]
    target = norm.get("target") or {}
    reference = {k: v for k, v in bundle.reference.items() if k not in BAND_KEYS} or None
    spec = BundleSpec(
        model=bundle.model,
        members=list(bundle.members),
        input_columns=bundle.input_columns,
        input_units=bundle.input_units,
        target_columns=bundle.target_columns,
        target_units=bundle.target_units,
        input_mean=norm["input"]["mean"],
        input_std=norm["input"]["std"],
        target_mean=target.get("mean"),
        target_std=target.get("std"),
        seq_len=bundle.seq_len,
        architecture=bundle.architecture,
        data_card=manifest.get("data_card"),
        metrics=manifest.get("metrics"),
        reference=reference,
        description=str(manifest.get("description", "")),
        default_for=manifest.get("default_for"),
        extra=manifest.get("extra"),
        band=bundle.band or None,
        uncertainty=manifest.get("uncertainty"),
        parent=manifest.get("parent"),
    )
    return dataclasses.replace(spec, **changes)


def combine_members(bundles: Sequence[Bundle], out: str | Path, **changes: Any) -> Path:
    """One ensemble bundle from bundles trained alike with other seeds (the first one's manifest).

    Raises
    ------
    Gait2HipInputError
        When the bundles differ in architecture, config, columns or normalisation.
    """
    first = bundles[0]
    keys = ("architecture", "config", "input_columns", "target_columns", "target_units", "normalisation")
    for other in bundles[1:]:
        for key in keys:
            if other.manifest.get(key) != first.manifest.get(key):
                raise Gait2HipInputError(
                    f"bundle {other.name} differs from {first.name} in '{key}'; ensemble members must "
                    "share architecture, columns and normalisation.",
                    file=other.path,
                )
    members = [m for b in bundles for m in b.ensemble][1:]
    seeds = [b.manifest.get("extra", {}).get("seed") for b in bundles]
    extra = {**dict(first.manifest.get("extra") or {}), "member_seeds": seeds}
    spec = spec_from_bundle(first, members=members, extra=extra, band=None, uncertainty=None)
    return save_bundle(out, dataclasses.replace(spec, **changes))


def with_band(
    bundle: Bundle, out: str | Path, *, band: Mapping[str, np.ndarray], uncertainty: Mapping[str, Any]
) -> Path:
    """Write ``bundle`` with a calibrated band (to ``out``; may be its own folder)."""
    return save_bundle(out, spec_from_bundle(bundle, band=dict(band), uncertainty=dict(uncertainty)))
