"""``gait2hip predict`` and ``gait2hip export``: predictions and exports, reported on the console."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from gait2hip.commands.options import ExportFormat, PredictSide
from gait2hip.errors import Gait2HipInputError


def _cycles_table(prediction, *, title: str) -> Table:
    from gait2hip.models.ood import outside_label, outside_limit_text

    table = Table(title=title, title_justify="left")
    for column in ("cycle", "side", "window (s)", "stride (s)", "OOD distance / limit"):
        table.add_column(column)
    for column in (outside_label(), "status"):
        table.add_column(column)
    for _, row in prediction.cycles.iterrows():
        window = f"{row['start_s']:.3f}–{row['end_s']:.3f}" if pd.notna(row["start_s"]) else "pre-cut"
        table.add_row(
            str(row["cycle"]),
            str(row["side"]),
            window,
            f"{row['stride_s']:.3f}" if pd.notna(row["stride_s"]) else "-",
            f"{row['ood_distance']:.1f} / {row['ood_threshold']:.1f}",
            f"{row['ood_outside_fraction']:.0%} / {outside_limit_text()}",
            "[yellow]OOD[/]" if row["ood"] else "[green]ok[/]",
        )
    return table


def predict_command(
    *,
    input: Path,
    out: Path,
    mass_kg: float,
    model: str = "default",
    side: PredictSide = PredictSide.right,
    cycle: tuple[float, float] | None = None,
    console: Console,
) -> list[Path]:
    """Predict every gait cycle of a kinematics file (or a folder of them), write and report the results.

    Parameters
    ----------
    input
        An OpenSim IK ``.mot`` / ``.sto`` (degrees or radians; IK or Moco state-path names),
        a CSV with a time column and the 10 angles, an NPZ, or a folder of these.
    out
        Output folder.
    mass_kg
        Body mass in kg (forces in N = N/kg × mass).
    model
        'default' (the installed forces + moments bundles), installed bundle names or bundle
        folders, comma-separated.
    side
        right, left (left heel strikes; the model is fed mirrored angles) or both.
    cycle
        (START, END) in seconds: use this window as the cycle instead of finding heel strikes.
    console
        Where progress and the results tables go.

    Returns
    -------
    list of Path
        Every file written (see :mod:`gait2hip.predict.write`).
    """
    import torch

    from gait2hip.commands.models import search_dirs
    from gait2hip.models.ood import ood_legend
    from gait2hip.predict.predictor import Predictor
    from gait2hip.predict.write import input_files, read_kinematics, write_prediction, write_summary

    side = PredictSide(side)
    files = input_files(input)
    predictor = Predictor.from_bundle(model, search_dirs=search_dirs())
    # One cycle at a time is too little work to share between threads, and a second OpenMP
    # thread waiting for a busy core can cost 100× (measured on a loaded 2-core machine).
    torch.set_num_threads(1)
    console.print(
        f"Model: {', '.join(f'{b.name} ({b.architecture}, {b.target_kind})' for b in predictor.bundles)}"
        + (" — trained on SIMULATED data" if predictor.simulated else ""),
        highlight=False,
    )
    out = Path(out)
    written: list[Path] = []
    summaries: list[pd.DataFrame] = []
    failures: list[str] = []
    for source in files:
        try:
            angles, notes = read_kinematics(source)
            for note in notes:
                console.print(f"[yellow]note:[/] {note}", highlight=False)
            prediction = predictor.predict_trial(
                angles,
                mass_kg=mass_kg,
                side=side.value,
                cycles=None if cycle is None else [tuple(cycle)],
                in_degrees=True,
                file=source,
            )
        except Gait2HipInputError as exc:
            if len(files) == 1:
                raise
            failures.append(str(exc))
            console.print(f"[red]skipped[/] {exc}", highlight=False)
            continue
        folder = out / source.stem
        written.extend(write_prediction(prediction, predictor=predictor, source=source, out=folder))
        summary = prediction.cycles.copy()
        summary.insert(0, "file", str(source))
        summaries.append(summary)
        console.print(_cycles_table(prediction, title=f"{source.name} → {folder}"))
    if summaries and len(files) > 1:
        written.append(write_summary(summaries, out))
    if failures and not summaries:
        raise Gait2HipInputError(
            f"no file could be predicted ({len(failures)} failed; see above).", file=input
        )
    n_cycles = sum(len(s) for s in summaries)
    n_ood = sum(int(s["ood"].sum()) for s in summaries)
    console.print(
        f"{n_cycles} cycle(s) from {len(summaries)} file(s) written to {out}"
        + (f"; {n_ood} flagged out of distribution" if n_ood else "")
        + (f"; {len(failures)} file(s) skipped" if failures else ""),
        highlight=False,
    )
    console.print(ood_legend(), highlight=False, style="dim")
    return written


def export_command(*, bundle: str, out: Path, format: ExportFormat, console: Console) -> Path:
    """Export ``bundle`` (name or folder) to ``out``: ONNX (verified against PyTorch) or one .zip."""
    from gait2hip.commands.models import search_dirs
    from gait2hip.predict.export import PARITY_TOLERANCE, export_checked_onnx, export_zip

    if ExportFormat(format) is ExportFormat.zip:
        path, loaded = export_zip(bundle, Path(out), search_dirs=search_dirs())
        console.print(
            f"[green]wrote[/] {path} ({path.stat().st_size / 1e6:.2f} MB): {loaded.name}, one file; load it "
            "with --model PATH.zip or put it in a GAIT2HIP_BUNDLE_PATH folder.",
            highlight=False,
        )
        return path
    with console.status(f"exporting {bundle} to ONNX"):
        path, loaded, error = export_checked_onnx(bundle, Path(out), search_dirs=search_dirs())
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
