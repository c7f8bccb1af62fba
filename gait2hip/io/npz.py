"""NPZ files: a safe reader (no pickle unless the caller vouches for the file), a pickle-free
converter for string arrays stored as objects, and an atomic writer."""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gait2hip.errors import Gait2HipInputError

#: The only globals a pickled numpy array of strings needs: numpy's private array and scalar
#: rebuilders (named ``numpy.core.multiarray`` by numpy 1, ``numpy._core.multiarray`` by numpy 2),
#: ``ndarray`` and ``dtype``. None of them calls user code.
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]
_SCALAR = np.float64(0).__reduce__()[0]
_SAFE_GLOBALS = {
    **{
        (module, name): function
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name, function in (("_reconstruct", _RECONSTRUCT), ("scalar", _SCALAR))
    },
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class PickleRiskWarning(UserWarning):
    """An NPZ array was unpickled because the caller passed ``trust_pickle=True``."""


def convert_command(path: str | Path) -> str:
    """The one-line command that re-saves ``path``'s string arrays as unicode, without pickle."""
    path = Path(path)
    out = path.with_name(f"{path.stem}_unicode.npz")
    return f"python -c \"from gait2hip.io.npz import resave_strings_as_unicode as f; f('{path}', '{out}')\""


#: Problem and fix of the error for a file that is not a readable NPZ (callers may word their own).
UNREADABLE = (
    "not a readable NPZ file: damaged or truncated",
    "copy or download the file again (an interrupted copy leaves a truncated file).",
)


def read_npz(
    path: str | Path, *, trust_pickle: bool = False, unreadable: tuple[str, str] = UNREADABLE
) -> dict[str, np.ndarray]:
    """Every array of an NPZ file, read into memory.

    Parameters
    ----------
    path
        The ``.npz`` file.
    trust_pickle
        Arrays stored with numpy's ``object`` dtype are pickles, and unpickling can run any
        code the file contains. False (default) refuses them with a clear error that names
        the key and the fixes; True reads them with ``allow_pickle=True`` and warns
        (:class:`PickleRiskWarning`): only for files from a source you trust. Plain arrays
        are always read without pickle.
    unreadable
        (problem, fix) of the error for a damaged or foreign file; the reason is appended to
        the problem in brackets.

    Raises
    ------
    Gait2HipInputError
        Missing or unreadable file; an object array when not trusted.
    """
    path = Path(path)
    if not path.is_file():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    arrays: dict[str, np.ndarray] = {}
    pickled: list[str] = []
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError:
                    pickled.append(key)
        if pickled and not trust_pickle:
            raise Gait2HipInputError(
                "the array is stored as pickled Python objects (dtype object); unpickling can run any "
                "code hidden in the file, so gait2hip does not load it by default.",
                file=path,
                column=pickled[0],
                fix="re-save its string arrays as unicode, without pickle: "
                f"{convert_command(path)} — or, only for a file from a source you trust, "
                "pass --trust-pickle (Python: trust_pickle=True).",
            )
        if pickled:
            warnings.warn(
                f"{path}: unpickling the object array(s) {', '.join(pickled)} because trust_pickle is set; "
                "unpickling runs any code the file contains.",
                PickleRiskWarning,
                stacklevel=2,
            )
            with np.load(path, allow_pickle=True) as trusted:
                arrays.update({key: trusted[key] for key in pickled})
    except Gait2HipInputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise Gait2HipInputError(f"{unreadable[0]} ({exc}).", file=path, fix=unreadable[1]) from None
    return arrays


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and nothing else: any other class or function is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def _strings_without_pickle(raw: bytes, *, path: Path, key: str) -> np.ndarray:
    """An object array of strings (an ``.npy`` member's bytes) as unicode, running no code."""
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    read_header = (
        np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    )
    shape, _, _ = read_header(stream)
    try:
        array = _ArrayOnlyUnpickler(stream).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as exc:
        raise Gait2HipInputError(
            f"the object array is not a plain array of strings ({exc}).",
            file=path,
            column=key,
            fix="it holds pickled Python objects, not text: do not load it unless you trust its source.",
        ) from None
    values = np.asarray(array, dtype=object).reshape(shape)
    if not all(isinstance(v, str | bytes) for v in values.flat):
        raise Gait2HipInputError(
            "the object array holds values other than strings.",
            file=path,
            column=key,
            fix="only string arrays can be converted; re-save the file's arrays as plain numpy arrays.",
        )
    return np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in values.flat]).reshape(shape)


def resave_strings_as_unicode(path: str | Path, out: str | Path) -> Path:
    """Copy an NPZ, turning its object arrays of strings into unicode arrays, without unpickling code.

    The object arrays are rebuilt by an unpickler that allows numpy's array classes only,
    so a crafted file cannot run code here; any non-string content is refused. The result
    loads with pickling disabled.

    Raises
    ------
    Gait2HipInputError
        Unreadable file, or an object array that is not an array of strings.
    """
    path = Path(path)
    if not path.is_file():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz, zipfile.ZipFile(path) as archive:
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError:
                    raw = archive.read(f"{key}.npy")
                    arrays[key] = _strings_without_pickle(raw, path=path, key=key)
    except Gait2HipInputError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise Gait2HipInputError(f"not a readable NPZ file ({exc}).", file=path) from None
    return write_npz(out, arrays)


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray], *, compress: bool = True) -> Path:
    """Write arrays to ``path`` atomically (a killed write never leaves a half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    (np.savez_compressed if compress else np.savez)(tmp, **dict(arrays))
    tmp.replace(path)
    return path
