"""Output folders and files: checked before any work starts, so a bad path is one clear message.

A command that writes results calls :func:`prepare_output_dir` (a folder) or
:func:`check_output_file` (one file) first: a path that is a file where a folder is needed,
a folder without write permission, or a non-empty folder from an earlier run (whose stale
files would mix with the new ones) is refused with :class:`gait2hip.errors.Gait2HipInputError`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gait2hip.errors import Gait2HipInputError


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(".")


def check_writable_dir(path: str | Path, *, create: bool = False) -> Path:
    """``path`` as a folder we may write into (made when ``create``); refused with the reason otherwise.

    Without ``create`` nothing is made: only the nearest existing parent is checked, so a
    command can validate its output before validating its inputs and creating anything.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise Gait2HipInputError(
            "the output path is a file, not a folder.",
            file=path,
            fix="give a folder for --out (a new or empty one), or remove the file.",
        )
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise Gait2HipInputError(
                f"the output folder cannot be made: {parent} is a file.", file=path, fix="give another --out."
            )
    target = path if path.exists() else _nearest_existing(path)
    if not os.access(target, os.W_OK | os.X_OK):
        raise Gait2HipInputError(
            f"no permission to write in {target}.", file=path, fix="give a --out folder you can write to."
        )
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            raise Gait2HipInputError(
                f"cannot write into the output folder ({exc.strerror or exc}).",
                file=path,
                fix="give a --out folder you can write to (check permissions and free space).",
            ) from None
    return path


def prepare_output_dir(
    path: str | Path, *, overwrite: bool, ours: Iterable[str] = (), create: bool = True
) -> Path:
    """Check an output folder: writable, and empty unless ``overwrite``.

    Parameters
    ----------
    path
        The folder.
    overwrite
        Allow a non-empty folder; its files named by ``ours`` (glob patterns, searched
        recursively) are removed first so no stale result survives a rerun.
    ours
        Glob patterns of the files the command writes (e.g. ``'*.sto'``).
    create
        Make the folder now (else only check that it could be made).
    """
    path = check_writable_dir(path, create=False)
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise Gait2HipInputError(
                "the output folder is not empty (files of an earlier run would mix with the new ones).",
                file=path,
                fix="give a new --out folder, or add --overwrite to replace gait2hip's earlier outputs "
                "there.",
            )
        for pattern in ours:
            for stale in path.rglob(pattern):
                if stale.is_file():
                    stale.unlink()
    return check_writable_dir(path, create=create) if create else path


def check_output_file(path: str | Path) -> Path:
    """``path`` as a file we may write: not a folder, in a folder we can write (made if missing)."""
    path = Path(path)
    if path.is_dir():
        raise Gait2HipInputError(
            "the output path is a folder, not a file.",
            file=path,
            fix="give a file name, e.g. --out model.onnx.",
        )
    check_writable_dir(path.parent, create=True)
    if path.exists() and not os.access(path, os.W_OK):
        raise Gait2HipInputError(
            "the output file exists and cannot be overwritten.", file=path, fix="give another --out."
        )
    return path
