"""Exporting a bundle for deployment: one ONNX file checked against PyTorch, or one .zip."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import Bundle, load_bundle

EXPORT_FORMATS = ("onnx", "zip")
#: ONNX Runtime must reproduce PyTorch to this (target units: N/kg, Nm/kg).
PARITY_TOLERANCE = 1e-4


def export_zip(
    bundle: str | Path, out: Path, *, search_dirs: Sequence[Path] | None = None
) -> tuple[Path, Bundle]:
    """Pack ``bundle`` (name or folder) into one ``.zip`` and load it back (hashes checked).

    ``search_dirs``: folders holding installed bundles, for a name (default: the shipped ones).

    Returns
    -------
    (path, loaded)
        The archive and the bundle loaded from it.
    """
    from gait2hip.models.discovery import resolve_bundle_paths
    from gait2hip.models.manifest import pack_bundle

    (source,) = resolve_bundle_paths(bundle, search_dirs=search_dirs)
    if source.suffix.lower() == ".zip":
        raise Gait2HipInputError("the bundle is already an archive.", file=source)
    out = Path(out)
    path = pack_bundle(source, out if out.suffix.lower() == ".zip" else out.with_suffix(".zip"))
    return path, load_bundle(path)  # proves the archive loads and its hashes match


def export_checked_onnx(
    bundle: str | Path, out: Path, *, search_dirs: Sequence[Path] | None = None
) -> tuple[Path, Bundle, float]:
    """Export ``bundle`` (name or folder; names looked up in ``search_dirs``) to ONNX and check
    ONNX Runtime against PyTorch.

    The normalisation is baked into the graph (input: raw angles in degrees in the
    bundle's column order; output: targets in the bundle's units), and the manifest is
    stored in the file's metadata (see :mod:`gait2hip.models.onnx`).

    Returns
    -------
    (path, loaded, error)
        The .onnx file, the bundle, and the largest |ONNX − PyTorch| difference.

    Raises
    ------
    Gait2HipInputError
        The export does not reproduce PyTorch within ``PARITY_TOLERANCE`` (the file is removed).
    """
    from gait2hip.models.onnx import export_onnx, onnx_parity

    out = Path(out)
    if out.suffix.lower() != ".onnx":
        out = out.with_suffix(".onnx") if out.suffix else out / f"{Path(bundle).name}.onnx"
    loaded = load_bundle(bundle, search_dirs=search_dirs)
    path = export_onnx(loaded, out)
    error = onnx_parity(loaded, path, batch=8)
    if not error <= PARITY_TOLERANCE:
        path.unlink(missing_ok=True)
        raise Gait2HipInputError(
            f"the ONNX export of {loaded.name} differs from PyTorch by {error:.2e} "
            f"(> {PARITY_TOLERANCE:g}); file removed.",
            file=out,
            fix="report this with the bundle's manifest.json; use the PyTorch bundle meanwhile.",
        )
    return path, loaded, error
