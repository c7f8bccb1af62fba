"""``gait2hip predict`` and ``gait2hip export``: predictions and exports, reported on the console."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from gait2hip.commands.options import EXIT_OK, EXIT_PARTIAL, ExportFormat, PredictSide
from gait2hip.errors import Gait2HipInputError

_LEVEL_STYLE = {
    "ok": "[green]ok[/]",
    "caution": "[yellow]CAUTION[/]",
    "unreliable": "[bold red]UNRELIABLE[/]",
}


@dataclass
class PredictOutcome:
    """What ``gait2hip predict`` did: the files written, and what was skipped (files) or withheld
    (unreliable cycles); either makes the exit code 1."""

    written: list[Path] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    withheld: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_PARTIAL if self.skipped or self.withheld else EXIT_OK


def _cycles_table(prediction, *, title: str, force: bool) -> Table:
    from gait2hip.models.ood import outside_label, outside_limit_text

    table = Table(title=title, title_justify="left")
    for column in ("cycle", "side", "window (s)", "stride (s)", "OOD distance / limit"):
        table.add_column(column)
    for column in (outside_label(), "OOD level", "curves"):
        table.add_column(column)
    for _, row in prediction.cycles.iterrows():
        window = f"{row['start_s']:.3f}–{row['end_s']:.3f}" if pd.notna(row["start_s"]) else "pre-cut"
        unreliable = row["ood_level"] == "unreliable"
        table.add_row(
            str(row["cycle"]),
            str(row["side"]),
            window,
            f"{row['stride_s']:.3f}" if pd.notna(row["stride_s"]) else "-",
            f"{row['ood_distance']:.1f} / {row['ood_threshold']:.1f}",
            f"{row['ood_outside_fraction']:.0%} / {outside_limit_text()}",
            _LEVEL_STYLE[row["ood_level"]],
            "[red]NOT written[/]" if unreliable and not force else "written",
        )
    return table


def _report_levels(prediction, *, force: bool, console: Console) -> None:
    """One loud line per cycle that is not 'ok', with its reasons (convention problems first)."""
    for _, row in prediction.cycles.iterrows():
        if row["ood_level"] == "ok":
            continue
        where = f"{row['side']} cycle {row['cycle']}"
        if row["ood_level"] == "unreliable":
            action = (
                "curves written because of --force" if force else "NO curves written (--force writes them)"
            )
            console.print(
                f"[bold red]UNRELIABLE[/] {where}: {row['ood_reason']} — {action}.", highlight=False
            )
        else:
            console.print(
                f"[yellow]caution[/] {where}: outside the training cohort ({row['ood_reason']}).",
                highlight=False,
            )


@dataclass(frozen=True)
class PredictOptions:
    """How every file of one ``gait2hip predict`` call is predicted and written (:func:`predict_command`)."""

    side: PredictSide = PredictSide.right
    cycle: tuple[float, float] | None = None
    force: bool = False
    mass_kg: float | None = None
    height_m: float | None = None
    masses: Path | None = None
    mass_table: dict = field(default_factory=dict)
    events: dict | None = None
    moment_convention: str = "internal"
    moment_units: str = "Nm/kg"
    lowpass_hz: float | None = None


def _check_mass_options(mass_kg: float | None, masses: Path | None) -> None:
    if (mass_kg is None) == (masses is None):
        raise Gait2HipInputError(
            "give the body mass: --mass KG for every file, or --masses TABLE.csv "
            "(file, mass_kg[, height_m]).",
            column="mass",
        )


def _load_predictor(model: str, *, console: Console):
    """The bundles of ``model``, announced; torch on one thread (one cycle at a time is too little
    work to share, and a second OpenMP thread waiting for a busy core can cost 100×, measured on a
    loaded 2-core machine)."""
    import torch

    from gait2hip.commands.models import search_dirs
    from gait2hip.predict.predictor import Predictor

    predictor = Predictor.from_bundle(model, search_dirs=search_dirs())
    torch.set_num_threads(1)
    console.print(
        f"Model: {', '.join(f'{b.name} ({b.architecture}, {b.target_kind})' for b in predictor.bundles)}"
        + (f" — trained on {predictor.training_data}" if predictor.simulated else ""),
        highlight=False,
    )
    return predictor


def _predict_file(source: Path, predictor, options: PredictOptions, *, console: Console):
    """One kinematics file's prediction, its moments expressed as asked and its contact force in % BW."""
    from gait2hip.predict.contact import with_contact_percent_bw
    from gait2hip.predict.moments import express_moments
    from gait2hip.predict.write import events_for, mass_for, read_kinematics

    if options.masses is not None:
        mass, height = mass_for(source, options.mass_table, options.masses)
    else:
        mass, height = options.mass_kg, options.height_m
    angles, notes = read_kinematics(source)
    for note in notes:
        console.print(f"[bold yellow]note:[/] {note}", highlight=False)
    strikes = events_for(source, options.events) if options.events is not None else None
    strikes = strikes or angles.attrs.get("heel_strikes") or None  # a C3D's Foot Strike events
    prediction = predictor.predict_trial(
        angles,
        mass_kg=mass,
        side=PredictSide(options.side).value,
        cycles=None if options.cycle is None else [tuple(options.cycle)],
        in_degrees=True,
        file=source,
        heel_strikes=None if options.cycle is not None else strikes,
        lowpass_hz=options.lowpass_hz,
    )
    prediction = express_moments(
        prediction, convention=options.moment_convention, units=options.moment_units, height_m=height
    )
    return with_contact_percent_bw(prediction)


def _contact_table(long: pd.DataFrame, *, title: str) -> Table | None:
    """Per side: the contact force |F|'s first and second peak and its maximum, % BW at % of the cycle
    (mean over the written cycles); None without a contact force."""
    from gait2hip.data.columns import CONTACT_LABELS
    from gait2hip.predict.contact import IN_VIVO_CITATION, IN_VIVO_PEAK_PBW

    rows = long[(long["variable"] == "hip_contact_mag") & (long["statistic"] == "mean")]
    if rows.empty:
        return None
    mean, sd = IN_VIVO_PEAK_PBW
    table = Table(
        title=f"{title}: {CONTACT_LABELS['hip_contact_mag']} (same in every frame), mean over cycles",
        caption=f"in-vivo peak {mean:.0f} ± {sd:.0f} %BW: {IN_VIVO_CITATION}",
        title_justify="left",
        caption_justify="left",
    )
    for column in ("side", "cycles", "1st peak", "2nd peak", "maximum", "max / in vivo"):
        table.add_column(column)
    for side, group in rows.groupby("side", sort=False):
        value = group.set_index("measure")["value"]
        cycles = long.query("variable == 'hip_contact_mag' and side == @side and measure == 'peak_max'")

        def at(measure: str, value=value) -> str:
            if measure not in value or not np.isfinite(value[measure]):
                return "– (no double hump)"
            return f"{value[measure]:.0f} %BW at {value[measure + '_at']:.0f} %"

        table.add_row(
            str(side),
            f"{cycles.set_index('statistic')['value'].get('n_cycles', float('nan')):.0f}",
            at("peak1"),
            at("peak2"),
            at("peak_max"),
            f"{value['peak_max'] / mean:.2f}",
        )
    return table


def _write_file(prediction, source: Path, predictor, options: PredictOptions, *, out: Path, console: Console):
    """Write one file's outputs and report them; (its cycles table, its long summary, files written)."""
    from gait2hip.predict.summary import trial_summary
    from gait2hip.predict.write import write_prediction

    folder = out / source.stem
    written = write_prediction(
        prediction, predictor=predictor, source=source, out=folder, withhold_unreliable=not options.force
    )
    summary = pd.read_csv(folder / "cycles.csv")
    written_cycles = summary.loc[summary["curves_written"].astype(bool), "cycle"].tolist()
    long = trial_summary(prediction.curves, file=source.name, cycles=written_cycles)
    console.print(_cycles_table(prediction, title=f"{source.name} → {folder}", force=options.force))
    _report_levels(prediction, force=options.force, console=console)
    contact = _contact_table(long, title=source.name)
    if contact is not None:
        console.print(contact)
    return summary, long, written


def _write_summaries(
    out: Path, outcome: PredictOutcome, summaries: list, longs: list, *, input: Path
) -> None:
    """``summary.csv`` and ``summary_long.csv`` over every file; refuses when no file could be predicted."""
    from gait2hip.predict.write import write_summary

    if summaries or outcome.skipped:
        outcome.written.append(write_summary(summaries, out, outcome.skipped))
    if longs:
        path = out / "summary_long.csv"
        pd.concat(longs, ignore_index=True).to_csv(path, index=False, float_format="%.6g")
        outcome.written.append(path)
    if outcome.skipped and not summaries:
        raise Gait2HipInputError(
            f"no file could be predicted ({len(outcome.skipped)} failed; see above and summary.csv).",
            file=input,
        )


def _report_totals(
    out: Path, outcome: PredictOutcome, summaries: list, options: PredictOptions, *, console
) -> None:
    from gait2hip.models.ood import ood_legend
    from gait2hip.predict.moments import convention_text

    n_cycles = sum(len(s) for s in summaries)
    levels = pd.concat(summaries)["ood_level"].value_counts() if summaries else pd.Series(dtype=int)
    console.print(
        f"{n_cycles} cycle(s) from {len(summaries)} file(s) in {out}: "
        + ", ".join(f"{levels.get(level, 0)} {level}" for level in ("ok", "caution", "unreliable"))
        + (f"; [bold red]{outcome.withheld} unreliable cycle(s) NOT written[/] (--force writes them)"
           if outcome.withheld else "")
        + (f"; [red]{len(outcome.skipped)} file(s) skipped[/] (summary.csv says why)"
           if outcome.skipped else ""),
        highlight=False,
    )  # fmt: skip
    console.print(
        f"Moments: {convention_text(options.moment_convention)}, normalised in {options.moment_units}.",
        highlight=False,
    )
    console.print(ood_legend(), highlight=False, style="dim")


def predict_command(
    *,
    input: Path,
    out: Path,
    mass_kg: float | None,
    model: str = "default",
    side: PredictSide = PredictSide.right,
    cycle: tuple[float, float] | None = None,
    console: Console,
    force: bool = False,
    overwrite: bool = False,
    masses: Path | None = None,
    height_m: float | None = None,
    moment_convention: str = "internal",
    moment_units: str = "Nm/kg",
    events: Path | None = None,
    lowpass_hz: float | None = None,
) -> PredictOutcome:
    """Predict every gait cycle of a kinematics file (or a folder of them), write and report the results.

    Parameters
    ----------
    input
        An OpenSim IK ``.mot`` / ``.sto`` (degrees or radians; IK or Moco state-path names),
        a CSV with a time column and the 10 angles, an NPZ, or a folder of these.
    out
        Output folder: new or empty, unless ``overwrite`` (then gait2hip's earlier outputs
        there are removed first).
    mass_kg
        Body mass in kg (forces in N = N/kg × mass); or ``masses``.
    model
        'default' (the installed forces + moments bundles), installed bundle names or bundle
        folders, comma-separated.
    side
        right, left (left heel strikes; the model is fed mirrored angles) or both.
    cycle
        (START, END) in seconds: use this window as the cycle instead of finding heel strikes.
    console
        Where progress and the results tables go.
    force
        Write the curves of 'unreliable' cycles too.
    masses
        A CSV (file, mass_kg[, height_m]) giving each file's mass (and height).
    height_m
        Body height (m), for ``moment_units='%BWh'``.
    moment_convention, moment_units
        See :func:`gait2hip.predict.moments.express_moments`.
    events
        A CSV of heel strikes (side, time_s[, file]) defining the cycles; a C3D's own
        Foot Strike events are used without it. ``cycle`` overrides both.
    lowpass_hz
        Low-pass the angles at this cut-off first (default: no filter).

    Returns
    -------
    PredictOutcome
        Files written, files skipped (with the reason) and cycles withheld.
    """
    from gait2hip.io.outputs import prepare_output_dir
    from gait2hip.predict.write import OUTPUT_PATTERNS, input_files, read_events, read_masses

    _check_mass_options(mass_kg, masses)
    files = input_files(input)
    options = PredictOptions(
        side=PredictSide(side),
        cycle=cycle,
        force=force,
        mass_kg=mass_kg,
        height_m=height_m,
        masses=masses,
        mass_table=read_masses(masses) if masses is not None else {},
        events=read_events(events) if events is not None else None,
        moment_convention=moment_convention,
        moment_units=moment_units,
        lowpass_hz=lowpass_hz,
    )
    out = prepare_output_dir(out, overwrite=overwrite, ours=OUTPUT_PATTERNS, create=False)
    predictor = _load_predictor(model, console=console)
    outcome = PredictOutcome()
    summaries: list[pd.DataFrame] = []
    longs: list[pd.DataFrame] = []
    prepare_output_dir(out, overwrite=True, create=True)
    for source in files:
        try:
            prediction = _predict_file(source, predictor, options, console=console)
        except Gait2HipInputError as exc:
            if len(files) == 1:
                raise
            outcome.skipped.append({"file": str(source), "reason": str(exc)})
            console.print(f"[red]skipped[/] {exc}", highlight=False)
            continue
        summary, long, written = _write_file(prediction, source, predictor, options, out=out, console=console)
        outcome.written.extend(written)
        outcome.withheld += int((~summary["curves_written"].astype(bool)).sum())
        summaries.append(summary)
        longs.append(long)
    _write_summaries(out, outcome, summaries, longs, input=input)
    _report_totals(out, outcome, summaries, options, console=console)
    return outcome


def export_command(*, bundle: str, out: Path, format: ExportFormat, console: Console) -> Path:
    """Export ``bundle`` (name or folder) to ``out``: ONNX (verified against PyTorch) or one .zip."""
    from gait2hip.commands.models import search_dirs
    from gait2hip.io.outputs import check_output_file, check_writable_dir
    from gait2hip.predict.export import PARITY_TOLERANCE, export_checked_onnx, export_zip

    if Path(out).is_dir():
        check_writable_dir(out)  # the file goes inside, named after the bundle
    else:
        check_output_file(out)

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
