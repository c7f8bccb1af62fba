"""The mean-curve baseline: per-cadence mean of the training cycles, nearest cadence otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gait2hip.data.dataset import GaitDataset
from gait2hip.evaluate.baseline import MeanCurveBaseline


def _data(values, labels, stride=None):
    n = len(values)
    Y = np.asarray(values, dtype=np.float32).reshape(n, 1, 1) * np.ones((1, 3, 1), np.float32)
    meta = pd.DataFrame(
        {
            "subject_id": [f"S{i}" for i in range(n)],
            "mass_kg": 70.0,
            "cadence_label": labels,
            "stride_time_s": stride if stride is not None else np.nan,
        }
    )
    return GaitDataset(
        X=np.zeros((n, 3, 1)),
        Y=Y,
        input_columns=("a",),
        target_columns=("glmax_r",),
        input_units=("deg",),
        target_units=("N/kg",),
        meta=meta,
    )


def test_mean_curve_per_cadence_and_fallbacks():
    baseline = MeanCurveBaseline.fit(_data([1, 3, 10], ["slow", "slow", "fast"]))
    pred = baseline.predict(_data([0, 0, 0, 0], ["slow", "fast", "", "med"], stride=[1.5, 0.9, 0.88, np.nan]))
    np.testing.assert_allclose(pred[:, 0, 0], [2.0, 10.0, 10.0, 14 / 3])
    # '' with stride 0.88 s → 136 steps/min → nearest trained cadence 'fast';
    # 'med' was not trained and has no stride → the overall mean curve
