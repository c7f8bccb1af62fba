"""``gait2hip export``: a model bundle as a self-contained ONNX file, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gait2hip.errors import Gait2HipInputError

EXPORT_FORMATS = ("onnx", "zip")
#: ONNX Runtime must reproduce PyTorch to this (target units: N/kg, Nm/kg).
PARITY_TOLERANCE = 1e-4


def export_command(*, bundle: str, out: Path, format: str = "onnx", console: Any = None) -> Path:
    """Export ``bundle`` (name or folder) to ``out``: ONNX (verified against PyTorch) or one .zip.

    The normalisation is baked into the graph (input: raw angles in degrees in the
    bundle's column order; output: targets in the bundle's units), and the manifest is
    stored in the file's metadata (see :mod:`gait2hip.models.onnx`).

    Raises
    ------
    Gait2HipInputError
        Unknown format or bundle, or an export that does not reproduce PyTorch within
        ``PARITY_TOLERANCE``.
    """
    from rich.console import Console

    from gait2hip.models.bundle import load_bundle
    from gait2hip.models.onnx import export_onnx, onnx_parity

    console = console or Console()
    if format.lower() not in EXPORT_FORMATS:
        raise Gait2HipInputError(
            f"unknown export format '{format}'.", column="format", fix=f"use {', '.join(EXPORT_FORMATS)}."
        )
    out = Path(out)
    if format.lower() == "zip":
        from gait2hip.models.bundle import pack_bundle, resolve_bundle_paths

        (source,) = resolve_bundle_paths(bundle)
        if source.suffix.lower() == ".zip":
            raise Gait2HipInputError("the bundle is already an archive.", file=source)
        path = pack_bundle(source, out if out.suffix.lower() == ".zip" else out.with_suffix(".zip"))
        loaded = load_bundle(path)  # proves the archive loads and its hashes match
        console.print(
            f"[green]wrote[/] {path} ({path.stat().st_size / 1e6:.2f} MB): {loaded.name}, one file; load it "
            "with --model PATH.zip or put it in a GAIT2HIP_BUNDLE_PATH folder.",
            highlight=False,
        )
        return path
    if out.suffix.lower() != ".onnx":
        out = out.with_suffix(".onnx") if out.suffix else out / f"{Path(bundle).name}.onnx"
    loaded = load_bundle(bundle)
    with console.status(f"exporting {loaded.name} to ONNX"):
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
    console.print(
        f"[green]wrote[/] {path} ({path.stat().st_size / 1e6:.2f} MB) — "
        f"{loaded.name} ({loaded.architecture})\n"
        f"  input  'angles' \\[batch, {loaded.seq_len}, {len(loaded.input_columns)}] float32: "
        f"{', '.join(loaded.input_columns)} in {', '.join(sorted(set(loaded.input_units)))}\n"
        f"  output 'targets' \\[batch, {loaded.seq_len}, {len(loaded.target_columns)}] float32 in "
        f"{', '.join(sorted(set(loaded.target_units)))} (multiply per-kg outputs by body mass)\n"
        f"  normalisation baked in; manifest in the file's metadata (gait2hip_manifest)\n"
        f"  ONNX Runtime vs PyTorch: max |difference| {error:.1e} ≤ {PARITY_TOLERANCE:g}",
        highlight=False,
    )
    return path
