"""NPZ files: a safe reader (no pickle unless the caller vouches for the file) and an atomic writer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gait2hip.errors import Gait2HipInputError


def read_npz(path: str | Path, *, allow_object_arrays: bool = False) -> dict[str, np.ndarray]:
    """Every array of an NPZ file, read into memory.

    Parameters
    ----------
    path
        The ``.npz`` file.
    allow_object_arrays
        Arrays stored with numpy's ``object`` dtype are pickles, and unpickling can run
        code. False (default) refuses them with a clear error; True reads them with
        ``allow_pickle=True``, only for files from a trusted source (the published
        Gait2Hip-60 release stores its string arrays this way in some versions). Plain
        arrays are always read without pickle.

    Raises
    ------
    Gait2HipInputError
        Missing or unreadable file; an object array when not allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError:
                    if not allow_object_arrays:
                        raise Gait2HipInputError(
                            "the array is stored as pickled Python objects, which gait2hip does not load "
                            "from untrusted files.",
                            file=path,
                            column=key,
                            fix="re-save it as a plain numpy array (e.g. strings as dtype str).",
                        ) from None
                    with np.load(path, allow_pickle=True) as trusted:
                        arrays[key] = trusted[key]
    except Gait2HipInputError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise Gait2HipInputError(f"not a readable NPZ file ({exc}).", file=path) from None
    return arrays


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = True) -> Path:
    """Write arrays to ``path`` atomically (a killed write never leaves a half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    (np.savez_compressed if compress else np.savez)(tmp, **dict(arrays))
    tmp.replace(path)
    return path
