"""Vicon C3D trials with Plug-in Gait model outputs → gait2hip's 10 angles and the lab's gait events.

Plug-in Gait writes each joint angle as a 3-component "point" (``LHipAngles``, ``RKneeAngles``, …,
optionally prefixed with the subject's name, ``Jane:LHipAngles``) in degrees, and the gait events
as ``Foot Strike`` / ``Foot Off`` with a ``Left`` / ``Right`` context.

The mapping is the convention adapter's :data:`gait2hip.data.conventions.PLUGIN_GAIT` (the
documented Plug-in Gait outputs: hip X flexion, Y adduction, Z internal rotation; knee X flexion;
ankle X dorsiflexion; the left side already anatomical — gait2hip's signs, no flip). On the shipped
BTK sample (tests/data/pig_walk.c3d) the mapped sagittal curves correlate with the OpenSim gait2392
example's IK cycles (tests/test_serve_c3d.py): evidence for the hip-flexion and knee channels on
real data; the ankle and the frontal/transverse hip channels are not confirmed by that comparison.

Before ezc3d sees a file its header is checked (:func:`gait2hip.io.c3d.check_c3d_header`): a file
that is not a C3D, or is shorter than its header says (a truncated upload), is refused with a
clear error instead of reaching the C++ reader. Used by ``gait2hip predict trial.c3d`` and by the
clinic service (:mod:`gait2hip.serve`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import INPUT_ANGLES

FIX_EXPORT = "export the trial from Nexus with the Plug-in Gait outputs (LHipAngles, RKneeAngles, …)."
PLUGIN_GAIT_POINTS = tuple(
    side + stem for side in "LR" for stem in ("HipAngles", "KneeAngles", "AnkleAngles")
)


def plugin_gait_angles(points: Mapping[str, np.ndarray], *, source: str | Path | None = None) -> pd.DataFrame:
    """gait2hip's 10 angles (columns ``INPUT_ANGLES``, degrees) from Plug-in Gait angle points.

    The convention adapter's :data:`~gait2hip.data.conventions.PLUGIN_GAIT` applied with
    :func:`~gait2hip.data.conventions.trial_angles` (both legs on the trial's own clock).

    Parameters
    ----------
    points
        Label without subject prefix (``RHipAngles``) → array [T, 3] or [3, T] (X, Y, Z) in degrees.
    """
    from gait2hip.data.conventions import PLUGIN_GAIT, joint_xyz, trial_angles

    xyz = {
        side: {
            joint: joint_xyz(points, side=side, joint=joint, convention=PLUGIN_GAIT, source=source)
            for joint in ("hip", "knee", "ankle")
        }
        for side in ("right", "left")
    }
    columns = trial_angles(xyz, convention=PLUGIN_GAIT, source=None if source is None else str(source))
    return pd.DataFrame({name: columns[name] for name in INPUT_ANGLES})


def gait_events(path: Path) -> dict[str, dict[str, np.ndarray]]:
    from gait2hip.io.c3d import read_c3d_events

    events: dict[str, dict[str, list[float]]] = {}
    for side, by_label in read_c3d_events(path).items():
        for label, times in by_label.items():
            text = label.strip().lower()
            kind = (
                "heel_strike" if "strike" in text else "toe_off" if text in ("foot off", "toe off") else None
            )
            if side in ("right", "left") and kind:
                events.setdefault(side, {}).setdefault(kind, []).extend(np.asarray(times).tolist())
    return {s: {k: np.unique(np.array(v)) for k, v in by.items()} for s, by in events.items()}
