"""Writing predictions: kinematics files in, per-cycle hip forces and moments files out.

For every input file and every gait cycle found in it, ``gait2hip predict`` writes into
``OUT/<file stem>/`` (:func:`write_prediction`), with a stable name per cycle —
``<stem>_<side>_<start>ms`` (the leg and the cycle's heel-strike time in the trial, e.g.
``walk1_right_605ms``; pre-cut cycles: ``<stem>_<side>_cycle<k>``), the same whatever
``--side`` is asked:

* ``<name>.sto`` — OpenSim storage, time in seconds of the original trial; each force twice
  (``glmed_r`` in N, ``glmed_r_per_kg`` in N/kg) and each moment twice
  (``hip_flexion_r_moment`` in Nm, ``hip_flexion_r_moment_per_kg`` in Nm/kg, or
  ``..._pct_bwh`` in %BW·h); the hip contact force (a joint bundle trained with it) three times
  (``hip_r_contact_mag`` in N, ``..._per_kg`` in N/kg, ``..._pct_bw`` in % body weight,
  :mod:`gait2hip.predict.contact`); the header states units, moment convention and OOD level;
* ``<name>.csv`` — the same curves with units in the column names (``glmed_r [N]``),
  ``percent`` of the gait cycle and the cycle's OOD level (a bundle with a calibrated band adds
  ``<name>_lo`` / ``<name>_hi``, the central 90 % interval, to both); ``<name>.json`` beside it (a
  sidecar, as BIDS does) states units, moment convention, mass, bundles and OOD verdict;
* ``<name>.png`` — the normalised curves over 0–100 % of the cycle on the training cohort's
  mean ± SD band;

plus ``OUT/<stem>/cycles.csv`` (one row per cycle: window, stride, OOD level and measures,
whether its curves were written) and ``OUT/summary.csv`` over all files and cycles, with the
files and cycles skipped and why. A cycle whose OOD level is 'unreliable' gets no curves
unless ``force`` (its row says so).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.predict.predictor import Prediction, Predictor

INPUT_SUFFIXES = (".mot", ".sto", ".csv", ".tsv", ".npz", ".c3d")
#: Glob patterns of every file ``gait2hip predict`` writes (removed by ``--overwrite``).
OUTPUT_PATTERNS = ("*.sto", "*.csv", "*.png", "*.json")


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


def cycle_basename(stem: str, row: pd.Series) -> str:
    """Stable file name of one cycle: leg + heel-strike time (pre-cut cycles: leg + number)."""
    if pd.notna(row["start_s"]):
        return f"{stem}_{row['side']}_{round(float(row['start_s']) * 1000)}ms"
    return f"{stem}_{row['side']}_cycle{int(row['cycle'])}"


def _verdict(row: pd.Series) -> str:
    level = str(row.get("ood_level", "ok"))
    if level == "ok":
        return (
            "OOD level ok: within the training cohort "
            f"(distance {row['ood_distance']:.1f} ≤ {row['ood_threshold']:.1f})"
        )
    return f"OOD level {level.upper()}: {row['ood_reason']}"


def _metadata(prediction: Prediction, row: pd.Series, source: Path) -> dict:
    from gait2hip.predict.moments import convention_text

    attrs = prediction.curves.attrs
    convention = attrs.get("moment_convention", "internal")
    return {
        "source": source.name,
        "side": str(row["side"]),
        "cycle_window_s": None if pd.isna(row["start_s"]) else [float(row["start_s"]), float(row["end_s"])],
        "cycle_definition": "heel strike to the next heel strike of the same foot, resampled to 0-100 %",
        "cycle_found_by": str(row["method"]),
        "mass_kg": prediction.mass_kg,
        "height_m": attrs.get("height_m"),
        "angles_lowpass_hz": attrs.get("lowpass_hz"),
        "bundles": list(prediction.bundles),
        "units": {c: u for c, u in attrs["units"].items() if c in prediction.curves.columns},
        "moment_convention": convention,
        "moment_convention_text": convention_text(convention),
        "ood_level": str(row.get("ood_level", "ok")),
        "ood_reason": str(row["ood_reason"]),
        "ood_distance": float(row["ood_distance"]),
        "ood_threshold": float(row["ood_threshold"]),
        "trained_on_simulated_data": bool(prediction.simulated),
        "training_data": prediction.training_data,
    }


def _sto_header(prediction: Prediction, row: pd.Series, source: Path) -> list[str]:
    from gait2hip.predict.moments import convention_text

    units = ", ".join(
        sorted({u for u in prediction.curves.attrs["units"].values() if u[:1] in ("N", "%") and u != "%"})
    )
    convention = prediction.curves.attrs.get("moment_convention", "internal")
    lines = [
        f"source={source.name}",
        f"side={row['side']}",
        (
            f"cycle_window_s={row['start_s']:.4f}-{row['end_s']:.4f} ({row['method']})"
            if pd.notna(row["start_s"])
            else "cycle_window_s=unknown (pre-cut cycle: the time column is the fraction of the cycle)"
        ),
        f"mass_kg={prediction.mass_kg:g}",
        f"angles_lowpass_hz={prediction.curves.attrs.get('lowpass_hz') or 'none'}",
        f"bundles={','.join(prediction.bundles)}",
        "units: columns without suffix in N (forces) or Nm (moments); *_per_kg in N/kg or Nm/kg; "
        "*_pct_bwh in % body weight x height; hip_*_contact_*_pct_bw (hip contact force) in % body weight "
        f"= N/kg / 9.81 x 100 ({units})",
        f"moments={convention}: {convention_text(convention)}",
        f"ood_level={row.get('ood_level', 'ok')} distance={row['ood_distance']:.3f} "
        f"threshold={row['ood_threshold']:.3f} outside_fraction={row['ood_outside_fraction']:.3f}",
    ]
    if row.get("convention"):
        lines.append(f"input_convention_problem={row['convention']}")
    if any(c.endswith("_lo") for c in prediction.curves.columns):
        lines.append(
            "band: *_lo / *_hi = central 90 % prediction interval (held-out residuals + ensemble spread), "
            f"widened x{row.get('band_inflation', 1.0):.2f} (max(1, OOD distance / threshold))"
        )
    if prediction.simulated:
        trained_on = prediction.training_data or "SIMULATED data"
        lines.append(f"note=model trained on {trained_on}, not measured forces")
    return lines


def write_prediction(
    prediction: Prediction,
    *,
    predictor: Predictor,
    source: Path,
    out: Path,
    plots: bool = True,
    withhold_unreliable: bool = False,
) -> list[Path]:
    """Write one file's predictions (.sto, .csv, .json, .png per cycle and cycles.csv) into ``out``.

    ``withhold_unreliable``: write no curves for cycles whose OOD level is 'unreliable'
    (``cycles.csv`` lists them with ``curves_written`` False). The command line does this
    unless ``--force``.
    """
    import json

    from gait2hip.io.opensim import write_storage
    from gait2hip.predict.contact import with_contact_percent_bw
    from gait2hip.predict.moments import convention_text
    from gait2hip.predict.plots import plot_cycle

    out.mkdir(parents=True, exist_ok=True)
    prediction = with_contact_percent_bw(prediction)
    attrs = prediction.curves.attrs
    units = attrs["units"]
    convention = attrs.get("moment_convention", "internal")
    written: list[Path] = []
    stem = source.stem
    cycles = prediction.cycles.copy()
    cycles["curves_written"] = True
    for index, row in prediction.cycles.iterrows():
        number, side = int(row["cycle"]), str(row["side"])
        level = str(row.get("ood_level", "ok"))
        if withhold_unreliable and level == "unreliable":
            cycles.loc[index, "curves_written"] = False
            continue
        curves = prediction.cycle(number)
        targets = [c for c in curves.columns if units.get(c, "")[:1] in ("N", "%") and c != "percent"]
        name = cycle_basename(stem, row)
        sto_path, csv_path, meta, png = (
            out / f"{name}{suffix}" for suffix in (".sto", ".csv", ".json", ".png")
        )
        table = curves[["time", "percent", *targets]].copy()
        if table["time"].isna().all():  # pre-cut cycles have no trial time: use the cycle fraction
            table["time"] = table["percent"] / 100.0
        # 1e-6 N or Nm is far below any model's accuracy; full float repr only adds noise.
        sto = table.astype(float).round(6).set_index("time").rename(columns={"percent": "percent_gait_cycle"})
        written.append(
            write_storage(
                sto_path,
                sto,
                name=f"gait2hip_{side}_hip_cycle{number}",
                in_degrees=None,
                extra_lines=_sto_header(prediction, row, source),
            )
        )
        csv = table.rename(columns={c: f"{c} [{units[c]}]" for c in ["time", *targets]})
        csv.insert(0, "side", side)
        csv.insert(0, "cycle", number)
        csv["ood_level"] = level
        csv.to_csv(csv_path, index=False, float_format="%.6g")
        written.append(csv_path)
        meta.write_text(json.dumps(_metadata(prediction, row, source), indent=1, default=str) + "\n")
        written.append(meta)
        if plots:
            window = (
                f"{row['start_s']:.3f}–{row['end_s']:.3f} s" if pd.notna(row["start_s"]) else "pre-cut cycle"
            )
            verdict = _verdict(row)
            if float(row.get("band_inflation", 1.0)) > 1.0:
                verdict += f" · 90 % band widened ×{row['band_inflation']:.2f}"
            if prediction.simulated:
                verdict += f" · model trained on {prediction.training_data or 'SIMULATED data'}"
            written.append(
                plot_cycle(
                    curves,
                    bundles=predictor.bundles,
                    side=side,
                    title=(
                        f"{source.name} · {side} hip · cycle {number} ({window}) · {prediction.mass_kg:g} kg"
                    ),
                    note=verdict + f"\nmoments: {convention_text(convention)}",
                    out=png,
                    level=level,
                    moment_convention=convention,
                    moment_units=attrs.get("moment_units", "Nm/kg"),
                    height_m=attrs.get("height_m"),
                )
            )
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


def write_summary(cycle_tables: list[pd.DataFrame], out: Path, skipped: list[dict] | None = None) -> Path:
    """``OUT/summary.csv``: the per-file ``cycles`` tables (with their ``file`` column) stacked,
    then one row per skipped file (``status`` 'skipped' and the ``reason``). Cycles are
    ``status`` 'written', or 'withheld' when their curves were not written (unreliable)."""
    path = Path(out) / "summary.csv"
    frames = []
    for table in cycle_tables:
        table = table.copy()
        written = table.get("curves_written", True)
        table.insert(
            1, "status", pd.Series(written, index=table.index).map({True: "written", False: "withheld"})
        )
        table.insert(2, "reason", table["ood_reason"].where(table["status"] == "withheld", ""))
        frames.append(table)
    if skipped:
        frames.append(
            pd.DataFrame([{"file": s["file"], "status": "skipped", "reason": s["reason"]} for s in skipped])
        )
    pd.concat(frames, ignore_index=True).to_csv(path, index=False, float_format="%.6g")
    return path


def read_masses(path: str | Path) -> dict[str, tuple[float, float | None]]:
    """A per-file body-mass table: CSV with columns ``file``, ``mass_kg`` and optionally ``height_m``.

    ``file`` is matched against each input file's name or stem. Returns
    ``{name: (mass_kg, height_m or None)}``.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", dtype={"file": str})
    except (OSError, ValueError) as exc:
        raise Gait2HipInputError(f"cannot read the mass table ({exc}).", file=path) from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in ("file", "mass_kg") if c not in table.columns]
    if missing:
        raise Gait2HipInputError(
            f"the mass table has no {' or '.join(missing)} column (it has {', '.join(table.columns)}).",
            file=path,
            column=missing[0],
            fix="give a CSV with a header row: file,mass_kg[,height_m] and one row per kinematics file.",
        )
    masses: dict[str, tuple[float, float | None]] = {}
    for number, row in enumerate(table.to_dict("records"), start=2):
        try:
            mass = float(row["mass_kg"])
            height = float(row["height_m"]) if pd.notna(row.get("height_m", float("nan"))) else None
        except (TypeError, ValueError):
            raise Gait2HipInputError(
                f"line {number}: mass '{row['mass_kg']}' or height is not a number.",
                file=path,
                column="mass_kg",
                fix="use a dot as the decimal separator (72.6), kilograms and metres.",
            ) from None
        masses[str(row["file"]).strip()] = (mass, height)
    return masses


def mass_for(
    source: Path, masses: dict[str, tuple[float, float | None]], table: Path
) -> tuple[float, float | None]:
    """The (mass, height) row of ``source`` in a :func:`read_masses` table."""
    for key in (source.name, source.stem, str(source)):
        if key in masses:
            return masses[key]
    raise Gait2HipInputError(
        f"no body mass for {source.name} in the mass table.",
        file=table,
        column="file",
        fix=f"add a row '{source.name},MASS_KG' to {table.name}.",
    )


def read_events(path: str | Path) -> dict[str, dict[str, list[float]]]:
    """Heel strikes from a CSV: columns ``side`` (right/left), ``time_s`` and optionally ``file``
    (for a folder of trials; rows without it apply to every file) and ``event`` (only rows whose
    event is a heel/foot strike are used when the column is there).

    Returns ``{file name or '': {side: [times in s]}}``.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, encoding="utf-8-sig", dtype={"file": str, "side": str})
    except (OSError, ValueError) as exc:
        raise Gait2HipInputError(f"cannot read the events table ({exc}).", file=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    for column in ("side", "time_s"):
        if column not in table.columns:
            raise Gait2HipInputError(
                f"the events table has no '{column}' column (it has {', '.join(table.columns)}).",
                file=path,
                column=column,
                fix="give a CSV with a header row: side,time_s[,file][,event] and one heel strike per row.",
            )
    if "event" in table.columns:
        table = table[table["event"].astype(str).str.lower().str.contains("strike|contact|hs", regex=True)]
    events: dict[str, dict[str, list[float]]] = {}
    for number, row in enumerate(table.to_dict("records"), start=2):
        side = {"r": "right", "right": "right", "l": "left", "left": "left"}.get(
            str(row["side"]).strip().lower()
        )
        try:
            time = float(row["time_s"])
        except (TypeError, ValueError):
            time = float("nan")
        if side is None or not np.isfinite(time):
            raise Gait2HipInputError(
                f"line {number}: side '{row['side']}' or time '{row['time_s']}' is not usable.",
                file=path,
                column="side" if side is None else "time_s",
                fix="side is right or left; time_s is in seconds with a decimal point.",
            )
        key = str(row.get("file", "") or "").strip() if "file" in table.columns else ""
        key = "" if key.lower() == "nan" else key
        events.setdefault(key, {}).setdefault(side, []).append(time)
    return events


def events_for(source: Path, events: dict[str, dict[str, list[float]]]) -> dict[str, list[float]] | None:
    """The heel strikes of ``source`` in a :func:`read_events` table (its rows, else the file-less rows)."""
    for key in (source.name, source.stem, str(source)):
        if key in events:
            return events[key]
    return events.get("")
