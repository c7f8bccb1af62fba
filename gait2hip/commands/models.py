"""``gait2hip models list``: the installed model bundles as a table."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gait2hip.commands.env import env_paths
from gait2hip.models.discovery import BUNDLE_PATH_ENV, bundle_search_dirs, installed_bundles
from gait2hip.models.manifest import read_manifest


def search_dirs() -> list[Path]:
    """Folders holding installed bundles: ``GAIT2HIP_BUNDLE_PATH``'s folders, then the shipped ones."""
    return bundle_search_dirs(env_paths(BUNDLE_PATH_ENV))


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


def list_command(*, console: Console) -> None:
    """Print the installed bundles (``gait2hip models list``)."""
    folders = search_dirs()
    bundles = installed_bundles(folders)
    if not bundles:
        console.print(
            f"No model bundles installed (looked in: {', '.join(str(d) for d in folders)}).",
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
