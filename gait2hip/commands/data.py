"""``gait2hip data inspect``: load a dataset, print its summary and warnings."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from gait2hip.commands.options import Hips, Side
from gait2hip.data.inspect import Inspection, inspect_dataset
from gait2hip.progress import bar_callback, eta_progress


def inspect_command(*, path: str, side: Side, hips: Hips, console: Console) -> Inspection:
    """Load ``path`` (with a progress bar for lab folders), print its summary, return it."""
    with eta_progress(console=Console(stderr=True), unit="trials", transient=True) as progress:
        inspection = inspect_dataset(
            path,
            side=Side(side).value,
            hips=Hips(hips).value,
            on_progress=bar_callback(progress, f"reading {path}", min_total=4),
        )
    print_inspection(inspection, console=console)
    return inspection


def _fmt(value: float) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.4g}"


def print_inspection(ins: Inspection, *, console: Console) -> None:
    """Print an :class:`Inspection` as rich tables."""
    overview = Table(title=f"{ins.name or ins.spec} — {ins.kind}", show_header=False, title_justify="left")
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("source", ins.spec)
    overview.add_row("samples (gait cycles)", f"{ins.n_samples} × {ins.n_timepoints} time points")
    overview.add_row(
        "subjects",
        f"{len(ins.subjects)}: {', '.join(ins.subjects[:12])}{' …' if len(ins.subjects) > 12 else ''}",
    )
    per_subject = list(ins.trials_per_subject.values())
    overview.add_row(
        "trials",
        f"{ins.n_trials} ({min(per_subject)}–{max(per_subject)} per subject)" if per_subject else "0",
    )
    for label, counts in (("cadences", ins.cadences), ("cohorts", ins.cohorts), ("sides", ins.sides)):
        overview.add_row(label, ", ".join(f"{k}: {v}" for k, v in counts.items()))
    overview.add_row("cadence", f"{_fmt(ins.cadence_spm[0])}–{_fmt(ins.cadence_spm[1])} steps/min")
    overview.add_row("body mass", f"{_fmt(ins.mass_kg[0])}–{_fmt(ins.mass_kg[1])} kg")
    overview.add_row("height", f"{_fmt(ins.height_m[0])}–{_fmt(ins.height_m[1])} m")
    overview.add_row("targets per kg", "yes" if ins.mass_normalized else "no (raw N / N m)")
    overview.add_row("simulated", "yes" if ins.simulated else "no")
    console.print(overview)
    columns = Table(title="columns", title_justify="left")
    for header in ("", "column", "unit", "min", "max", "NaN/inf"):
        columns.add_column(header, justify="right" if header in ("min", "max", "NaN/inf") else "left")
    for role, group in (("input", ins.inputs), ("target", ins.targets)):
        for column in group:
            columns.add_row(
                role,
                column.name,
                column.unit,
                _fmt(column.minimum),
                _fmt(column.maximum),
                str(column.n_nonfinite) if column.n_nonfinite else "",
            )
    console.print(columns)
    for note in ins.notes:
        console.print(f"[dim]note:[/] {note}", highlight=False, soft_wrap=True)
    for warning in ins.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if not ins.warnings:
        console.print("[green]no warnings[/]")
