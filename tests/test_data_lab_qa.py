"""The labelling's quality record of a lab folder (gait2hip.data.lab_qa): flagged cycles are dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gait2hip.data.lab_qa import drop_qa_flagged


def test_qa_csv_flagging_one_of_two_cycles_drops_exactly_that_one(tmp_path):
    rows = [
        dict(trial_id="walk1_R1", side="right", source="walk1_ik.mot [0.500-1.600 s, events: grf]"),
        dict(trial_id="walk1_R2", side="right", source="walk1_ik.mot [1.600-2.700 s, events: grf]"),
    ]
    X = np.stack([np.zeros((5, 2)), np.ones((5, 2))])
    Y = np.stack([np.zeros((5, 1)), np.ones((5, 1))])
    pd.DataFrame(
        [
            dict(trial_id="walk1_R1", side="right", start_s=0.5, flagged=False),
            dict(trial_id="walk1_R2", side="right", start_s=1.6, flagged=True),
            dict(trial_id="walk1_L1", side="left", start_s=1.6, flagged=True),  # other side: no match
        ]
    ).to_csv(tmp_path / "qa.csv", index=False)
    X2, Y2, rows2, dropped = drop_qa_flagged(tmp_path, X, Y, rows, True)
    assert dropped == 1
    assert [r["trial_id"] for r in rows2] == ["walk1_R1"]
    assert X2.shape == (1, 5, 2) and np.all(X2 == 0) and np.all(Y2 == 0)
    # respect_qa=False keeps both
    assert drop_qa_flagged(tmp_path, X, Y, rows, False)[3] == 0
