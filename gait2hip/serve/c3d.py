"""Vicon C3D with Plug-in Gait model outputs → gait2hip's 10 angles (placeholder until the C3D step)."""

from __future__ import annotations

from pathlib import Path

from gait2hip.errors import Gait2HipInputError


def read_plugin_gait(path: str | Path):
    raise Gait2HipInputError("C3D input is not supported yet.", file=path, fix="upload the IK .mot.")
