"""``gait2hip data inspect`` and ``gait2hip data fukuchi2018``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gait2hip.cli.base import SharedOption, TrustPickleOption, clear_errors, console, data_app, examples
from gait2hip.commands.options import Hips, Side


@data_app.command(
    "inspect",
    epilog=examples(
        "gait2hip data inspect default",
        "gait2hip data inspect runs/label  (a folder gait2hip label wrote)",
        "gait2hip data inspect MF60.npz",
    ),
)
@clear_errors
def data_inspect(
    path: Annotated[
        str, typer.Argument(help="'default', a gait2hip/release NPZ, or a lab folder with manifest.csv")
    ],
    side: Annotated[Side, typer.Option(help="Lab folders: cycles of this leg")] = Side.right,
    hips: Annotated[Hips, typer.Option(help="Lab folders: the leg's own hip or both hips")] = Hips.own,
    trust_pickle: TrustPickleOption = False,
) -> None:
    """Summarise a dataset: subjects, trials, cadences, cohorts, columns, units, ranges and warnings."""
    from gait2hip.commands.data import inspect_command

    inspect_command(path=path, side=side, hips=hips, trust_pickle=trust_pickle, console=console)


@data_app.command(
    "fukuchi2018",
    epilog=examples(
        "gait2hip data fukuchi2018 --shared ../shared --markdown",
    ),
)
@clear_errors
def data_fukuchi2018(
    shared: SharedOption = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output NPZ (default: the embedded gait2hip/resources/real/fukuchi2018.npz)"),
    ] = None,
    evidence: Annotated[
        bool, typer.Option(help="Also print the convention evidence, lab offsets and contralateral shifts")
    ] = True,
    markdown: Annotated[bool, typer.Option(help="Print the tables as Markdown (for the data card)")] = False,
) -> None:
    """Regenerate the embedded REAL dataset fukuchi2018 from shared/real/fukuchi2018 (+ its evidence)."""
    from gait2hip.commands.data import fukuchi_command

    fukuchi_command(shared=shared, out=out, evidence=evidence, markdown=markdown, console=console)
