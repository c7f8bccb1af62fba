"""One progress bar for every long job: what it is doing, done / total, elapsed time and ETA."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
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
    transient: bool = False,
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
    transient
        Remove the bars when done.
    """
    columns = [TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn()]
    if unit:
        columns.append(TextColumn(unit))
    columns += [TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    if status:
        columns.append(TextColumn("{task.fields[status]}"))
    return Progress(*columns, console=console, disable=disable, transient=transient)


def bar_callback(
    progress: Progress, description: str, *, min_total: int = 0, **fields: object
) -> Callable[[int, int], None]:
    """An ``on_progress(done, total)`` callback for library jobs that moves one bar of ``progress``.

    The task is added on the first call, so a job that reports nothing draws nothing; jobs
    with fewer than ``min_total`` steps draw no bar either.
    """
    task: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if total < min_total:
            return
        if not task:
            task.append(progress.add_task(description, total=total, completed=done, **fields))
        else:
            progress.update(task[0], completed=done, total=total)

    return update
