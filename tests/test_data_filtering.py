"""Low-pass filter of the angles: passes gait, removes noise, no lag, refuses impossible cut-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.filtering import lowpass_angles
from gait2hip.errors import Gait2HipInputError


def test_noise_removed_gait_kept_without_lag():
    time = np.arange(0, 3, 0.01)  # 100 Hz
    gait = 20 * np.sin(2 * np.pi * 0.9 * time)  # a 0.9 Hz stride
    noise = 2 * np.sin(2 * np.pi * 30 * time)  # 30 Hz jitter
    table = pd.DataFrame({"hip_flexion_r": gait + noise}, index=time)
    filtered = lowpass_angles(table, cutoff_hz=6)["hip_flexion_r"].to_numpy()
    middle = slice(50, -50)
    assert np.max(np.abs(filtered[middle] - gait[middle])) < 0.3  # noise 2° → < 0.3°, no phase lag
    assert np.argmax(filtered[:112]) == np.argmax(gait[:112])


@pytest.mark.parametrize("cutoff", [0, -1, 60])
def test_impossible_cutoff_is_refused(cutoff):
    table = pd.DataFrame({"x": np.zeros(100)}, index=np.arange(100) * 0.01)
    with pytest.raises(Gait2HipInputError, match="below half the sampling rate"):
        lowpass_angles(table, cutoff_hz=cutoff)
