"""``gait2hip predict``: kinematics files in, per-cycle hip forces and moments out.

For every input file and every gait cycle found in it, writes into ``OUT/<file stem>/``:

* ``<stem>_<side>_cycle<k>.sto`` — OpenSim storage, time in seconds of the original trial;
  each force twice (``glmed_r`` in N, ``glmed_r_per_kg`` in N/kg) and each moment twice
  (``hip_flexion_r_moment`` in Nm, ``hip_flexion_r_moment_per_kg`` in Nm/kg);
* ``<stem>_<side>_cycle<k>.csv`` — the same curves with units in the column names
  (``glmed_r [N]``), plus ``percent`` of the gait cycle and the cycle's OOD flag;
* ``<stem>_<side>_cycle<k>.png`` — the curves per kg over 0–100 % of the cycle on the
  training cohort's mean ± SD band;

plus ``OUT/<stem>/cycles.csv`` (one row per cycle: window, stride, out-of-distribution
measures) and, for a folder, ``OUT/summary.csv`` over all files.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from gait2hip.errors import Gait2HipInputError
from gait2hip.predict.predictor import Prediction, Predictor

INPUT_SUFFIXES = (".mot", ".sto", ".csv", ".tsv", ".npz")


def input_files(path: str | Path) -> list[Path]:
    """The kinematics files named by ``path``: the file itself, or a folder's files (sorted)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
        if not files:
            raise Gait2HipInputError(
                f"the folder holds no kinematics files ({', '.join(INPUT_SUFFIXES)}).",
                file=path,
                fix="point at an IK .mot/.sto, a CSV or NPZ with the 10 angles, or a folder of them.",
            )
        return files
    raise Gait2HipInputError("input not found.", file=path, fix="check the path.")


def _sto_header(prediction: Prediction, row: pd.Series, source: Path) -> list[str]:
    units = ", ".join(
        sorted(
            {f"{u}" for c, u in prediction.curves.attrs["units"].items() if u in ("N", "N/kg", "Nm", "Nm/kg")}
        )
    )
    lines = [
        f"source={source.name}",
        f"side={row['side']}",
        (
            f"cycle_window_s={row['start_s']:.4f}-{row['end_s']:.4f} ({row['method']})"
            if pd.notna(row["start_s"])
            else "cycle_window_s=unknown (pre-cut cycle: the time column is the fraction of the cycle)"
        ),
        f"mass_kg={prediction.mass_kg:g}",
        f"bundles={','.join(prediction.bundles)}",
        f"units: columns without suffix in N (forces) or Nm (moments); *_per_kg in N/kg or Nm/kg ({units})",
        f"ood={'yes' if row['ood'] else 'no'} distance={row['ood_distance']:.3f} "
        f"threshold={row['ood_threshold']:.3f} outside_fraction={row['ood_outside_fraction']:.3f}",
    ]
    if prediction.simulated:
        lines.append("note=model trained on SIMULATED data (gait2hip virtual cohort), not measured forces")
    return lines


def write_prediction(
    prediction: Prediction,
    *,
    predictor: Predictor,
    source: Path,
    out: Path,
    plots: bool = True,
) -> list[Path]:
    """Write one file's predictions (.sto, .csv, .png per cycle and cycles.csv) into ``out``."""
    from gait2hip.io.opensim import write_storage
    from gait2hip.predict.plots import plot_cycle

    out.mkdir(parents=True, exist_ok=True)
    units = prediction.curves.attrs["units"]
    written: list[Path] = []
    stem = source.stem
    for _, row in prediction.cycles.iterrows():
        number, side = int(row["cycle"]), str(row["side"])
        curves = prediction.cycle(number)
        targets = [c for c in curves.columns if units.get(c) in ("N", "N/kg", "Nm", "Nm/kg")]
        base = out / f"{stem}_{side}_cycle{number}"
        table = curves[["time", "percent", *targets]].copy()
        if table["time"].isna().all():  # pre-cut cycles have no trial time: use the cycle fraction
            table["time"] = table["percent"] / 100.0
        # 1e-6 N or Nm is far below any model's accuracy; full float repr only adds noise.
        sto = table.astype(float).round(6).set_index("time").rename(columns={"percent": "percent_gait_cycle"})
        written.append(
            write_storage(
                base.with_suffix(".sto"),
                sto,
                name=f"gait2hip_{side}_hip_cycle{number}",
                in_degrees=None,
                extra_lines=_sto_header(prediction, row, source),
            )
        )
        csv = table.rename(columns={c: f"{c} [{units[c]}]" for c in ["time", *targets]})
        csv.insert(0, "side", side)
        csv.insert(0, "cycle", number)
        csv["ood"] = bool(row["ood"])
        csv.to_csv(base.with_suffix(".csv"), index=False, float_format="%.6g")
        written.append(base.with_suffix(".csv"))
        if plots:
            window = (
                f"{row['start_s']:.3f}–{row['end_s']:.3f} s" if pd.notna(row["start_s"]) else "pre-cut cycle"
            )
            verdict = (
                f"OUT OF DISTRIBUTION: {row['ood_reason']}"
                if row["ood"]
                else f"within the training cohort (OOD distance {row['ood_distance']:.1f} ≤ "
                f"{row['ood_threshold']:.1f})"
            )
            if prediction.simulated:
                verdict += " · model trained on SIMULATED data"
            written.append(
                plot_cycle(
                    curves,
                    bundles=predictor.bundles,
                    side=side,
                    title=(
                        f"{source.name} · {side} hip · cycle {number} ({window}) · {prediction.mass_kg:g} kg"
                    ),
                    note=verdict,
                    out=base.with_suffix(".png"),
                )
            )
    cycles = prediction.cycles.copy()
    cycles.insert(0, "file", str(source))
    cycles.to_csv(out / "cycles.csv", index=False, float_format="%.6g")
    written.append(out / "cycles.csv")
    return written


def predict_command(
    *,
    input: Path,
    out: Path,
    mass_kg: float,
    model: str = "default",
    side: str = "right",
    cycle: tuple[float, float] | None = None,
    console: Any = None,
) -> list[Path]:
    """Predict every gait cycle of a kinematics file (or a folder of them) and write the results.

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
        'right', 'left' (left heel strikes; the model is fed mirrored angles) or 'both'.
    cycle
        (START, END) in seconds: use this window as the cycle instead of finding heel strikes.
    console
        A rich Console for progress and the results table.

    Returns
    -------
    list of Path
        Every file written.
    """
    from rich.console import Console
    from rich.table import Table

    from gait2hip.data.angles import read_angles

    console = console or Console()
    if side not in ("right", "left", "both"):
        raise Gait2HipInputError(f"unknown side '{side}'.", column="side", fix="use right, left or both.")
    files = input_files(input)
    predictor = Predictor.from_bundle(model)
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
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                angles = read_angles(source)
            for warning in caught:
                console.print(f"[yellow]note:[/] {warning.message}", highlight=False)
            prediction = predictor.predict_trial(
                angles,
                mass_kg=mass_kg,
                side=side,
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

        table = Table(title=f"{source.name} → {folder}", title_justify="left")
        for column in (
            "cycle",
            "side",
            "window (s)",
            "stride (s)",
            "OOD distance / limit",
            "> ±4 SD",
            "status",
        ):
            table.add_column(column)
        for _, row in prediction.cycles.iterrows():
            window = f"{row['start_s']:.3f}–{row['end_s']:.3f}" if pd.notna(row["start_s"]) else "pre-cut"
            table.add_row(
                str(row["cycle"]),
                str(row["side"]),
                window,
                f"{row['stride_s']:.3f}" if pd.notna(row["stride_s"]) else "-",
                f"{row['ood_distance']:.1f} / {row['ood_threshold']:.1f}",
                f"{row['ood_outside_fraction']:.0%} / 5%",
                "[yellow]OOD[/]" if row["ood"] else "[green]ok[/]",
            )
        console.print(table)
    if summaries and len(files) > 1:
        pd.concat(summaries, ignore_index=True).to_csv(out / "summary.csv", index=False, float_format="%.6g")
        written.append(out / "summary.csv")
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
    console.print(
        "OOD = outside the training cohort (prediction less trustworthy): Mahalanobis distance of the "
        "cycle's angle curves in the training cycles' PCA space (+ residual); flagged above the 99th "
        "percentile of training cycles, or when > 5 % of samples are beyond ±4 SD.",
        highlight=False,
        style="dim",
    )
    return written
