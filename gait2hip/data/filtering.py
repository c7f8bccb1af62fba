"""Low-pass filtering of joint angles before they are cut into gait cycles.

A zero-lag Butterworth filter (2nd order, run forwards and backwards: 4th-order roll-off,
no phase shift), as commonly applied to marker-based kinematics; the first and last samples
are padded by reflection so the ends do not swing. ``gait2hip predict`` filters only when asked
(``--lowpass HZ``): the models were trained on unfiltered coordinates, gait2hip's labelling runs
inverse dynamics without a filter (as OpenSim's rajagopal-walk ID setup does), and OpenSim's
gait2392 example filters its coordinates at 6 Hz for inverse dynamics — the value to use for
noisy IK from markers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError


def lowpass_angles(table: pd.DataFrame, *, cutoff_hz: float, file=None) -> pd.DataFrame:
    """``table`` (indexed by time in s, evenly sampled) low-passed at ``cutoff_hz``, same shape.

    Raises
    ------
    Gait2HipInputError
        A cut-off that is not positive or not below the Nyquist frequency, or a trial too
        short (fewer than 16 samples) to filter.
    """
    from scipy import signal

    time = table.index.to_numpy(dtype=float)
    if len(time) < 16:
        raise Gait2HipInputError("too few samples to low-pass filter (need 16).", file=file, column="time")
    rate = 1.0 / float(np.median(np.diff(time)))
    if not (0 < cutoff_hz < 0.5 * rate):
        raise Gait2HipInputError(
            f"low-pass cut-off {cutoff_hz:g} Hz must be above 0 and below half the sampling rate "
            f"({0.5 * rate:.1f} Hz).",
            file=file,
            column="time",
            fix="use e.g. --lowpass 6 (Hz), or leave the option out for no filter.",
        )
    b, a = signal.butter(2, cutoff_hz / (0.5 * rate))
    values = signal.filtfilt(b, a, table.to_numpy(dtype=float), axis=0, padtype="even")
    return pd.DataFrame(values, index=table.index, columns=table.columns)
