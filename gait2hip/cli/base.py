"""What every command declaration shares: the ``gait2hip`` app and its sub-apps, the consoles,
the bad-input guard and the options several commands declare the same way."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gait2hip.bench.settings import DEFAULT_MODELS
from gait2hip.commands.options import EXIT_BAD_INPUT, BackendName
from gait2hip.errors import Gait2HipInputError

app = typer.Typer(
    name="gait2hip",
    help="Hip muscle forces and hip joint moments from joint angles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect datasets.", no_args_is_help=True)
simulate_app = typer.Typer(help="Generate simulated (virtual) cohorts.", no_args_is_help=True)
models_app = typer.Typer(help="Installed model bundles.", no_args_is_help=True)
bench_app = typer.Typer(help="Speed benchmarks.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(simulate_app, name="simulate")
app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")

console = Console()
err_console = Console(stderr=True)

#: ``--backend`` / ``--address`` of the commands that run many independent units.
BackendOption = Annotated[
    BackendName,
    typer.Option(
        help="Where units run: local processes, or Ray tasks (pip install 'gait2hip\\[distributed]')"
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        help="Ray cluster address (ray start --head prints it; 'auto'); default: a local Ray instance"
    ),
]
#: ``--shared`` of every command that reads the shared inputs.
SharedOption = Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")]
#: ``--trust-pickle`` of the commands that read a release NPZ.
TrustPickleOption = Annotated[
    bool,
    typer.Option(
        "--trust-pickle",
        help="Release NPZ only: unpickle string arrays stored as Python objects. Unpickling runs any "
        "code hidden in the file: use only for files from a source you trust",
    ),
]
#: ``--threads`` of the timing benchmarks.
ThreadsOption = Annotated[int, typer.Option(help="CPU threads")]
#: ``--models`` of ``benchmark`` and ``bench speed``.
ModelsOption = Annotated[
    str | None, typer.Option(help=f"Comma-separated architectures (default: {','.join(DEFAULT_MODELS)})")
]


def examples(*commands: str) -> str:
    """A command's --help epilog: example command lines, then the exit codes."""
    lines = "\n\n".join(f"  {command}" for command in commands)
    codes = "Exit codes: 0 all done; 1 some inputs skipped (listed with the reason); 2 bad input."
    return f"Examples:\n\n{lines}\n\n{codes}"


def clear_errors(func):
    """Turn bad-input errors into one red line and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Gait2HipInputError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=EXIT_BAD_INPUT) from None

    return wrapper
