"""A smooth whole-body centre of mass for generated walks — measured, NOT used by generator 2.0.0.

The generator combines group-mean curves: the pelvis translations of van der Zee et al. (2022)
and every joint angle, each a Fourier series. The whole-body centre of mass (CoM) that the
model's segment masses make of them is not the CoM of any walking person: small mismatches
between the curves leave it wobbling several times per stride, and since the total ground
reaction is body mass times the CoM acceleration, the synthesised GRF wobbles too — for the
group-mean walk at 115 steps/min the fore-aft force runs −0.15, +0.02, +0.02, −0.06, +0.07 BW
between 22 and 38 % of the cycle (every 4 %), where measured fore-aft forces pass once from braking to
propulsion (both OpenSim example walks: 4 sign changes per stride), and the zero-moment point
jumps by 12–15 cm along the stance foot within 4 % of the cycle (24 → 28 → 32 %). That is the mid-stance
wobble of the cohort's mean hip moments.

:func:`smooth_mass_centre` keeps every joint angle and moves only the pelvis translations so
that the CoM follows its own low-passed path (second-order Butterworth, zero-phase, 6 Hz, the
linear progression taken out first; SMOOTHED_AXES fore-aft and medio-lateral). Measured on six
subjects × 3 cadences × 3 cycles (seed 2026, realism gate): the fore-aft force becomes one
smooth wave, hip adduction-moment RMSE vs van der Zee 0.136/0.183/0.267 → 0.137/0.167/0.241
N m/kg (slow/med/fast) and vs Fukuchi 0.103/0.150/0.207 → 0.105/0.136/0.173, flexion about
unchanged — but at 135 steps/min 14 of 18 cycles fail QA (more than 20 saturated hip muscles;
6 of 18 without it), because those cycles already sit at 15–20 saturated muscles. So the
generator does not call it until the fast condition's muscle demand is dealt with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import butter, filtfilt

from gait2hip.sim.opensim_env import load_model

COM_CUTOFF_HZ = 6.0
PELVIS_TRANSLATIONS = ("pelvis_tx", "pelvis_ty", "pelvis_tz")
#: Axes whose centre-of-mass path is smoothed (fore-aft and medio-lateral).
SMOOTHED_AXES = ("pelvis_tx", "pelvis_tz")


def mass_centre_offset(model: Any, coordinates: pd.DataFrame) -> np.ndarray:
    """Whole-body centre of mass relative to the pelvis origin, in ground, [T, 3] (m)."""
    model = load_model(model)
    state = model.initSystem()
    coord_set = model.getCoordinateSet()
    names = [n for n in coordinates.columns if coord_set.contains(n)]
    handles = [coord_set.get(n) for n in names]
    values = coordinates[names].to_numpy(dtype=float)
    pelvis = [names.index(n) for n in PELVIS_TRANSLATIONS]
    out = np.zeros((len(values), 3))
    for i, row in enumerate(values):
        for handle, value in zip(handles, row, strict=True):
            handle.setValue(state, float(value), False)
        model.realizePosition(state)
        com = model.calcMassCenterPosition(state)
        out[i] = [com.get(k) - row[pelvis[k]] for k in range(3)]
    return out


def smooth_mass_centre(
    model: Any, coordinates: pd.DataFrame, *, cutoff_hz: float = COM_CUTOFF_HZ
) -> pd.DataFrame:
    """Coordinates (radians / metres, indexed by time) with the pelvis translations moved so
    that the whole-body centre of mass follows its own low-passed path; joint angles unchanged.

    Parameters
    ----------
    model
        The subject's scaled model (path or ``opensim.Model``).
    coordinates
        Complete coordinate table, e.g. from :func:`gait2hip.sim.opensim_env.coordinate_table`.
    cutoff_hz
        Cut-off of the zero-phase second-order Butterworth low-pass.
    """
    time = coordinates.index.to_numpy(dtype=float)
    rate = 1.0 / float(np.median(np.diff(time)))
    b, a = butter(2, cutoff_hz / (rate / 2))
    offset = mass_centre_offset(model, coordinates)
    out = coordinates.copy()
    for k, name in enumerate(PELVIS_TRANSLATIONS):
        if name not in SMOOTHED_AXES:
            continue
        com = coordinates[name].to_numpy(dtype=float) + offset[:, k]
        trend = np.polyval(np.polyfit(time, com, 1), time)
        smooth = filtfilt(b, a, com - trend) + trend
        out[name] = coordinates[name].to_numpy(dtype=float) + (smooth - com)
    return out
