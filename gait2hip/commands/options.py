"""Option choices of the ``gait2hip`` commands, as enums Typer validates before a command runs.

Light on purpose (no numpy, torch or OpenSim): ``gait2hip.cli`` imports it at start-up.
"""

from __future__ import annotations

import enum

#: Exit codes of every ``gait2hip`` command (README, "Conventions and exit codes").
EXIT_OK = 0  # everything asked was done
EXIT_PARTIAL = 1  # some inputs were skipped (or cycles withheld): listed in summary.csv with the reason
EXIT_BAD_INPUT = 2  # bad input or options: nothing useful was done; one line says what and how to fix it


class MomentConvention(enum.StrEnum):
    """Sign convention of the written hip moments."""

    internal = "internal"
    external = "external"


class MomentUnits(enum.StrEnum):
    """Normalisation of the written hip moments."""

    nm_per_kg = "Nm/kg"
    percent_bw_height = "%BWh"


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


class BackendName(enum.StrEnum):
    """Where the units of a long job run (see :mod:`gait2hip.backends`)."""

    local = "local"
    ray = "ray"


def backend_from_options(backend: BackendName | str, address: str | None):
    """``--backend`` / ``--address`` → :class:`gait2hip.backends.Backend`, Ray checked as installed."""
    from gait2hip.backends import Backend, ray_available
    from gait2hip.errors import Gait2HipInputError

    chosen = Backend(name=BackendName(backend).value, address=address or None)
    if chosen.name == "ray" and not ray_available():
        raise Gait2HipInputError(
            "--backend ray needs Ray, which is not installed.",
            column="--backend",
            fix="pip install 'gait2hip[distributed]' (or use --backend local).",
        )
    return chosen
