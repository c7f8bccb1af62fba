"""``gait2hip data inspect``: load a dataset, print its summary and warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from gait2hip.commands.options import Hips, Side
from gait2hip.commands.progress import bar_callback, eta_progress
from gait2hip.data.inspect import Inspection, inspect_dataset


def inspect_command(
    *, path: str, side: Side, hips: Hips, console: Console, trust_pickle: bool = False
) -> Inspection:
    """Load ``path`` (with a progress bar for lab folders), print its summary, return it."""
    with eta_progress(console=Console(stderr=True), unit="trials", transient=True) as progress:
        inspection = inspect_dataset(
            path,
            side=Side(side).value,
            hips=Hips(hips).value,
            trust_pickle=trust_pickle,
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


def _print_frame(frame, *, title: str, console: Console, digits: int = 2, markdown: bool = False) -> None:
    def cell(value) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    if markdown:
        lines = [f"*{title}*", "", "| " + " | ".join(map(str, frame.columns)) + " |"]
        lines.append("|" + "---|" * len(frame.columns))
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for _, row in frame.iterrows()]
        console.print("\n".join([*lines, ""]), highlight=False, soft_wrap=True, markup=False)
        return

    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="right" if frame[column].dtype.kind in "fi" else "left")
    for _, row in frame.iterrows():
        table.add_row(*[cell(v) for v in row])
    console.print(table)


def fukuchi_command(
    *, shared: Path | None, out: Path | None, evidence: bool, markdown: bool, console: Console
) -> None:
    """Regenerate the embedded REAL dataset fukuchi2018 and print its evidence tables."""
    from gait2hip.data import load_dataset
    from gait2hip.data.fukuchi import EMBEDDED_PATH, convert
    from gait2hip.data.fukuchi_evidence import (
        convention_evidence,
        evidence_summary,
        lab_offsets,
        matched_speeds,
        shift_table,
        subject_spread,
    )
    from gait2hip.paths import shared_dir

    root = shared_dir(path=shared, required=True)
    dataset = convert(root / "real" / "fukuchi2018")
    target = dataset.save(out or EMBEDDED_PATH)
    console.print(f"wrote {target} ({dataset!r})", highlight=False)
    for note in dataset.attrs["notes"]:
        console.print(f"[dim]note:[/] {note}", highlight=False, soft_wrap=True)
    if not evidence:
        return
    md = dict(markdown=markdown, console=console)
    _print_frame(
        matched_speeds(root),
        title="speed match (stance % of the cycle, vertical GRF > 2 % BW)",
        digits=1,
        **md,
    )
    table = convention_evidence(root, all_speeds=True)
    _print_frame(
        table[table["matched"]].drop(columns="matched"),
        title="convention evidence: r of each raw component and of the mapped channel (matched references)",
        **md,
    )
    _print_frame(
        evidence_summary(table), title="convention evidence, summary (r of the mapped channel)", **md
    )
    offsets = lab_offsets(root, fukuchi=dataset, default=load_dataset("default"))
    _print_frame(offsets, title="between-lab offsets: cycle-mean angle and ROM (deg)", digits=1, **md)
    default = load_dataset("default")
    healthy = default.select(cohorts=["healthy"]) if (default.meta["cohort"] == "healthy").any() else default
    _print_frame(
        subject_spread({"fukuchi2018": dataset, "default (healthy, simulated)": healthy}),
        title="between-subject SD of the cycle-mean angle and ROM (deg)",
        **md,
    )
    shifts = shift_table(dataset)["other_heel_strike_percent"]
    console.print(
        f"contralateral heel strike (% of the cycle, per file and leg, from the two vertical GRFs): "
        f"mean {shifts.mean():.2f}, SD {shifts.std():.2f}, range {shifts.min():.1f}–{shifts.max():.1f} "
        f"(n = {len(shifts)})",
        highlight=False,
    )
