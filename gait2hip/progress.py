"""One progress bar for every long job: what it is doing, done / total, elapsed time and ETA."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def eta_progress(
    *,
    console: Console | None,
    unit: str | None = None,
    status: bool = False,
    disable: bool = False,
) -> Progress:
    """A rich ``Progress`` with description, bar, done/total, elapsed time and ETA.

    Parameters
    ----------
    console
        Where to draw (None: rich's default console).
    unit
        Word shown after the count ("trials").
    status
        Add a column showing each task's ``status`` field (pass ``status=...`` to ``add_task``).
    disable
        Draw nothing (e.g. ``--no-progress``).
    """
    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn()]
    if unit:
        columns.append(TextColumn(unit))
    columns += [TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    if status:
        columns.append(TextColumn("{task.fields[status]}"))
    return Progress(*columns, console=console, disable=disable, transient=False)
