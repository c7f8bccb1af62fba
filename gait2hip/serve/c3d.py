"""Vicon C3D trials with Plug-in Gait outputs, for the clinic service.

The reading lives in :mod:`gait2hip.io.c3d` (header check, points, events) and
:mod:`gait2hip.data.plugin_gait` (the 10 angles and the gait events), shared with
``gait2hip predict trial.c3d``; these names stay importable from here.
"""

from __future__ import annotations

from gait2hip.data.angles import read_plugin_gait
from gait2hip.data.plugin_gait import plugin_gait_angles
from gait2hip.io.c3d import check_c3d_header

__all__ = ["check_c3d_header", "plugin_gait_angles", "read_plugin_gait"]
