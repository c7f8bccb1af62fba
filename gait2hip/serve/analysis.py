"""One upload → one analysis: read the trial, predict every cycle, and describe the result.

Everything here is the service's view of the public prediction API
(:class:`gait2hip.predict.Predictor`): the same readers (:func:`gait2hip.data.angles.read_angles`),
the same per-cycle predictions and out-of-distribution (OOD) check, and the same per-cycle
``.sto`` / CSV files as ``gait2hip predict`` (:func:`gait2hip.predict.write.write_prediction`).
What is added: stance / swing timing, left / right symmetry indices, the training cohort's
normative band and plain-language wording of the OOD verdict for clinicians.

An upload is written, for the few milliseconds the readers need a path, into a private
temporary folder (mode 0700) on a memory file system (``/dev/shm``) when there is one, and
deleted at once; error messages name the client's file, never the temporary path.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.uncertainty import LEVEL, ood_rule
from gait2hip.predict import Predictor, find_cycles
from gait2hip.serve.store import scratch_root

#: File types an upload may be, by suffix.
UPLOAD_SUFFIXES = (".mot", ".sto", ".csv", ".tsv", ".txt", ".c3d")
#: Plausible standing heights (m) when one is given.
HEIGHT_RANGE_M = (0.5, 2.5)
_READ_LOCK = threading.Lock()  # warnings.catch_warnings is process-wide: one reader at a time

OOD_IN_WORDS = (
    "This walking pattern is unlike the walking the model learned from (the training cohort). "
    "The predicted muscle forces and moments for this stride may be inaccurate: interpret them with "
    "caution and do not base a clinical decision on them alone."
)
OK_IN_WORDS = "This walking pattern lies within the range of the walking the model learned from."
SIMULATED_IN_WORDS = (
    "The model was trained on SIMULATED walking (a computer-generated cohort), not on forces measured in "
    "patients: its values are estimates for research and education, not a validated clinical measurement."
)


class UploadError(Gait2HipInputError):
    """A :class:`Gait2HipInputError` that also carries the HTTP status to answer with."""

    def __init__(self, problem: str, *, status: int = 422, **kwargs: Any) -> None:
        super().__init__(problem, **kwargs)
        self.status = status


@dataclass
class Analysis:
    """The result of one upload: the JSON answer and the files offered for download."""

    result: dict[str, Any]
    blobs: dict[str, Any] = field(default_factory=dict)  # bytes, or callables making them


def _renamed(exc: Gait2HipInputError, *, temp: Path, display: str, status: int = 422) -> UploadError:
    def clean(text: str | None) -> str | None:
        return None if text is None else text.replace(str(temp), display)

    return UploadError(
        clean(exc.problem) or "",
        file=display,
        column=exc.column,
        fix=clean(exc.fix),
        status=status,
    )


def read_upload(
    data: bytes, *, filename: str, scratch: Path | None = None
) -> tuple[pd.DataFrame, list[str], dict[str, dict[str, np.ndarray]]]:
    """The 10 angles (degrees, indexed by time) of an uploaded trial.

    Parameters
    ----------
    data
        The file's bytes.
    filename
        Its (already sanitised) display name; the suffix chooses the reader.
    scratch
        Folder for the transient copy (default :func:`scratch_root`).

    Returns
    -------
    (angles, notes, events)
        ``notes``: the readers' warnings (e.g. a flipped knee sign), with the display name;
        ``events``: for a C3D, ``{'right'|'left': {'heel_strike'|'toe_off': times}}`` (else empty).
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadError(
            f"unsupported file type '{suffix or '(none)'}'.",
            file=filename,
            fix=f"upload one of {', '.join(UPLOAD_SUFFIXES)}: an OpenSim IK .mot/.sto, a CSV with a time "
            "column and the 10 angles, or a C3D with Plug-in Gait angles.",
            status=415,
        )
    if not data:
        raise UploadError("the file is empty.", file=filename, fix="upload the trial's file.")
    folder = Path(tempfile.mkdtemp(prefix="g2h-", dir=scratch or scratch_root()))
    temp = folder / f"upload{suffix}"
    try:
        temp.write_bytes(data)
        temp.chmod(0o600)
        with _READ_LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            events: dict[str, dict[str, np.ndarray]] = {}
            if suffix == ".c3d":
                from gait2hip.serve.c3d import read_plugin_gait

                angles, events = read_plugin_gait(temp)
            else:
                from gait2hip.data.angles import read_angles

                angles = read_angles(temp)
        notes = [str(w.message).replace(str(temp), filename) for w in caught]
    except Gait2HipInputError as exc:
        raise _renamed(exc, temp=temp, display=filename) from None
    except (UnicodeDecodeError, ValueError, OSError) as exc:  # a reader's unexpected failure on junk
        raise UploadError(
            f"the file cannot be read as {suffix} ({type(exc).__name__}).",
            file=filename,
            fix="upload the file as exported by OpenSim, the spreadsheet or the capture software.",
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if isinstance(angles.index, pd.MultiIndex):
        raise UploadError("already-cut cycles are not accepted here.", file=filename, fix="upload the trial.")
    return angles, notes, events


# ------------------------------------------------------------------------ derived measures
def toe_off(
    angles: pd.DataFrame, *, side: str, start: float, end: float, events: dict | None = None
) -> tuple[float, str]:
    """Toe-off time inside one cycle, and how it was found.

    The lab's ``Foot Off`` event when a C3D gave one inside the cycle; otherwise, after Zeni et
    al. (2008), the instant the foot is furthest BEHIND the pelvis, using the same two-segment
    foot position as the heel strikes (:func:`gait2hip.data.cycles.foot_forward_position`).
    On the OpenSim gait2392 example this comes ~40 ms (≈3.5 % of the cycle) BEFORE the force
    plates' toe-off in all 4 cycles (tests/test_serve_app.py), so stance % reads a few points
    low; not corrected (one trial is no basis for a correction).
    """
    offs = np.asarray((events or {}).get(side, {}).get("toe_off", []), dtype=float)
    inside = offs[(offs > start) & (offs < end)]
    if len(inside):
        return float(inside[0]), "lab event (Foot Off)"
    from gait2hip.data.cycles import foot_forward_position

    time = angles.index.to_numpy(dtype=float)
    x = foot_forward_position(angles, side=side)
    keep = np.flatnonzero((time > start) & (time < end))
    if len(keep) < 3:
        return float("nan"), "not enough samples"
    i = int(keep[np.argmin(x[keep])])
    t = float(time[i])
    if 0 < i < len(x) - 1:  # parabolic refinement, as for the heel strikes
        y0, y1, y2 = x[i - 1], x[i], x[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom != 0:
            t += float(np.clip(0.5 * (y0 - y2) / denom, -1, 1)) * float(time[i + 1] - time[i])
    return t, "kinematics (foot furthest behind the hip, Zeni et al. 2008)"


def symmetry_index(right: float, left: float) -> float:
    """Robinson et al. (1987) symmetry index, %: 100·(R − L) / (½·(R + L)); 0 = symmetric."""
    mean = 0.5 * (right + left)
    return float(100.0 * (right - left) / mean) if mean > 0 else float("nan")


def _stem(target: str) -> str:
    return target.removesuffix("_r") if target.endswith("_r") else target.replace("_r_moment", "_moment")


def _label(stem: str) -> str:
    from gait2hip.predict.plots import TARGET_LABELS

    return TARGET_LABELS.get(stem.removesuffix("_moment"), stem)


def target_table(predictor: Predictor) -> list[dict[str, Any]]:
    """One entry per predicted hip output: names, units, and the training cohort's band (per kg)."""
    from gait2hip.predict.predictor import output_name

    rows = []
    for bundle in predictor.bundles:
        reference = bundle.reference
        for j, (target, unit) in enumerate(zip(bundle.target_columns, bundle.target_units, strict=True)):
            raw = unit.removesuffix("/kg")
            band = None
            if "target_mean_curve" in reference and unit.endswith("/kg"):
                band = {
                    "mean": _rounded(reference["target_mean_curve"][:, j]),
                    "sd": _rounded(reference["target_sd_curve"][:, j]),
                    "unit": unit,
                    "percent": _rounded(np.linspace(0.0, 100.0, bundle.seq_len)),
                }
            rows.append(
                {
                    "key": _stem(target),
                    "label": _label(_stem(target)),
                    "kind": "force" if raw == "N" else "moment",
                    "unit": raw,
                    "unit_per_kg": raw + "/kg",
                    "columns": {"right": output_name(target, "right"), "left": output_name(target, "left")},
                    "bundle": bundle.name,
                    "normative": band,
                }
            )
    return rows


def _rounded(values: Any, digits: int = 4) -> list[float | None]:
    array = np.round(np.asarray(values, dtype=float), digits)
    return [None if not np.isfinite(v) else float(v) for v in array]


def _number(value: Any, digits: int = 4) -> float | None:
    value = float(value)
    return round(value, digits) if np.isfinite(value) else None


def _check_options(
    *, filename: str, height_m: float | None, side: str, cycle: tuple[float, float] | None
) -> None:
    if side not in ("right", "left", "both"):
        raise UploadError(f"unknown side '{side}'.", column="side", fix="use right, left or both.")
    if height_m is not None and not (HEIGHT_RANGE_M[0] <= height_m <= HEIGHT_RANGE_M[1]):
        raise UploadError(
            f"height {height_m:g} m is outside {HEIGHT_RANGE_M[0]:g}–{HEIGHT_RANGE_M[1]:g} m.",
            column="height",
            fix="give the standing height in metres (e.g. 1.75), or leave it empty.",
        )
    if cycle is not None and not (np.isfinite(cycle).all() and cycle[0] < cycle[1]):
        raise UploadError(
            f"cycle window {cycle[0]:g}–{cycle[1]:g} s is not a window.",
            column="cycle",
            fix="give START < END in seconds, or leave both empty to find the cycles from the kinematics.",
        )


def _cycle_record(
    row: pd.Series, prediction: Any, targets: list[dict[str, Any]], angles: pd.DataFrame, events: dict
) -> dict[str, Any]:
    number, side = int(row["cycle"]), str(row["side"])
    curves = prediction.cycle(number)
    start, end, stride = float(row["start_s"]), float(row["end_s"]), float(row["stride_s"])
    off, off_method = toe_off(angles, side=side, start=start, end=end, events=events)
    stance = (off - start) / stride if np.isfinite(off) else float("nan")
    record: dict[str, Any] = {
        "cycle": number,
        "side": side,
        "start_s": _number(start),
        "end_s": _number(end),
        "stride_s": _number(stride),
        "cadence_steps_per_min": _number(120.0 / stride, 1),
        "heel_strikes": str(row["method"]),
        "timing": {
            "toe_off_s": _number(off),
            "stance_s": _number(off - start),
            "swing_s": _number(end - off),
            "stance_percent": _number(100.0 * stance, 1),
            "swing_percent": _number(100.0 * (1.0 - stance), 1),
            "toe_off_method": off_method,
        },
        "ood": {
            "flag": bool(row["ood"]),
            "distance": _number(row["ood_distance"], 3),
            "threshold": _number(row["ood_threshold"], 3),
            "outside_fraction": _number(row["ood_outside_fraction"], 3),
            "reason": str(row["ood_reason"]),
            "message": OOD_IN_WORDS if row["ood"] else OK_IN_WORDS,
        },
        "uncertainty": _cycle_band(curves, targets, side, row),
        "curves": {},
        "peaks": {},
    }
    for target in targets:
        column = target["columns"][side]
        value = curves[column].to_numpy(dtype=float)
        per_kg = curves[column + "_per_kg"].to_numpy(dtype=float)
        record["curves"][target["key"]] = {"value": _rounded(value, 3), "per_kg": _rounded(per_kg)}
        i = int(np.argmax(np.abs(per_kg)))
        record["peaks"][target["key"]] = {
            "value": _number(value[i], 2),
            "per_kg": _number(per_kg[i]),
            "percent": _number(curves["percent"].iloc[i], 1),
        }
    return record


def _cycle_band(
    curves: pd.DataFrame, targets: list[dict[str, Any]], side: str, row: pd.Series
) -> dict[str, Any] | None:
    """A cycle's 90 % band per target (per kg), or None when its bundles carry no band."""
    lower, upper = {}, {}
    for target in targets:
        column = target["columns"][side] + "_per_kg"
        if column + "_lo" in curves:
            lower[target["key"]] = _rounded(curves[column + "_lo"])
            upper[target["key"]] = _rounded(curves[column + "_hi"])
    if not lower:
        return None
    inflation = float(row.get("band_inflation", 1.0))
    return {
        "level": LEVEL,
        "widened_by": _number(inflation, 2),
        "message": (
            f"band widened ×{inflation:.2f}: this stride lies outside the training range"
            if inflation > 1.0
            else "band as calibrated on held-out subjects"
        ),
        "lower": lower,
        "upper": upper,
    }


def _uncertainty_summary(predictor: Any) -> dict[str, Any]:
    """What the bands are and what each bundle's band was calibrated on."""
    banded = [b for b in predictor.bundles if b.has_band]
    if not banded:
        return {
            "available": False,
            "reason": "the installed model bundles carry no uncertainty estimate.",
            "format": "when available, each cycle's 'uncertainty' holds {level, widened_by, lower: {key: "
            "[per_kg]}, upper: {key: [per_kg]}} on the same 0–100 % grid; today it is null.",
        }
    return {
        "available": True,
        "level": LEVEL,
        "method": banded[0].manifest["uncertainty"]["method"],
        "ood_rule": ood_rule(),
        "calibration": {b.name: b.manifest["uncertainty"].get("calibration", {}) for b in banded},
        "format": "each cycle's 'uncertainty' holds {level, widened_by, message, lower: {key: [per_kg]}, "
        "upper: {key: [per_kg]}} on the same 0–100 % grid (null for targets without a band).",
    }


def symmetry(cycles: list[dict[str, Any]], targets: list[dict[str, Any]]) -> dict[str, Any]:
    """Left / right symmetry of the peak magnitudes (per kg), averaged over each side's cycles."""
    method = (
        "SI = 100·(R − L) / (½·(R + L)) % (Robinson et al. 1987) of the peak magnitude per kg over the "
        "cycle, each side's peaks averaged over its cycles; 0 % = symmetric, positive = right larger."
    )
    sides = {c["side"] for c in cycles}
    if sides != {"right", "left"}:
        return {
            "available": False,
            "reason": "needs at least one right and one left cycle (choose side = both).",
            "method": method,
            "indices": {},
        }
    indices = {}
    for target in targets:
        key = target["key"]
        peak = {
            s: float(np.mean([abs(c["peaks"][key]["per_kg"]) for c in cycles if c["side"] == s]))
            for s in ("right", "left")
        }
        indices[key] = {
            "label": target["label"],
            "unit": target["unit_per_kg"],
            "right_peak": _number(peak["right"]),
            "left_peak": _number(peak["left"]),
            "si_percent": _number(symmetry_index(peak["right"], peak["left"]), 1),
        }
    return {"available": True, "reason": "", "method": method, "indices": indices}


def analyse(
    predictor: Predictor,
    data: bytes,
    *,
    filename: str,
    mass_kg: float,
    height_m: float | None = None,
    side: str = "both",
    cycle: tuple[float, float] | None = None,
    max_cycles: int = 40,
    scratch: Path | None = None,
) -> Analysis:
    """Analyse one uploaded trial (see the module docstring); raises :class:`UploadError`."""
    _check_options(filename=filename, height_m=height_m, side=side, cycle=cycle)
    angles, notes, events = read_upload(data, filename=filename, scratch=scratch)
    try:
        if cycle is None:
            sides = ("right", "left") if side == "both" else (side,)
            strikes = {
                s: events[s]["heel_strike"] for s in sides if len(events.get(s, {}).get("heel_strike", []))
            }
            n_cycles = sum(
                len(find_cycles(angles, side=s, file=filename)) for s in sides if s not in strikes
            ) + sum(max(0, len(t) - 1) for t in strikes.values())
            if n_cycles > max_cycles:
                raise UploadError(
                    f"the trial holds {n_cycles} gait cycles; this server analyses at most {max_cycles} "
                    "per upload.",
                    file=filename,
                    column="time",
                    fix="cut the trial into shorter parts, choose one side, or give a cycle window.",
                )
            windows = _lab_windows(strikes, angles)
        else:
            windows = None
        prediction = _predict(predictor, angles, filename, mass_kg, height_m, side, cycle, windows)
    except UploadError:
        raise
    except Gait2HipInputError as exc:
        raise UploadError(exc.problem, file=filename, column=exc.column, fix=exc.fix) from None
    targets = target_table(predictor)
    cycles = [
        _cycle_record(row, prediction, targets, angles, events) for _, row in prediction.cycles.iterrows()
    ]
    n_ood = sum(c["ood"]["flag"] for c in cycles)
    result = {
        "file": filename,
        "mass_kg": prediction.mass_kg,
        "height_m": height_m,
        "side": side,
        "model": {
            "bundles": list(prediction.bundles),
            "simulated": prediction.simulated,
            "note": SIMULATED_IN_WORDS if prediction.simulated else "",
        },
        "notes": notes,
        "percent": _rounded(prediction.curves.loc[prediction.curves["cycle"] == 1, "percent"], 2),
        "targets": targets,
        "cycles": cycles,
        "ood_summary": {
            "flag": bool(n_ood),
            "cycles_out_of_distribution": n_ood,
            "cycles": len(cycles),
            "message": (
                f"{n_ood} of {len(cycles)} strides lie outside the training range. {OOD_IN_WORDS}"
                if n_ood
                else OK_IN_WORDS
            ),
            "method": "Mahalanobis distance of the stride's joint-angle curves from the training strides "
            "(PCA space + residual), flagged above the 99th percentile of training strides, or when more "
            "than 5 % of samples lie beyond ±4 SD of the training mean.",
        },
        "uncertainty": _uncertainty_summary(predictor),
        "symmetry": symmetry(cycles, targets),
    }
    from gait2hip.serve.report import pdf_available, render_report, report_pdf

    blobs = _downloads(prediction, predictor, filename)
    html = render_report(result)
    blobs["report.html"] = html.encode("utf-8")
    if pdf_available():
        blobs["report.pdf"] = lambda: report_pdf(html)  # made on first download (0.8 s)
    return Analysis(result=result, blobs=blobs)


def _lab_windows(
    strikes: dict[str, np.ndarray], angles: pd.DataFrame
) -> dict[str, list[tuple[float, float]]]:
    """Cycles from a C3D's Foot Strike events, per side (inside the recorded time, plausible strides)."""
    from gait2hip.data.cycles import cycles_from_heel_strikes

    time = angles.index.to_numpy(dtype=float)
    return {
        side: [
            (c.start, c.end)
            for c in cycles_from_heel_strikes(
                t, side=side, method="lab events", t_min=time[0], t_max=time[-1]
            )
        ]
        for side, t in strikes.items()
    }


def _predict(predictor, angles, filename, mass_kg, height_m, side, cycle, windows):
    """Predictions, with the lab's heel strikes for the sides a C3D gave them for."""
    sides = ("right", "left") if side == "both" else (side,)
    if cycle is not None:
        return predictor.predict_trial(
            angles, mass_kg=mass_kg, side=side, cycles=[cycle], height_m=height_m, file=filename
        )
    if not windows:
        return predictor.predict_trial(angles, mass_kg=mass_kg, side=side, height_m=height_m, file=filename)
    parts = []
    for s in sides:
        if windows.get(s):
            part = predictor.predict_trial(
                angles, mass_kg=mass_kg, side=s, cycles=windows[s], height_m=height_m, file=filename
            )
            part.cycles["method"] = "heel strikes from lab events (Foot Strike)"
        else:
            part = predictor.predict_trial(angles, mass_kg=mass_kg, side=s, height_m=height_m, file=filename)
        parts.append(part)
    return _merge(parts)


def _merge(parts: list[Any]) -> Any:
    """Per-side predictions as one, cycles renumbered in time order."""
    from gait2hip.predict import Prediction

    if len(parts) == 1:
        return parts[0]
    cycles = pd.concat(
        [p.cycles.assign(_part=k) for k, p in enumerate(parts)], ignore_index=True
    ).sort_values(["start_s", "side"], kind="stable")
    renumber = {(int(r["_part"]), int(r["cycle"])): n for n, (_, r) in enumerate(cycles.iterrows(), start=1)}
    curves = []
    for k, part in enumerate(parts):
        block = part.curves.copy()
        block["cycle"] = [renumber[(k, int(c))] for c in block["cycle"]]
        curves.append(block)
    merged = pd.concat(curves, ignore_index=True).sort_values(["cycle", "percent"], kind="stable")
    merged = merged.reset_index(drop=True)
    units: dict[str, str] = {}
    for part in parts:
        units.update(part.curves.attrs.get("units", {}))
    merged.attrs["units"] = {c: units[c] for c in merged.columns if c in units}
    cycles["cycle"] = [renumber[(int(r["_part"]), int(r["cycle"]))] for _, r in cycles.iterrows()]
    inputs = {renumber[(k, n)]: frame for k, part in enumerate(parts) for n, frame in part.inputs.items()}
    return Prediction(
        curves=merged,
        cycles=cycles.drop(columns="_part").reset_index(drop=True),
        inputs=inputs,
        mass_kg=parts[0].mass_kg,
        bundles=parts[0].bundles,
        simulated=parts[0].simulated,
    )


def _downloads(prediction: Any, predictor: Predictor, filename: str) -> dict[str, Any]:
    from gait2hip.serve.downloads import curves_csv, cycle_files_zip

    return {  # made on first download (see gait2hip.serve.store)
        "curves.csv": lambda: curves_csv(prediction),
        "cycles.zip": lambda: cycle_files_zip(prediction, predictor, filename),
    }
