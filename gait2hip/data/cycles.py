"""Gait events, gait-cycle segmentation and time normalisation.

A gait cycle runs from one heel strike to the next heel strike of the same foot and is
resampled to ``n_points`` (default 101: 0, 1, ..., 100 % of the cycle).

Heel strikes come from the ground reaction force when one is recorded:

* **GRF** (:func:`contact_events`): a foot is in contact while its vertical force exceeds a
  threshold (default 20 N, the value used in the OpenSim examples' READMEs). Crossing times
  are interpolated between samples; a hysteresis band and minimum stance / swing durations
  stop noise around the threshold from creating extra events. A contact already under way
  at the start of the record is not a heel strike.
* **Kinematics only** (:func:`heel_strikes_from_kinematics`): after Zeni, Richards &
  Higginson (2008), *Gait & Posture* 27:710–714, heel strike is the instant the foot is
  furthest in front of the pelvis. Without markers we estimate the foot's forward position
  relative to the hip from the sagittal angles with a two-segment leg of equal thigh and
  shank lengths (Winter's segment ratios are 0.245 / 0.246 of height):
  ``x ∝ sin(hip_flexion) + sin(hip_flexion − knee_flexion)`` and take its peaks. Pelvis tilt
  is not among the 10 inputs and is ignored. On the shared OpenSim examples the estimate
  falls 13–26 ms BEFORE the force-plate heel strike (6 events, 2 subjects; ≈1–2 % of the
  cycle), consistent with the foot's retraction just before contact; it is not corrected
  (see tests/test_data_cycles.py).
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError, NoUsableCycleError

Side = Literal["right", "left"]
SIDES: tuple[Side, Side] = ("right", "left")

#: Plausible stride durations (heel strike to heel strike of one foot), seconds. The release's
#: slowest metronome cadence, 78 steps/min, is a 1.54 s stride.
MIN_STRIDE_S = 0.6
MAX_STRIDE_S = 2.5


@dataclass(frozen=True)
class GaitCycle:
    """One gait cycle: heel strike ``start`` to the next heel strike ``end`` of ``side``."""

    side: Side
    start: float
    end: float
    method: str  # 'grf', 'kinematics' or 'lab events'

    @property
    def duration(self) -> float:
        return self.end - self.start


# ---------------------------------------------------------------------------- GRF events
def _crossing_time(time: np.ndarray, force: np.ndarray, i: int, level: float) -> float:
    """Time between samples i-1 and i where ``force`` crosses ``level`` (linear)."""
    f0, f1 = force[i - 1], force[i]
    if f1 == f0:
        return float(time[i])
    return float(time[i - 1] + (level - f0) / (f1 - f0) * (time[i] - time[i - 1]))


def contact_events(
    time: np.ndarray,
    vertical_force: np.ndarray,
    *,
    threshold: float = 20.0,
    hysteresis: float = 5.0,
    min_stance_s: float = 0.15,
    min_swing_s: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Heel strikes and toe-offs of one foot from its vertical ground reaction force.

    Parameters
    ----------
    time
        Sample times, s (strictly increasing).
    vertical_force
        The foot's vertical GRF, N (positive = loading).
    threshold
        Contact starts when the force rises above ``threshold``.
    hysteresis
        Contact ends when the force falls below ``threshold - hysteresis``.
    min_stance_s, min_swing_s
        Shorter contacts are dropped and shorter gaps closed (noise, not steps).

    Returns
    -------
    heel_strikes, toe_offs
        Event times in seconds. A contact under way at the first sample has no heel
        strike; one still under way at the last sample has no toe-off.
    """
    time = np.asarray(time, dtype=float)
    force = np.nan_to_num(np.asarray(vertical_force, dtype=float), nan=0.0)
    on_level, off_level = threshold, threshold - hysteresis
    intervals: list[list[float]] = []  # [start, end]; NaN where the record cuts it
    loaded = force[0] > on_level
    start = np.nan if loaded else None
    for i in range(1, len(force)):
        if not loaded and force[i] > on_level:
            loaded, start = True, _crossing_time(time, force, i, on_level)
        elif loaded and force[i] < off_level:
            loaded = False
            intervals.append([start, _crossing_time(time, force, i, off_level)])
    if loaded:
        intervals.append([start, np.nan])
    # Close short gaps (the foot did not really leave the ground), then drop short contacts.
    merged: list[list[float]] = []
    for interval in intervals:
        if merged and np.isfinite(merged[-1][1]) and interval[0] - merged[-1][1] < min_swing_s:
            merged[-1][1] = interval[1]
        else:
            merged.append(interval)
    kept = [
        iv
        for iv in merged
        if not (np.isfinite(iv[0]) and np.isfinite(iv[1]) and iv[1] - iv[0] < min_stance_s)
    ]
    heel_strikes = np.array([iv[0] for iv in kept if np.isfinite(iv[0])])
    toe_offs = np.array([iv[1] for iv in kept if np.isfinite(iv[1])])
    return heel_strikes, toe_offs


_SIDE_PATTERNS: dict[Side, tuple[str, ...]] = {
    "right": (
        r"^ground_force_r_vy$",
        r"^r_ground_force_vy$",
        r"^ground_force_vy_r$",
        r"^r_?grf_?y$",
        r"^fy_?r$",
    ),
    "left": (
        r"^ground_force_l_vy$",
        r"^l_ground_force_vy$",
        r"^ground_force_vy_l$",
        r"^l_?grf_?y$",
        r"^fy_?l$",
    ),
}


def _loads_columns(loads_xml: Path) -> dict[Side, str]:
    """Side → vertical-force column from an OpenSim ExternalLoads XML (calcn_r / calcn_l)."""
    try:
        root = ET.parse(loads_xml).getroot()
    except (ET.ParseError, OSError) as exc:
        raise Gait2HipInputError(f"cannot read the external loads XML ({exc}).", file=loads_xml) from None
    found: dict[Side, str] = {}
    for force in root.iter("ExternalForce"):
        body = (force.findtext("applied_to_body") or "").strip()
        identifier = (force.findtext("force_identifier") or "").strip()
        if not identifier:
            continue
        side: Side | None = "right" if body.endswith("_r") else "left" if body.endswith("_l") else None
        if side is not None:
            found[side] = identifier + "y"
    return found


def vertical_grf_columns(
    columns: list[str], *, file: str | Path | None = None, loads_xml: str | Path | None = None
) -> dict[Side, str]:
    """Which GRF column is each foot's vertical force.

    Uses the ExternalLoads XML when given (the authoritative OpenSim mapping: the force
    applied to ``calcn_r`` is the right foot), else the column names
    (``ground_force_r_vy``, ``r_ground_force_vy``, ...). y is vertical (OpenSim ground frame).

    Raises
    ------
    Gait2HipInputError
        When neither tells which column belongs to which foot (e.g. gait2392's
        ``ground_force_vy`` / ``1_ground_force_vy`` without its XML).
    """
    found: dict[Side, str] = {}
    if loads_xml is not None:
        found = _loads_columns(Path(loads_xml))
        for side, column in found.items():
            if column not in columns:
                raise Gait2HipInputError(
                    f"the external loads XML {loads_xml} names '{column}' for the {side} foot, "
                    "but the GRF file has no such column.",
                    file=file,
                    column=column,
                    fix="use the XML that belongs to this GRF file.",
                )
    for side in SIDES:
        if side in found:
            continue
        for pattern in _SIDE_PATTERNS[side]:
            match = next((c for c in columns if re.match(pattern, c.strip(), re.I)), None)
            if match is not None:
                found[side] = match
                break
    if not found:
        candidates = [c for c in columns if c.lower().endswith("vy")]
        raise Gait2HipInputError(
            "cannot tell which vertical-force column belongs to which foot"
            + (f" (vertical columns: {candidates})." if candidates else "."),
            file=file,
            column=candidates[0] if candidates else None,
            fix="name the columns ground_force_r_vy / ground_force_l_vy, or give the ExternalLoads XML "
            "(the 'loads' column of the manifest) that applies each force to calcn_r / calcn_l.",
        )
    return found


def heel_strikes_from_grf(
    grf: pd.DataFrame,
    *,
    file: str | Path | None = None,
    loads_xml: str | Path | None = None,
    threshold: float = 20.0,
) -> dict[Side, np.ndarray]:
    """Heel-strike times per foot from a GRF table indexed by time (``read_storage(...).data``)."""
    columns = vertical_grf_columns([str(c) for c in grf.columns], file=file, loads_xml=loads_xml)
    time = grf.index.to_numpy(dtype=float)
    events: dict[Side, np.ndarray] = {}
    for side, column in columns.items():
        force = grf[column].to_numpy(dtype=float)
        if np.nanmax(np.abs(force)) > 0 and np.nanmedian(force[np.abs(force) > threshold]) < 0:
            force = -force  # some labs record the vertical reaction as negative
        events[side] = contact_events(time, force, threshold=threshold)[0]
    return events


def grf_support_fraction(
    grf: pd.DataFrame,
    cycle: GaitCycle,
    *,
    mass_kg: float,
    file: str | Path | None = None,
    loads_xml: str | Path | None = None,
) -> float:
    """Lowest total vertical GRF (both feet) over ``cycle``, as a fraction of body weight.

    Walking has no flight phase, so the measured total stays near body weight (≈0.7–1.3 ×
    BW) throughout a cycle when every contact is on a force plate. A value far below that
    means a foot stood OFF the plates for part of the cycle, and inverse dynamics (and any
    muscle forces computed from it) are wrong there. On the shared examples: gait2392 right
    cycle 0.80, Rajagopal left cycle 0.74, Rajagopal right cycle 0.02 (left foot off-plate).
    """
    columns = vertical_grf_columns([str(c) for c in grf.columns], file=file, loads_xml=loads_xml)
    if set(columns) != set(SIDES):
        return float("nan")
    inside = (grf.index >= cycle.start) & (grf.index <= cycle.end)
    total = sum(np.abs(grf.loc[inside, columns[side]].to_numpy(dtype=float)) for side in SIDES)
    if not np.size(total):
        return float("nan")
    return float(np.nanmin(total) / (mass_kg * 9.81))


# ---------------------------------------------------------------------- kinematic events
def foot_forward_position(angles_deg: pd.DataFrame, *, side: Side) -> np.ndarray:
    """Forward position of the foot relative to the hip, in leg lengths (two equal segments).

    ``angles_deg`` holds gait2hip angles (degrees, knee flexion positive).
    """
    suffix = "_r" if side == "right" else "_l"
    hip = np.radians(angles_deg[f"hip_flexion{suffix}"].to_numpy(dtype=float))
    knee = np.radians(angles_deg[f"knee_angle{suffix}"].to_numpy(dtype=float))
    return 0.5 * (np.sin(hip) + np.sin(hip - knee))


def heel_strikes_from_kinematics(
    angles_deg: pd.DataFrame, *, side: Side, min_stride_s: float = MIN_STRIDE_S, cutoff_hz: float = 6.0
) -> np.ndarray:
    """Heel-strike times of one foot from joint angles alone (Zeni et al. 2008 style).

    Heel strike = a peak of :func:`foot_forward_position` (foot furthest in front of the
    pelvis), after a 6 Hz zero-lag low-pass. Peaks must lie in the upper half of the signal's
    range, be at least ``0.7·min_stride_s`` apart and be separated by a fall of a third of
    the range; a peak on the first or last sample is not an event.

    Parameters
    ----------
    angles_deg
        Table indexed by time (s) with gait2hip angles in degrees (see ``angles_from_table``).
    side
        'right' or 'left'.
    """
    from scipy import signal  # lazy: scipy.signal takes seconds to import

    time = angles_deg.index.to_numpy(dtype=float)
    x = foot_forward_position(angles_deg, side=side)
    if len(time) < 4:
        return np.array([])
    dt = float(np.median(np.diff(time)))
    fs = 1.0 / dt
    if fs > 2.5 * cutoff_hz and len(x) > 15:
        b, a = signal.butter(2, cutoff_hz / (fs / 2))
        x = signal.filtfilt(b, a, x, padlen=min(len(x) - 1, 3 * max(len(a), len(b))))
    distance = max(1, round(0.7 * min_stride_s / dt))
    span = float(np.ptp(x))
    # Heights, not prominences: a heel strike a few samples into the record is a genuine peak
    # whose left flank is cut off, so its prominence is small but its height is not.
    candidates, _ = signal.find_peaks(x, distance=distance, height=float(np.min(x)) + 0.5 * span)
    peaks: list[int] = []
    for p in candidates:  # successive strikes need the foot to travel back in between
        if peaks and float(np.min(x[peaks[-1] : p + 1])) > max(x[peaks[-1]], x[p]) - span / 3:
            if x[p] > x[peaks[-1]]:
                peaks[-1] = p
            continue
        peaks.append(p)
    events = []
    for p in peaks:
        if 0 < p < len(x) - 1:  # parabolic refinement of the peak time
            y0, y1, y2 = x[p - 1], x[p], x[p + 1]
            denom = y0 - 2 * y1 + y2
            offset = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
            events.append(time[p] + float(np.clip(offset, -1, 1)) * dt)
    return np.array(events)


# --------------------------------------------------------------------------- cycles
def cycles_from_heel_strikes(
    heel_strikes: np.ndarray,
    *,
    side: Side,
    method: str,
    t_min: float = -np.inf,
    t_max: float = np.inf,
    min_stride_s: float = MIN_STRIDE_S,
    max_stride_s: float = MAX_STRIDE_S,
) -> list[GaitCycle]:
    """Consecutive heel strikes of one foot → cycles inside [t_min, t_max] with a plausible stride."""
    strikes = np.sort(np.asarray(heel_strikes, dtype=float))
    cycles = []
    for start, end in itertools.pairwise(strikes):
        if start >= t_min - 1e-9 and end <= t_max + 1e-9 and min_stride_s <= end - start <= max_stride_s:
            cycles.append(GaitCycle(side=side, start=float(start), end=float(end), method=method))
    return cycles


def find_cycles(
    angles_deg: pd.DataFrame,
    *,
    grf: pd.DataFrame | None = None,
    sides: tuple[Side, ...] = SIDES,
    file: str | Path | None = None,
    grf_file: str | Path | None = None,
    loads_xml: str | Path | None = None,
    t_min: float | None = None,
    t_max: float | None = None,
    threshold: float = 20.0,
    heel_strikes: dict[Side, np.ndarray] | None = None,
    events_file: str | Path | None = None,
) -> list[GaitCycle]:
    """Every complete gait cycle of the requested feet inside the kinematics (and [t_min, t_max]).

    Heel strikes are, in order of preference: ``heel_strikes`` given by the caller (e.g. the
    lab's own events from a C3D, ``events_file`` naming their source), the ``grf`` vertical
    force (only inside the GRF's time span), or the kinematics.

    Raises
    ------
    Gait2HipInputError
        No heel strike found, or the trial is too short to hold one complete cycle.
    """
    time = angles_deg.index.to_numpy(dtype=float)
    lo = max(time[0], t_min if t_min is not None else -np.inf)
    hi = min(time[-1], t_max if t_max is not None else np.inf)
    column = None
    if heel_strikes is not None:
        strikes = {side: np.asarray(times, dtype=float) for side, times in heel_strikes.items()}
        method, source = "lab events", events_file
    elif grf is not None:
        strikes = heel_strikes_from_grf(grf, file=grf_file, loads_xml=loads_xml, threshold=threshold)
        grf_columns = vertical_grf_columns([str(c) for c in grf.columns], file=grf_file, loads_xml=loads_xml)
        column = next((grf_columns[s] for s in sides if s in grf_columns), None)
        method, source = "grf", grf_file
    else:
        strikes = {side: heel_strikes_from_kinematics(angles_deg, side=side) for side in sides}
        method, source = "kinematics", file
    strikes = {side: s for side, s in strikes.items() if side in sides}
    if not any(len(s) for s in strikes.values()):
        what = {
            "grf": f"the vertical GRF never rises above {threshold:g} N after being below it",
            "lab events": "the given events hold no heel strike of the requested side(s)",
            "kinematics": "the foot never swings forward and back (no peak of hip/knee-based foot position)",
        }[method]
        raise Gait2HipInputError(
            f"no heel strike found: {what}.",
            file=source,
            column=column,
            fix="check the trial is walking with at least one full stride; for GRF check the units (N) and "
            "the vertical axis (y).",
        )
    cycles = [
        cycle
        for side, events in strikes.items()
        for cycle in cycles_from_heel_strikes(events, side=side, method=method, t_min=lo, t_max=hi)
    ]
    if not cycles:
        listing = "; ".join(f"{side}: {np.round(s, 3).tolist()}" for side, s in strikes.items())
        raise NoUsableCycleError(
            f"the trial is too short for one complete gait cycle: it spans {lo:.3f}–{hi:.3f} s and the "
            f"heel strikes ({method}) are {listing} — no two strikes of one foot "
            f"{MIN_STRIDE_S}–{MAX_STRIDE_S} s apart lie inside it.",
            file=file,
            fix="give a trial covering at least one heel strike to the next heel strike of the same foot, "
            "or give the cycle window explicitly.",
        )
    return sorted(cycles, key=lambda c: (c.start, c.side))


# ------------------------------------------------------------------ time normalisation
def time_normalize(
    time: np.ndarray,
    values: np.ndarray,
    t0: float,
    t1: float,
    n_points: int = 101,
    *,
    file: str | Path | None = None,
) -> np.ndarray:
    """Resample ``values`` over [t0, t1] to ``n_points`` equally spaced points (cubic spline).

    Parameters
    ----------
    time
        Sample times [T], strictly increasing.
    values
        Samples [T] or [T, D].
    t0, t1
        The window, usually heel strike → next heel strike; must lie inside ``time``
        (half a sample of tolerance).
    n_points
        Points in the output (101 = every 1 % of the cycle).

    Returns
    -------
    numpy.ndarray
        [n_points] or [n_points, D].
    """
    time = np.asarray(time, dtype=float)
    values = np.asarray(values, dtype=float)
    if n_points < 2:
        raise ValueError("n_points must be at least 2")
    if not t1 > t0:
        raise Gait2HipInputError(f"empty window {t0}–{t1} s.", file=file, fix="give start < end.")
    if len(time) < 4 or not np.all(np.diff(time) > 0):
        raise Gait2HipInputError(
            "time must be strictly increasing with at least 4 samples.", file=file, column="time"
        )
    half = 0.5 * float(np.median(np.diff(time)))
    if t0 < time[0] - half or t1 > time[-1] + half:
        raise Gait2HipInputError(
            f"the window {t0:.3f}–{t1:.3f} s is outside the data ({time[0]:.3f}–{time[-1]:.3f} s).",
            file=file,
            column="time",
            fix="choose cycles inside the recorded time span of every file of the trial.",
        )
    from scipy.interpolate import CubicSpline

    margin = 8 * half  # four samples either side keep the spline's ends well conditioned
    inside = (time >= t0 - margin) & (time <= t1 + margin)
    spline = CubicSpline(time[inside], values[inside], axis=0)
    return spline(np.linspace(t0, t1, n_points))
