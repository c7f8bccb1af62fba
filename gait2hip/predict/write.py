"""Writing predictions: kinematics files in, per-cycle hip forces and moments files out.

For every input file and every gait cycle found in it, ``gait2hip predict`` writes into
``OUT/<file stem>/`` (:func:`write_prediction`):

* ``<stem>_<side>_cycle<k>.sto`` — OpenSim storage, time in seconds of the original trial;
  each force twice (``glmed_r`` in N, ``glmed_r_per_kg`` in N/kg) and each moment twice
  (``hip_flexion_r_moment`` in Nm, ``hip_flexion_r_moment_per_kg`` in Nm/kg);
* ``<stem>_<side>_cycle<k>.csv`` — the same curves with units in the column names
  (``glmed_r [N]``), plus ``percent`` of the gait cycle and the cycle's OOD flag; a bundle
  with a calibrated band adds ``<name>_lo`` / ``<name>_hi`` (central 90 % interval) to both;
* ``<stem>_<side>_cycle<k>.png`` — the curves per kg over 0–100 % of the cycle on the
  training cohort's mean ± SD band;

plus ``OUT/<stem>/cycles.csv`` (one row per cycle: window, stride, out-of-distribution
measures) and, for a folder, ``OUT/summary.csv`` over all files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
    if any(c.endswith("_lo") for c in prediction.curves.columns):
        lines.append(
            "band: *_lo / *_hi = central 90 % prediction interval (held-out residuals + ensemble spread), "
            f"widened x{row.get('band_inflation', 1.0):.2f} (max(1, OOD distance / threshold))"
        )
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
            if float(row.get("band_inflation", 1.0)) > 1.0:
                verdict += f" · 90 % band widened ×{row['band_inflation']:.2f}"
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


def read_kinematics(source: Path) -> tuple[pd.DataFrame, list[str]]:
    """The angles of one kinematics file (:func:`gait2hip.data.angles.read_angles`) and the
    reader's notes (its warnings, e.g. a unit it assumed), for the caller to show."""
    import warnings

    from gait2hip.data.angles import read_angles

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        angles = read_angles(source)
    return angles, [str(w.message) for w in caught]


def write_summary(cycle_tables: list[pd.DataFrame], out: Path) -> Path:
    """``OUT/summary.csv``: the per-file ``cycles`` tables (with their ``file`` column) stacked."""
    path = Path(out) / "summary.csv"
    pd.concat(cycle_tables, ignore_index=True).to_csv(path, index=False, float_format="%.6g")
    return path
