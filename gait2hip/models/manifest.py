"""A bundle's files on disk: the manifest, its members (folder or .zip), their hashes.

Every path a manifest names is checked to stay inside the bundle: a manifest is data from
whoever made the bundle, and ``"../../etc/hostname"``, an absolute path or a symlink out of
the folder must not make gait2hip read (or hash) a file elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from gait2hip.errors import Gait2HipInputError

#: The newest bundle format this gait2hip reads. 2 adds the per-time-point ``output_offset`` of a
#: fine-tuned head (older gait2hip refuses such a bundle instead of predicting without it).
BUNDLE_FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
WEIGHTS_FILE = "weights.safetensors"
REFERENCE_FILE = "reference.safetensors"


def is_archive(path: Path) -> bool:
    """True for a bundle packed as one ``.zip`` file."""
    return path.is_file() and path.suffix.lower() == ".zip"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _refuse(bundle: Path, filename: str, why: str) -> Gait2HipInputError:
    return Gait2HipInputError(
        f"manifest.json lists the file {filename!r}, which {why}; a bundle may only name files "
        "inside its own folder. Refused (nothing outside the bundle was read).",
        file=bundle / MANIFEST_FILE if not is_archive(bundle) else bundle,
        fix="use a bundle from a trusted source, or re-export it with `gait2hip export`.",
    )


def check_member_name(bundle: Path, filename: str) -> str:
    """``filename`` when it names a file inside ``bundle``; a clear error otherwise.

    Refuses absolute paths (POSIX or Windows), drive letters, ``..`` components, and, for a
    bundle folder, any name whose resolved path (symlinks followed) leaves the folder.

    Examples
    --------
    >>> from pathlib import Path
    >>> check_member_name(Path("my-bundle"), "weights.safetensors")
    'weights.safetensors'
    >>> check_member_name(Path("my-bundle"), "../../../../etc/hostname")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gait2hip.errors.Gait2HipInputError: file my-bundle/manifest.json: manifest.json lists the file \
'../../../../etc/hostname', which climbs out of the bundle ('..'); ...
    """
    name = str(filename)
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not name or name in (".", "./"):
        raise _refuse(bundle, name, "is no file name")
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or PurePosixPath(name).is_absolute():
        raise _refuse(bundle, name, "is an absolute path")
    if ".." in parts:
        raise _refuse(bundle, name, "climbs out of the bundle ('..')")
    if bundle.is_dir():
        root = bundle.resolve()
        if not (bundle / name).resolve().is_relative_to(root):
            raise _refuse(bundle, name, "resolves (through a symlink) to a path outside the bundle folder")
    return name


def read_member(bundle: Path, filename: str) -> bytes | None:
    """A bundle file's bytes, from a bundle folder or a bundle .zip (root or one sub-folder).

    None when the file is absent; :func:`check_member_name` errors for a name leaving the bundle.
    """
    check_member_name(bundle, filename)
    if bundle.is_dir():
        file = bundle / filename
        return file.read_bytes() if file.is_file() else None
    if is_archive(bundle):
        try:
            with zipfile.ZipFile(bundle) as archive:
                names = [n for n in archive.namelist() if n == filename or n.endswith("/" + filename)]
                return archive.read(min(names, key=len)) if names else None
        except zipfile.BadZipFile:
            return None
    return None


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a bundle (folder or .zip), with a clear error when it is not one.

    Every entry of its ``files`` table is checked to name a file inside the bundle.
    """
    folder = Path(path)
    manifest_path = folder / MANIFEST_FILE
    text = read_member(folder, MANIFEST_FILE)
    if text is None:
        raise Gait2HipInputError(
            "this is not a gait2hip model bundle (no manifest.json).",
            file=folder,
            fix="pass a bundle folder or .zip, or a name from `gait2hip models list`.",
        )
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Gait2HipInputError(
            f"manifest.json is not valid JSON ({getattr(exc, 'msg', exc)}).", file=manifest_path
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != "gait2hip-bundle":
        raise Gait2HipInputError("manifest.json is not a gait2hip bundle manifest.", file=manifest_path)
    if int(manifest.get("format_version", 0)) > BUNDLE_FORMAT_VERSION:
        raise Gait2HipInputError(
            f"bundle format {manifest['format_version']} is newer than this gait2hip understands "
            f"({BUNDLE_FORMAT_VERSION}).",
            file=manifest_path,
            fix="upgrade gait2hip.",
        )
    files = manifest.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise Gait2HipInputError(
            "manifest.json 'files' must map file names to SHA-256 hex strings.", file=manifest_path
        )
    for filename in files:
        check_member_name(folder, filename)
    return manifest


def pack_bundle(folder: str | Path, out: str | Path | None = None) -> Path:
    """Pack a bundle folder into one ``.zip`` archive (loadable like the folder, never unpacked).

    Parameters
    ----------
    folder
        The bundle folder.
    out
        The archive (default: ``<folder>.zip`` beside it).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    out = Path(out) if out is not None else folder.with_suffix(".zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename in (MANIFEST_FILE, *manifest.get("files", {})):
            archive.write(folder / filename, arcname=filename)
    return out
