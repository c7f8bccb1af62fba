"""One upload → one analysis: read the trial, predict every cycle, and describe the result.

Everything here is the service's view of the public prediction API
(:class:`gait2hip.predict.Predictor`): the same readers (:func:`gait2hip.data.angles.read_angles`),
the same per-cycle predictions and out-of-distribution (OOD) check, and the same per-cycle
``.sto`` / CSV files as ``gait2hip predict`` (:func:`gait2hip.predict.write.write_prediction`).
What is added (:mod:`gait2hip.serve.describe`): stance / swing timing, left / right symmetry
indices, the training cohort's normative band and plain-language wording of the OOD verdict for
clinicians.

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
from gait2hip.predict import Predictor, find_cycles
from gait2hip.serve.describe import describe
from gait2hip.serve.store import scratch_root

#: File types an upload may be, by suffix.
UPLOAD_SUFFIXES = (".mot", ".sto", ".csv", ".tsv", ".txt", ".c3d")
#: Plausible standing heights (m) when one is given.
HEIGHT_RANGE_M = (0.5, 2.5)
_READ_LOCK = threading.Lock()  # warnings.catch_warnings is process-wide: one reader at a time


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
        windows = None if cycle is not None else _cycle_windows(angles, events, side, filename, max_cycles)
        prediction = _predict(predictor, angles, filename, mass_kg, height_m, side, cycle, windows)
    except UploadError:
        raise
    except Gait2HipInputError as exc:
        raise UploadError(exc.problem, file=filename, column=exc.column, fix=exc.fix) from None
    result = describe(
        prediction, predictor, angles=angles, events=events, notes=notes, filename=filename,
        height_m=height_m, side=side,
    )  # fmt: skip
    from gait2hip.serve.report import pdf_available, render_report, report_pdf

    blobs = _downloads(prediction, predictor, filename)
    html = render_report(result)
    blobs["report.html"] = html.encode("utf-8")
    if pdf_available():
        blobs["report.pdf"] = lambda: report_pdf(html)  # made on first download (0.8 s)
    return Analysis(result=result, blobs=blobs)


def _cycle_windows(
    angles: pd.DataFrame, events: dict, side: str, filename: str, max_cycles: int
) -> dict[str, list[tuple[float, float]]]:
    """The lab's cycle windows per side (from a C3D's Foot Strike events; empty without them),
    after checking that the trial holds at most ``max_cycles`` cycles."""
    sides = ("right", "left") if side == "both" else (side,)
    strikes = {s: events[s]["heel_strike"] for s in sides if len(events.get(s, {}).get("heel_strike", []))}
    n_cycles = sum(len(find_cycles(angles, side=s, file=filename)) for s in sides if s not in strikes) + sum(
        max(0, len(t) - 1) for t in strikes.values()
    )
    if n_cycles > max_cycles:
        raise UploadError(
            f"the trial holds {n_cycles} gait cycles; this server analyses at most {max_cycles} per upload.",
            file=filename,
            column="time",
            fix="cut the trial into shorter parts, choose one side, or give a cycle window.",
        )
    return _lab_windows(strikes, angles)


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
