"""One exception type for bad user input, so the CLI can print one clear line."""

from __future__ import annotations

from pathlib import Path


class Gait2HipInputError(ValueError):
    """Bad input: says which file, which column, what is wrong and how to fix it.

    Parameters
    ----------
    problem
        What is wrong, in one sentence.
    file
        The file (or folder) the problem is in, if any.
    column
        The column (or key) concerned, if any.
    fix
        What the user should do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.column = column
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.problem
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class NoUsableCycleError(Gait2HipInputError):
    """A trial that is readable but holds no cycle gait2hip can use (too short, a foot off the force
    plates): a lab folder with other trials skips it with a note instead of refusing them all."""
