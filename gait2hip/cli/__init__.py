"""The ``gait2hip`` command line. Thin by design: every command parses its options and
calls one library function; heavy imports happen inside the command so that
``gait2hip --help`` is instant and ``predict`` never loads OpenSim.

The app and what the declarations share are in :mod:`gait2hip.cli.base`; each topic's commands
are declared in one module of this package (listed in :data:`COMMAND_MODULES`) and carried out by
the module of the same topic in :mod:`gait2hip.commands`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from gait2hip.cli.base import app, clear_errors, console, err_console

__all__ = ["app", "clear_errors", "console", "err_console", "main"]

#: Importing a module declares its commands; this order is the order of ``gait2hip --help``.
COMMAND_MODULES = ("data", "sim", "benchmark", "predict", "adapt", "serve")
for _name in COMMAND_MODULES:
    importlib.import_module(f"gait2hip.cli.{_name}")


def _print_version(value: bool) -> None:
    if value:
        from gait2hip import __version__

        console.print(f"gait2hip {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit"),
    ] = False,
) -> None:
    """Hip muscle forces and hip joint moments from joint angles.

    Exit codes (every command): 0 all done; 1 some inputs skipped or results withheld (listed
    in summary.csv with the reason); 2 bad input (one line says what and how to fix it).
    """


def main() -> None:  # pragma: no cover - entry point
    app(sys.argv[1:])
