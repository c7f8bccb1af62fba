"""The gait cycles of a trial, as the predictor cuts them: heel strikes or user windows, per leg.

A cycle becomes a :class:`CycleWindow` (leg, start, end, how it was found); the predictor then
resamples the angles inside it. Left-leg cycles are fed to the right-hip models with the left
and right angle columns swapped (:func:`gait2hip.data.columns.mirror_angles`; see
:mod:`gait2hip.predict.predictor`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.angles import angles_from_table
from gait2hip.data.cycles import find_cycles as find_gait_cycles
from gait2hip.errors import Gait2HipInputError

SIDES = ("right", "left")


@dataclass(frozen=True)
class CycleWindow:
    """One gait cycle of a trial: the leg, start and end times (s), and how it was found."""

    side: str
    start_s: float
    end_s: float
    method: str

    @property
    def stride_s(self) -> float:
        return self.end_s - self.start_s


#: Sampling intervals (s) of real kinematics lie far below this; a median step of 1 or more with
#: a trial spanning minutes is a time column in milliseconds (or frame numbers).
_MAX_SAMPLE_STEP_S = 0.5


def _time_index(angles: pd.DataFrame, *, file: str | Path | None) -> np.ndarray:
    time = angles.index.to_numpy(dtype=float)
    if len(time) < 2 or not np.all(np.diff(time) > 0):
        raise Gait2HipInputError(
            "times must increase strictly from row to row.",
            file=file,
            column="time",
            fix="sort the rows by time and remove duplicated time stamps.",
        )
    step = float(np.median(np.diff(time)))
    if step >= _MAX_SAMPLE_STEP_S:
        likely = "milliseconds" if 1.0 <= step <= 50.0 else "frame numbers or another unit"
        raise Gait2HipInputError(
            f"the time column does not look like seconds: samples are {step:g} apart and the trial spans "
            f"{time[0]:g}–{time[-1]:g} — probably {likely} (kinematics are sampled every 5–20 ms).",
            file=file,
            column="time",
            fix="give the time in seconds (divide milliseconds by 1000; frame numbers by the frame rate).",
        )
    return time


def check_walking(table: pd.DataFrame, time: np.ndarray, *, file: str | Path | None) -> None:
    """Refuse a trial shorter than one stride or one without walking, with the right diagnosis."""
    from gait2hip.data.checks import MIN_WALKING_HIP_RANGE_DEG, is_walking
    from gait2hip.data.cycles import MAX_STRIDE_S, MIN_STRIDE_S

    duration = float(time[-1] - time[0])
    if duration < MIN_STRIDE_S:
        raise Gait2HipInputError(
            f"the trial lasts only {duration:.2f} s; one gait cycle (heel strike to the next heel strike of "
            f"the same foot) takes {MIN_STRIDE_S:g}–{MAX_STRIDE_S:g} s.",
            file=file,
            column="time",
            fix="give a trial with at least one full stride (check the export did not cut it).",
        )
    if not is_walking({c: table[c].to_numpy() for c in ("hip_flexion_r", "hip_flexion_l")}):
        ranges = [float(np.ptp(table[c].to_numpy())) for c in ("hip_flexion_r", "hip_flexion_l")]
        raise Gait2HipInputError(
            f"no walking in this trial: hip flexion moves only {ranges[0]:.1f}° (right) and {ranges[1]:.1f}° "
            f"(left), under {MIN_WALKING_HIP_RANGE_DEG:g}° — a static or standing trial? (walking needs "
            "about 40°)",
            file=file,
            column="hip_flexion_r",
            fix="give a walking trial; a static (calibration) trial has no gait cycles.",
        )


def find_cycles(
    angles: pd.DataFrame,
    *,
    side: str,
    file: str | Path | None = None,
    heel_strikes: Mapping[str, np.ndarray] | None = None,
) -> list[CycleWindow]:
    """Heel-strike-to-heel-strike cycles of one leg, from the kinematics alone.

    Uses :func:`gait2hip.data.cycles.find_cycles` (heel strike = the foot furthest in
    front of the pelvis, after Zeni et al. 2008; see that module for the method and its
    check against force-plate events). ``heel_strikes`` ({side: times in s}, e.g. a C3D's
    ``Foot Strike`` events or an events CSV) are used instead when given.
    """
    _time_index(angles, file=file)
    try:
        strikes = (
            None if heel_strikes is None else {s: np.asarray(t, dtype=float) for s, t in heel_strikes.items()}
        )
        found = find_gait_cycles(angles, sides=(side,), file=file, heel_strikes=strikes, events_file=file)
    except Gait2HipInputError as exc:
        raise Gait2HipInputError(
            exc.problem,
            file=exc.file,
            column=exc.column,
            fix=(exc.fix + " " if exc.fix else "")
            + "To predict anyway, give the window: --cycle START END (seconds) on the command line, "
            "cycles=[(start, end)] in Python.",
        ) from None
    return [
        CycleWindow(side=c.side, start_s=c.start, end_s=c.end, method=f"heel strikes from {c.method}")
        for c in found
    ]


@dataclass(frozen=True)
class CycleJob:
    """One cycle to predict: its window, the angle samples [n, 10] (release order) and their times."""

    window: CycleWindow
    samples: np.ndarray
    stamps: np.ndarray


def check_sides(side: str) -> list[str]:
    sides = list(SIDES) if side == "both" else [side]
    if any(s not in SIDES for s in sides):
        raise Gait2HipInputError(f"unknown side '{side}'.", column="side", fix="use right, left or both.")
    return sides


def angle_table(angles: pd.DataFrame, *, in_degrees: bool | None, file: str | Path | None) -> pd.DataFrame:
    """The 10 input angles in degrees, release order, same index; no ``attrs``."""
    if not isinstance(angles, pd.DataFrame):
        raise Gait2HipInputError(
            f"angles must be a pandas DataFrame indexed by time (got {type(angles).__name__}).",
            fix="read the file with gait2hip.data.angles.read_angles, or build a DataFrame with the "
            "angle columns and the time in seconds as its index.",
        )
    angles = _time_from_column(angles, file=file)
    # pandas deep-copies .attrs on every column access: drop them (they cost most of a 10 ms call)
    source = angles.copy(deep=False)
    source.attrs = {}
    table = angles_from_table(source, in_degrees=in_degrees, file=file)
    table.attrs = {}
    return table


_TIME_NAMES = ("time", "time_s", "t", "time (s)", "time [s]")


def _time_from_column(angles: pd.DataFrame, *, file: str | Path | None) -> pd.DataFrame:
    """A table straight from ``pd.read_csv`` (row numbers as index, a ``time`` column): index it by time."""
    if isinstance(angles.index, pd.MultiIndex) or not isinstance(angles.index, pd.RangeIndex):
        return angles
    column = next((c for c in angles.columns if str(c).strip().lower() in _TIME_NAMES), None)
    if column is None:
        raise Gait2HipInputError(
            "the table is indexed by row number, and has no time column.",
            file=file,
            column="time",
            fix="index the DataFrame by time in seconds (df.set_index('time')), or add a 'time' column.",
        )
    return angles.set_index(column)


def pre_cut_jobs(table: pd.DataFrame, values: np.ndarray, sides: list[str]) -> list[CycleJob]:
    """Already-cut cycles (a ``(cycle, point)`` MultiIndex): each block taken whole."""
    codes = table.index.get_level_values(0)
    jobs = []
    for side in sides:
        for key in dict.fromkeys(codes):
            block = values[np.asarray(codes == key)]
            window = CycleWindow(side, float("nan"), float("nan"), "pre-cut cycle")
            jobs.append(CycleJob(window, block, np.linspace(0.0, 1.0, len(block))))
    return jobs


def _user_windows(
    time: np.ndarray, cycles: Sequence[tuple[float, float]], side: str, file: str | Path | None
) -> list[CycleWindow]:
    windows = []
    for start, end in cycles:
        if not (time[0] - 1e-9 <= start < end <= time[-1] + 1e-9):
            raise Gait2HipInputError(
                f"cycle window {start:g}–{end:g} s is not inside the trial ({time[0]:.3f}–{time[-1]:.3f} s).",
                file=file,
                column="time",
                fix="choose START < END within the trial's time range.",
            )
        windows.append(CycleWindow(side, float(start), float(end), "user window"))
    return windows


def timed_jobs(
    table: pd.DataFrame,
    values: np.ndarray,
    sides: list[str],
    cycles: Sequence[tuple[float, float]] | None,
    file: str | Path | None,
    heel_strikes: Mapping[str, np.ndarray] | None = None,
) -> list[CycleJob]:
    """Cycles of a trial indexed by time: the user's windows, the given heel strikes, or heel
    strike to heel strike found from the kinematics."""
    time = _time_index(table, file=file)
    check_walking(table, time, file=file)
    if heel_strikes is not None:
        _check_event_sides(table, heel_strikes, file=file)
    jobs = []
    for side in sides:
        if cycles is not None:
            windows = _user_windows(time, cycles, side, file)
        else:
            windows = find_cycles(table, side=side, file=file, heel_strikes=heel_strikes)
        jobs.extend(CycleJob(window, values, time) for window in windows)
    jobs.sort(key=lambda job: (job.window.start_s, job.window.side))
    return jobs


def _check_event_sides(table: pd.DataFrame, heel_strikes: Mapping[str, np.ndarray], *, file) -> None:
    """Refuse events whose right and left are the angles' left and right (a left/right swap)."""
    from gait2hip.data.checks import events_side_problem
    from gait2hip.data.cycles import heel_strikes_from_kinematics

    kinematic = {side: heel_strikes_from_kinematics(table, side=side) for side in SIDES}
    strides = [np.diff(np.sort(np.asarray(t, dtype=float))) for t in heel_strikes.values()]
    strides = [s for s in np.concatenate(strides) if 0.6 <= s <= 2.5] if strides else []
    problem = events_side_problem(
        kinematic=kinematic, given=heel_strikes, stride_s=float(np.median(strides)) if len(strides) else 1.1
    )
    if problem:
        raise Gait2HipInputError(
            problem + ".",
            file=file,
            column="events",
            fix="check the events' Left/Right context (or side column) and the angle column names; one of "
            "them has left and right swapped.",
        )


def cycle_span(job: CycleJob, *, pre_cut: bool, file: str | Path | None) -> tuple[float, float, float]:
    """(start, end, stride) of a job on its own time axis, with enough samples checked."""
    if pre_cut:
        return 0.0, 1.0, float("nan")
    start, end = job.window.start_s, job.window.end_s
    inside = (job.stamps >= start - 1e-9) & (job.stamps <= end + 1e-9)
    if inside.sum() < 10:
        raise Gait2HipInputError(
            f"the cycle {start:.3f}–{end:.3f} s holds only {int(inside.sum())} samples.",
            file=file,
            column="time",
            fix="give kinematics sampled at ≥ 10 samples per cycle (IK is usually 60–200 Hz).",
        )
    return start, end, job.window.stride_s
