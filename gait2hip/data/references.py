"""OpenSim-convention reference curves from the shared folder, for checking lab conventions.

* :func:`vanderzee_curves`: van der Zee, Mundinger & Kuo (2022) group-mean OpenSim IK / ID of
  treadmill walking at 0.7, 1.1, 1.4 and 1.8 m/s (``shared/reference/vanderzee2022``), one
  RIGHT cycle at 101 points, angles in degrees, moments in Nm/kg (the files store them
  divided by m·g·L; multiplied back by g·L here, L = their ``leglength``).
* :func:`example_trial_curves`: the right gait cycle of the two OpenSim example trials that
  ship IK and ID results (``opensim-examples/gait2392-subject01``: IK .mot + the reference
  ID output, which covers only 0.40–1.60 s, so the moments are NaN over the rest of the
  cycle; ``moco-3d-walking``: coordinates + id_walk.sto re-assembled by phase into one
  cycle, as in ``gait2hip.evaluate.realtrials``). ``rajagopal-walk`` is the same subject and
  trial as ``moco-3d-walking`` and ships no IK / ID output, so it adds nothing here.

Every curve is keyed by the side-neutral gait2hip names of
:mod:`gait2hip.data.conventions` (``hip_flexion``, ..., ``hip_flexion_moment``), right leg.
No OpenSim is needed.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from gait2hip.data.conventions import HIP_MOMENTS, LEG_ANGLES
from gait2hip.data.dataset import GRAVITY
from gait2hip.errors import Gait2HipInputError

VANDERZEE_SPEEDS: dict[float, str] = {0.7: "0p7", 1.1: "1p1", 1.4: "1p4", 1.8: "1p8"}
#: Body masses stated in the example trials' READMEs, kg.
EXAMPLE_MASS_KG = {"gait2392-subject01": 72.6, "moco-3d-walking": 85.27}


def _periodic_101(values: np.ndarray) -> np.ndarray:
    """100 samples at 0..99 % → 101 points at 0..100 % (100 % = the next cycle's 0 %)."""
    return np.concatenate([values, values[:1]], axis=0)


def read_vanderzee(folder: str | Path, *, speed: float) -> tuple[dict, Path]:
    """The stored record of one van der Zee speed (0.7, 1.1, 1.4 or 1.8 m/s) and its path.

    The one reader of ``vanderzee2022_<speed>ms.json`` (also behind
    :func:`gait2hip.sim.normative.load_vanderzee`). Moments are stored divided by m·g·L, forces
    by m·g: multiply by ``GRAVITY * record['leglength']`` or ``GRAVITY``.
    """
    if speed not in VANDERZEE_SPEEDS:
        raise Gait2HipInputError(
            f"no van der Zee file for {speed} m/s.", fix=f"use one of {sorted(VANDERZEE_SPEEDS)} m/s."
        )
    path = Path(folder) / f"vanderzee2022_{VANDERZEE_SPEEDS[speed]}ms.json"
    if not path.is_file():
        raise Gait2HipInputError(
            "reference file not found.",
            file=path,
            fix="point --shared / GAIT2HIP_SHARED at the shared folder with reference/vanderzee2022.",
        )
    with open(path) as handle:
        return json.load(handle), path


def vanderzee_curves(folder: str | Path, *, speed: float) -> dict[str, np.ndarray]:
    """Right-leg reference curves at one van der Zee speed (0.7, 1.1, 1.4 or 1.8 m/s).

    Returns ``LEG_ANGLES`` (deg) and ``HIP_MOMENTS`` (Nm/kg) at 101 points, plus
    ``vgrf_right`` / ``vgrf_left`` (body weights) and scalars ``speed_m_s``,
    ``stance_percent`` (right stance, % of the cycle) and ``left_heel_strike_percent``
    (measured simultaneously on the treadmill), each as a 0-d array.
    """
    raw, path = read_vanderzee(folder, speed=speed)
    header = list(raw["ik_header"])
    ik = np.asarray(raw["ik"], dtype=float)
    ident = np.asarray(raw["id"], dtype=float)
    grf = np.asarray(raw["grf"], dtype=float)
    scale = GRAVITY * float(raw["leglength"])
    out: dict[str, np.ndarray] = {}
    for name in LEG_ANGLES:
        column = name + "_r"
        if column not in header:
            raise Gait2HipInputError("coordinate missing.", file=path, column=column)
        out[name] = _periodic_101(np.degrees(ik[:, header.index(column)]))
    for name in HIP_MOMENTS:
        column = name.replace("_moment", "_r")
        out[name] = _periodic_101(ident[:, header.index(column)] * scale)
    out["vgrf_right"] = _periodic_101(grf[:, 2])
    out["vgrf_left"] = _periodic_101(grf[:, 5])
    out["speed_m_s"] = np.array(float(raw["speed"]))
    out["stance_percent"] = np.array(stance_percent(out["vgrf_right"], threshold=0.02))
    out["left_heel_strike_percent"] = np.array(heel_strike_percent(out["vgrf_left"], threshold=0.02))
    return out


def stance_percent(vgrf: np.ndarray, *, threshold: float) -> float:
    """Toe-off of a foot whose cycle starts at its heel strike: first fall below ``threshold``
    after 20 % of the cycle, linearly interpolated, in % (vgrf on a 0–100 % grid)."""
    force = np.asarray(vgrf, dtype=float)
    grid = np.linspace(0.0, 100.0, len(force))
    start = int(np.searchsorted(grid, 20.0))
    below = np.flatnonzero(force[start:] < threshold)
    if below.size == 0:
        return float("nan")
    i = start + int(below[0])
    f0, f1 = force[i - 1], force[i]
    return float(grid[i - 1] + (f0 - threshold) / (f0 - f1) * (grid[i] - grid[i - 1]))


def heel_strike_percent(vgrf: np.ndarray, *, threshold: float) -> float:
    """First rise above ``threshold`` after a swing (a run below it), linearly interpolated, %."""
    force = np.asarray(vgrf, dtype=float)
    grid = np.linspace(0.0, 100.0, len(force))
    swing = np.flatnonzero(force < threshold)
    if swing.size == 0:
        return float("nan")
    rise = np.flatnonzero(force[swing[0] :] >= threshold)
    if rise.size == 0:
        return float("nan")
    i = swing[0] + int(rise[0])
    f0, f1 = force[i - 1], force[i]
    return float(grid[i - 1] + (threshold - f0) / (f1 - f0) * (grid[i] - grid[i - 1]))


def _on_cycle(time: np.ndarray, values: np.ndarray, start: float, end: float, n_points: int) -> np.ndarray:
    """Linear resampling onto the cycle's grid; NaN where the data do not reach."""
    grid = np.linspace(start, end, n_points)
    out = np.full((n_points, values.shape[1]), np.nan)
    inside = (grid >= time[0]) & (grid <= time[-1])
    for j in range(values.shape[1]):
        out[inside, j] = np.interp(grid[inside], time, values[:, j])
    return out


def _by_phase(
    time: np.ndarray, values: np.ndarray, *, heel_strike: float, stride: float, start: float, n_points: int
) -> np.ndarray:
    inside = (time >= start) & (time < start + stride)
    phase = np.mod((time[inside] - heel_strike) / stride, 1.0)
    order = np.argsort(phase)
    phase, samples = phase[order], values[inside][order]
    phase = np.concatenate([phase[-1:] - 1.0, phase, phase[:1] + 1.0])
    samples = np.concatenate([samples[-1:], samples, samples[:1]])
    grid = np.linspace(0.0, 1.0, n_points)
    return np.stack([np.interp(grid, phase, samples[:, j]) for j in range(samples.shape[1])], axis=1)


def _pack(angles: np.ndarray, moments: np.ndarray, *, mass: float, stride: float) -> dict[str, np.ndarray]:
    out = {name: angles[:, i] for i, name in enumerate(LEG_ANGLES)}
    out.update({name: moments[:, i] / mass for i, name in enumerate(HIP_MOMENTS)})
    out["stride_s"] = np.array(stride)
    out["mass_kg"] = np.array(mass)
    return out


def gait2392_angles(folder: Path):
    """The gait2392 example's IK angles in gait2hip's convention (degrees; its negative knee flexion
    flipped, the expected warning about it silenced)."""
    from gait2hip.data.angles import angles_from_table
    from gait2hip.io.opensim import read_storage

    ik = read_storage(Path(folder) / "subject01_walk1_ik.mot")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the knee-sign flip is expected for gait2392
        angles = angles_from_table(
            ik.data, in_degrees=ik.header.in_degrees, file=ik.path, knee_flexion_sign="negative"
        )
    return angles


def example_trial_curves(shared: str | Path, *, n_points: int = 101) -> dict[str, dict[str, np.ndarray]]:
    """Right-cycle curves of the OpenSim example trials with IK and ID results (see the module doc).

    Returns trial name → ``LEG_ANGLES`` (deg, OpenSim signs, knee flexion positive) and
    ``HIP_MOMENTS`` (Nm/kg; NaN where the trial's ID output does not reach), plus
    ``stride_s`` and ``mass_kg``. A trial whose files are missing is left out.
    """
    from gait2hip.data.angles import angles_from_table
    from gait2hip.data.cycles import find_cycles, heel_strikes_from_grf
    from gait2hip.io.opensim import read_storage

    examples = Path(shared) / "opensim-examples"
    right = [n + "_r" for n in LEG_ANGLES]
    moments = [n.replace("_moment", "_r_moment") for n in HIP_MOMENTS]
    out: dict[str, dict[str, np.ndarray]] = {}
    folder = examples / "gait2392-subject01"
    if (folder / "subject01_walk1_ik.mot").is_file():
        angles = gait2392_angles(folder)
        grf = read_storage(folder / "subject01_walk1_grf.mot")
        ident = read_storage(folder / "OutputReference/ResultsInverseDynamics/InverseDynamicsOutput.sto")
        cycle = find_cycles(
            angles,
            grf=grf.data,
            sides=("right",),
            grf_file=grf.path,
            loads_xml=folder / "subject01_walk1_grf.xml",
        )[0]
        a = _on_cycle(angles.index.to_numpy(), angles[right].to_numpy(), cycle.start, cycle.end, n_points)
        m = _on_cycle(ident.time, ident.data[moments].to_numpy(), cycle.start, cycle.end, n_points)
        out["gait2392-subject01"] = _pack(
            a, m, mass=EXAMPLE_MASS_KG["gait2392-subject01"], stride=cycle.duration
        )
    folder = examples / "moco-3d-walking"
    if (folder / "coordinates.sto").is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coords = read_storage(folder / "coordinates.sto")
            angles = angles_from_table(coords.data, in_degrees=coords.header.in_degrees, file=coords.path)
        grf = read_storage(folder / "grf_walk.mot")
        strikes = heel_strikes_from_grf(grf.data, file=grf.path, loads_xml=folder / "grf_walk.xml")["right"]
        heel_strike, stride = float(strikes[0]), float(strikes[1] - strikes[0])
        ident = read_storage(folder / "id_walk.sto")
        common = dict(heel_strike=heel_strike, stride=stride, start=float(coords.time[0]), n_points=n_points)
        a = _by_phase(coords.time, angles[right].to_numpy(), **common)
        m = _by_phase(ident.time, ident.data[moments].to_numpy(), **common)
        out["moco-3d-walking"] = _pack(a, m, mass=EXAMPLE_MASS_KG["moco-3d-walking"], stride=stride)
    return out
