"""OpenSim ``.mot`` / ``.sto`` tables: read them into pandas, write them back.

An OpenSim storage file is a text header (the table's name, then ``key=value`` lines and
free text) closed by ``endheader``, one line of column labels starting with ``time``, and
one row of numbers per time point. This module reads every variant found in practice:

* header ``version=1`` and ``version=2`` (Simbody-era IK / ID / CMC / GRF files) and the
  ``version=3`` files written by OpenSim 4 ``TimeSeriesTable`` / Moco;
* with or without ``nRows`` / ``nColumns`` (when they disagree with the table, the table
  wins and a warning says so: Moco's ``coordinates.sto`` declares 40 columns and has 32);
* ``inDegrees=yes|no`` (or absent), tab- or whitespace-separated cells, trailing tabs.

Reading never imports opensim, so labs and clinics can read their files without it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError

#: Header keys this module interprets; every other header line is kept verbatim.
_KNOWN_KEYS = ("version", "nrows", "ncolumns", "indegrees")


@dataclass
class StorageHeader:
    """Metadata of an OpenSim storage file.

    Attributes
    ----------
    name
        The table's name (first header line), e.g. ``'Coordinates'``.
    version
        The ``version=`` value (1, 2 or 3), or None when the file has none.
    in_degrees
        True for ``inDegrees=yes``, False for ``inDegrees=no``, None when absent.
    n_rows, n_columns
        The declared ``nRows`` / ``nColumns`` (``nColumns`` counts the time column),
        None when absent. They describe the file as read; the table is authoritative.
    extra_lines
        Every other header line, in order and verbatim (``DataType=double``,
        ``OpenSimVersion=...``, blank lines, free text), so a write keeps them.
    """

    name: str = ""
    version: int | None = 1
    in_degrees: bool | None = None
    n_rows: int | None = None
    n_columns: int | None = None
    extra_lines: tuple[str, ...] = ()


@dataclass
class Storage:
    """An OpenSim table: ``data`` indexed by time (index name ``'time'``) plus its header."""

    data: pd.DataFrame
    header: StorageHeader = field(default_factory=StorageHeader)
    path: Path | None = None

    @property
    def time(self) -> np.ndarray:
        """The time column, in seconds."""
        return self.data.index.to_numpy(dtype=float)

    @property
    def columns(self) -> list[str]:
        """Column labels, without ``time``."""
        return [str(c) for c in self.data.columns]


def _parse_yes_no(value: str, *, file: Path) -> bool | None:
    text = value.strip().lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    warnings.warn(
        f"{file}: unrecognised inDegrees value '{value}'; treating the unit as unknown.", stacklevel=3
    )
    return None


def _parse_int(value: str, *, key: str, file: Path) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        warnings.warn(f"{file}: header '{key}={value}' is not an integer; ignored.", stacklevel=3)
        return None


def _parse_header(lines: list[str], *, file: Path) -> StorageHeader:
    header = StorageHeader(version=None)
    extra: list[str] = []
    for position, raw in enumerate(lines):
        line = raw.rstrip("\t\r ")
        key, sep, value = line.partition("=")
        key_lower = key.strip().lower()
        if sep and key_lower in _KNOWN_KEYS:
            if key_lower == "version":
                header.version = _parse_int(value, key=key, file=file)
            elif key_lower == "nrows":
                header.n_rows = _parse_int(value, key=key, file=file)
            elif key_lower == "ncolumns":
                header.n_columns = _parse_int(value, key=key, file=file)
            else:
                header.in_degrees = _parse_yes_no(value, file=file)
        elif position == 0 and not sep:
            header.name = line.strip()
        else:
            extra.append(line)
    header.extra_lines = tuple(extra)
    return header


def _split(line: str, *, tabbed: bool) -> list[str]:
    if tabbed:
        cells = [cell.strip() for cell in line.rstrip("\r\n").split("\t")]
        while cells and cells[-1] == "":
            cells.pop()
        return cells
    return line.split()


def read_storage(path: str | Path) -> Storage:
    """Read an OpenSim ``.mot`` / ``.sto`` file.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    Storage
        ``data``: float64 DataFrame indexed by time (index name ``'time'``), one column
        per label in file order; ``header``: a :class:`StorageHeader`.

    Raises
    ------
    Gait2HipInputError
        File missing, no ``endheader`` line, no ``time`` column, duplicate column labels,
        a row with the wrong number of cells, or a cell that is not a number.
    """
    path = Path(path)
    if not path.is_file():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise Gait2HipInputError(f"cannot read the file ({exc}).", file=path) from None
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if line.strip().lower() == "endheader"), None)
    if end is None:
        raise Gait2HipInputError(
            "no 'endheader' line: this is not an OpenSim .mot/.sto table.",
            file=path,
            fix="give an OpenSim storage file (header lines, 'endheader', column labels, rows), "
            "or a CSV with a time column.",
        )
    header = _parse_header(lines[:end], file=path)
    body = [(number, line) for number, line in enumerate(lines[end + 1 :], start=end + 2) if line.strip()]
    if not body:
        raise Gait2HipInputError(
            "no column labels after 'endheader'.", file=path, fix="the file is truncated."
        )
    tabbed = "\t" in body[0][1]
    labels = _labels(body[0], tabbed=tabbed, file=path)
    values, n_rows = _values(body[1:], labels, tabbed=tabbed, file=path)
    if header.n_columns is not None and header.n_columns != len(labels):
        warnings.warn(
            f"{path}: header says nColumns={header.n_columns} but the table has {len(labels)} "
            "columns (time included); using the table.",
            stacklevel=2,
        )
    if header.n_rows is not None and header.n_rows != n_rows:
        warnings.warn(
            f"{path}: header says nRows={header.n_rows} but the table has {n_rows} rows; using the table.",
            stacklevel=2,
        )
    index = pd.Index(values[:, 0], name="time", dtype=float)
    data = pd.DataFrame(values[:, 1:], index=index, columns=labels[1:])
    return Storage(data=data, header=header, path=path)


def _labels(line: tuple[int, str], *, tabbed: bool, file: Path) -> list[str]:
    """The column labels (``(line number, text)``): first ``time``, none twice."""
    label_line_number, label_line = line
    labels = _split(label_line, tabbed=tabbed)
    if not labels or labels[0].lower() != "time":
        raise Gait2HipInputError(
            f"the first column is '{labels[0] if labels else ''}', not 'time' (line {label_line_number}).",
            file=file,
            column="time",
            fix="OpenSim tables start with a 'time' column; add it or give the file its column labels.",
        )
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise Gait2HipInputError(
                "column label appears twice.",
                file=file,
                column=label,
                fix="give every column a unique label.",
            )
        seen.add(label)
    return labels


def _values(
    body: list[tuple[int, str]], labels: list[str], *, tabbed: bool, file: Path
) -> tuple[np.ndarray, int]:
    """The rows (``(line number, text)``) as a float array [rows, labels], and the row count."""
    rows: list[list[str]] = []
    for number, line in body:
        cells = _split(line, tabbed=tabbed)
        if len(cells) != len(labels) and tabbed:
            cells = _split(line, tabbed=False)  # tab-separated labels above space-separated rows
        if len(cells) != len(labels):
            raise Gait2HipInputError(
                f"line {number} has {len(cells)} cells but there are {len(labels)} column labels.",
                file=file,
                fix="every row needs one value per column; the file may be truncated or hand-edited.",
            )
        rows.append(cells)
    try:
        return np.array(rows, dtype=float).reshape(len(rows), len(labels)), len(rows)
    except ValueError:
        for (number, _), cells in zip(body, rows, strict=True):
            for label, cell in zip(labels, cells, strict=True):
                try:
                    float(cell)
                except ValueError:
                    raise Gait2HipInputError(
                        f"line {number}: '{cell}' is not a number.",
                        file=file,
                        column=label,
                        fix="OpenSim tables hold numbers only; use NaN for missing values.",
                    ) from None
        raise


def _format(value: float) -> str:
    # repr gives the shortest text that reads back to the same double: exact round trip.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return repr(float(value))


def write_storage(
    path: str | Path,
    data: pd.DataFrame | Storage,
    *,
    name: str | None = None,
    in_degrees: bool | None = None,
    version: int | None = None,
    extra_lines: Sequence[str] | None = None,
) -> Path:
    """Write a table as an OpenSim ``.mot`` / ``.sto`` file (tab-separated, exact values).

    Parameters
    ----------
    path
        Output file; parent folders are created.
    data
        A DataFrame indexed by time (or with a ``time`` column), or a :class:`Storage`
        whose header supplies the defaults for the keywords below.
    name
        Table name written on the first line (default: the file's stem).
    in_degrees
        Writes ``inDegrees=yes|no``; None omits the line (tables without angles).
    version
        Header version (default 1). ``nRows`` / ``nColumns`` are always written and
        always describe the table actually written.
    extra_lines
        Further header lines written verbatim before ``endheader``.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    if isinstance(data, Storage):
        header = data.header
        frame = data.data
        name = header.name if name is None else name
        in_degrees = header.in_degrees if in_degrees is None else in_degrees
        version = header.version if version is None else version
        extra_lines = header.extra_lines if extra_lines is None else extra_lines
    else:
        frame = data
    if "time" in frame.columns:
        frame = frame.set_index("time")
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns) or "time" in columns:
        duplicate = next(c for c in columns if columns.count(c) > 1 or c == "time")
        raise Gait2HipInputError(
            "column label appears twice.",
            file=path,
            column=duplicate,
            fix="give every column a unique label.",
        )
    for column in columns:
        if not column or any(ch in column for ch in "\t\r\n"):
            raise Gait2HipInputError(
                "column labels may not be empty or contain tabs / line breaks.", file=path, column=column
            )
    try:
        time = frame.index.to_numpy(dtype=float)
        values = frame.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise Gait2HipInputError(
            "the table holds values that are not numbers.", file=path, fix="convert every column to numbers."
        ) from None
    lines = [name if name is not None else path.stem]
    lines.append(f"version={1 if version is None else int(version)}")
    lines.append(f"nRows={len(frame)}")
    lines.append(f"nColumns={len(columns) + 1}")
    if in_degrees is not None:
        lines.append(f"inDegrees={'yes' if in_degrees else 'no'}")
    lines.extend(str(line) for line in (extra_lines or ()))
    lines.append("endheader")
    lines.append("\t".join(["time", *columns]))
    for t, row in zip(time, values, strict=True):
        lines.append("\t".join([_format(t), *(_format(v) for v in row)]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
