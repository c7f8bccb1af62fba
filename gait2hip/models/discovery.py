"""Finding bundles: installed folders, names, and what a ``--model`` value points at.

The library searches the folders it is given, then the shipped bundles; it reads no
environment variable. The command line adds the folders of ``GAIT2HIP_BUNDLE_PATH``
(:func:`gait2hip.commands.models.search_dirs`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.manifest import MANIFEST_FILE, is_archive, read_manifest, read_member
from gait2hip.paths import RESOURCES

#: Shipped bundles live here; on the command line GAIT2HIP_BUNDLE_PATH (os.pathsep-separated) adds folders.
INSTALLED_BUNDLES_DIR = RESOURCES / "bundles"
BUNDLE_PATH_ENV = "GAIT2HIP_BUNDLE_PATH"


def bundle_search_dirs(extra: Sequence[str | Path] = ()) -> list[Path]:
    """Folders holding installed bundles: ``extra`` (searched first), then the shipped ones."""
    return [*(Path(p) for p in extra), INSTALLED_BUNDLES_DIR]


def installed_bundles(search_dirs: Sequence[Path] | None = None) -> dict[str, Path]:
    """Installed bundle name → directory (earlier search folders win on a name clash).

    Parameters
    ----------
    search_dirs
        Folders to search (default: :func:`bundle_search_dirs`, the shipped bundles).
    """
    found: dict[str, Path] = {}
    for folder in bundle_search_dirs() if search_dirs is None else search_dirs:
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            name = child.stem if is_archive(child) else child.name
            if name not in found and read_member(child, MANIFEST_FILE) is not None:
                found[name] = child
    return found


def default_bundle_names(search_dirs: Sequence[Path] | None = None) -> dict[str, str]:
    """Target kind ('forces', 'moments') → the installed default bundle's name."""
    defaults: dict[str, str] = {}
    for name, folder in installed_bundles(search_dirs).items():
        kind = read_manifest(folder).get("default_for")
        for one in (kind or "").split("+"):  # 'forces+moments': a joint model, default for both
            if one and one not in defaults:
                defaults[one] = name
    return defaults


def resolve_bundle_paths(
    spec: str | Path, *, target: str | None = None, search_dirs: Sequence[Path] | None = None
) -> list[Path]:
    """Bundle directories for a ``--model`` value.

    Parameters
    ----------
    spec
        A bundle directory; an installed bundle's name; 'default' (the default bundle of
        every target kind, or of ``target``); or several of these joined by commas.
    target
        With 'default': 'forces' or 'moments' to pick one; None for all defaults.
    search_dirs
        Folders holding installed bundles (default: :func:`bundle_search_dirs`).
    """
    if isinstance(spec, Path) or (os.sep in str(spec) and "," not in str(spec)):
        parts = [str(spec)]
    else:
        parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    if not parts:
        raise Gait2HipInputError("no model given.", fix="use --model default or a bundle name / folder.")
    installed = installed_bundles(search_dirs)
    paths: list[Path] = []
    for part in parts:
        candidate = Path(part).expanduser()
        if candidate.is_dir() or is_archive(candidate):
            read_manifest(candidate)
            paths.append(candidate.resolve())
        elif part == "default":
            defaults = default_bundle_names(search_dirs)
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
