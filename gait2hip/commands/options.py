"""Option choices of the ``gait2hip`` commands, as enums Typer validates before a command runs.

Light on purpose (no numpy, torch or OpenSim): ``cli.py`` imports it at start-up.
"""

from __future__ import annotations

import enum


class Side(enum.StrEnum):
    """The leg whose cycles a lab folder gives."""

    right = "right"
    left = "left"


class Hips(enum.StrEnum):
    """The hips whose targets a lab folder gives."""

    own = "own"
    both = "both"


class Solver(enum.StrEnum):
    """Static-optimisation solver (see :mod:`gait2hip.sim.static_optimization`)."""

    default = "default"
    fast = "fast"
    opensim = "opensim"


class PredictSide(enum.StrEnum):
    """The leg(s) whose cycles are predicted."""

    right = "right"
    left = "left"
    both = "both"


class ExportFormat(enum.StrEnum):
    """What ``gait2hip export`` writes."""

    onnx = "onnx"
    zip = "zip"
