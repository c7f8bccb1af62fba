"""Where the read-only shared inputs (models, example trials, references) live.

gait2hip never copies these files; it reads them through an explicit path or the
``GAIT2HIP_SHARED`` environment variable, falling back to ``../shared`` beside the
repository checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

from gait2hip.errors import Gait2HipInputError

_REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"


def shared_dir(*, path: str | Path | None = None, required: bool = False) -> Path | None:
    """Return the shared-inputs folder, or None when it cannot be found.

    Parameters
    ----------
    path
        Explicit folder; wins over the environment and must exist (an explicit path that is
        not a folder is an error naming it, never a silent fall-back to another folder).
    required
        Raise a clear error instead of returning None when no folder is found.

    Raises
    ------
    Gait2HipInputError
        ``path`` is given but is not a folder; or ``required`` and no folder was found.
    """
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_dir():
            raise Gait2HipInputError(
                "the shared inputs folder given does not exist (or is not a folder).",
                file=explicit,
                fix="pass the folder holding models/, opensim-examples/ and reference/ (--shared DIR).",
            )
        return explicit.resolve()
    candidates: list[Path] = []
    if os.environ.get("GAIT2HIP_SHARED"):
        candidates.append(Path(os.environ["GAIT2HIP_SHARED"]))
    candidates.append(_REPO_ROOT.parent / "shared")
    candidates.append(Path.cwd().parent / "shared")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    if required:
        raise Gait2HipInputError(
            "the shared inputs folder (models, opensim-examples, reference) was not found.",
            file=candidates[0],
            fix="pass its path with --shared or set GAIT2HIP_SHARED=/path/to/shared.",
        )
    return None


def shared_file(relative: str, *, path: str | Path | None = None) -> Path:
    """Return a file inside the shared folder, with a clear error when it is absent."""
    root = shared_dir(path=path, required=True)
    assert root is not None
    target = root / relative
    if not target.exists():
        raise Gait2HipInputError(
            f"expected shared input '{relative}' is missing.",
            file=target,
            fix="check GAIT2HIP_SHARED points at the complete shared folder.",
        )
    return target


def default_model_path(*, path: str | Path | None = None) -> Path:
    """The generic Rajagopal2016 model from the shared folder."""
    return shared_file("models/Rajagopal2016.osim", path=path)
