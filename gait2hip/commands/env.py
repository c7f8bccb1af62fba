"""Environment variables, read in one place and checked once, with a clear error when malformed.

Library code never reads the environment; commands call these helpers and pass typed values on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from gait2hip.errors import Gait2HipInputError


def env_int(
    name: str, *, default: int | None = None, minimum: int = 1, environ: Mapping[str, str] | None = None
) -> int | None:
    """An integer environment variable (e.g. ``GAIT2HIP_WORKERS``), or ``default`` when unset or empty.

    Parameters
    ----------
    name
        The variable's name.
    default
        Returned when the variable is unset or empty.
    minimum
        The smallest accepted value.
    environ
        The environment to read (default ``os.environ``).

    Raises
    ------
    Gait2HipInputError
        The value is not a whole number ≥ ``minimum``; the message names the variable and its value.
    """
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise Gait2HipInputError(
            f"environment variable {name}={raw!r} is not a whole number ≥ {minimum}.",
            fix=f"set {name} to a whole number ≥ {minimum} (e.g. {name}={max(minimum, 2)}) or unset it.",
        )
    return value


def env_choice(
    name: str, choices: Iterable[str], *, default: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """A string environment variable restricted to ``choices`` (case-insensitive), or ``default``.

    Raises
    ------
    Gait2HipInputError
        The value is not one of ``choices``; the message names the variable and the choices.
    """
    options = [str(c) for c in choices]
    raw = (os.environ if environ is None else environ).get(name, "").strip()
    if not raw:
        return default
    if raw.lower() not in options:
        raise Gait2HipInputError(
            f"environment variable {name}={raw!r} is not one of {', '.join(options)}.",
            fix=f"set {name} to one of {', '.join(options)} or unset it.",
        )
    return raw.lower()


def env_paths(name: str, *, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Folders listed in an ``os.pathsep``-separated environment variable (e.g. ``GAIT2HIP_BUNDLE_PATH``)."""
    raw = (os.environ if environ is None else environ).get(name, "")
    return [Path(part).expanduser() for part in raw.split(os.pathsep) if part.strip()]
