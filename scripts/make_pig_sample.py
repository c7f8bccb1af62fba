"""Make tests/data/pig_walk.c3d: the Plug-in Gait lower-limb angles and gait events of one walking trial.

Source: ``Input/C3DSamples/PiG/PiG_Motion-FlatFoot-Full.c3d`` of the Biomechanical ToolKit's test data
(https://github.com/Biomechanical-ToolKit/BTKData, commit 6aee093, BSD-style licence, © 2009-2013
Arnaud Barré; see tests/data/README.md). Vicon Nexus / Plug-in Gait output, 100 Hz, 315 frames.

Kept: the six points LHipAngles, LKneeAngles, LAnkleAngles, RHipAngles, RKneeAngles, RAnkleAngles
(values unchanged), the 12 Foot Strike / Foot Off events (unchanged) and the capture's first frame
(148), so the events keep their clock. Dropped: markers, other model outputs, analog channels.

    python scripts/make_pig_sample.py PATH/TO/PiG_Motion-FlatFoot-Full.c3d tests/data/pig_walk.c3d
"""

from __future__ import annotations

import struct
import sys

import ezc3d
import numpy as np

KEEP = ["LHipAngles", "LKneeAngles", "LAnkleAngles", "RHipAngles", "RKneeAngles", "RAnkleAngles"]


def main(source: str, out: str) -> None:
    c3d = ezc3d.c3d(source)
    labels = list(c3d["parameters"]["POINT"]["LABELS"]["value"])
    rate = float(c3d["parameters"]["POINT"]["RATE"]["value"][0])
    first = int(c3d["header"]["points"]["first_frame"]) + 1  # 1-based, as in the file's header
    last = int(c3d["header"]["points"]["last_frame"]) + 1
    new = ezc3d.c3d()
    new["parameters"]["POINT"]["RATE"]["value"] = [rate]
    new["parameters"]["POINT"]["LABELS"]["value"] = KEEP
    new.add_parameter("POINT", "ANGLE_UNITS", ["deg"])
    new["data"]["points"] = c3d["data"]["points"][:, [labels.index(k) for k in KEEP], :].copy()
    event = c3d["parameters"]["EVENT"]
    times = np.asarray(event["TIMES"]["value"], dtype=float)
    times = times if times.ndim == 2 else times.reshape(-1, 2).T  # (minutes, seconds) per event
    new.add_parameter("EVENT", "USED", [int(np.ravel(event["USED"]["value"])[0])])
    new.add_parameter("EVENT", "CONTEXTS", list(event["CONTEXTS"]["value"]))
    new.add_parameter("EVENT", "LABELS", list(event["LABELS"]["value"]))
    new.add_parameter("EVENT", "TIMES", times.tolist())
    new.add_parameter("TRIAL", "ACTUAL_START_FIELD", [first, 0])
    new.add_parameter("TRIAL", "ACTUAL_END_FIELD", [last, 0])
    new.write(out)
    # ezc3d writes first frame 1; put the capture's own frame numbers back into the header (words 4-5)
    with open(out, "r+b") as handle:
        handle.seek(6)
        handle.write(struct.pack("<HH", first, last))
    check = ezc3d.c3d(out)
    assert int(check["header"]["points"]["first_frame"]) + 1 == first
    assert np.array_equal(check["data"]["points"][:3], new["data"]["points"][:3], equal_nan=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
