"""C3D motion-capture files (via ezc3d): the gait events a lab marked.

Labs that process in Vicon Nexus / Qualisys / Motive keep their gait events (``Foot Strike``,
``Foot Off``, per context ``Left`` / ``Right``) in the trial's C3D. gait2hip reads:

* :func:`read_c3d_events`: every event, by side and label, in seconds. C3D stores event times
  as ``EVENT:TIMES`` = (minutes, seconds) pairs counted from the start of the capture, which is
  also the clock of a TRC exported from the same C3D (and so of the IK .mot made from it).
* :func:`c3d_heel_strikes`: the heel strikes (``Foot Strike``, ``Heel Strike``, ``RHS`` / ``LHS``).
* :func:`check_c3d_header`: refuse a file that is not a C3D or is truncated, before ezc3d sees it.
* :func:`read_c3d_points`: named 3-component points (e.g. Plug-in Gait's ``RHipAngles``) with
  their times; :mod:`gait2hip.data.plugin_gait` turns them into gait2hip's angles.

Force plates are read from the OpenSim GRF ``.mot`` the lab exports (``gait2hip.io.opensim``).

ezc3d is the optional extra ``gait2hip[c3d]``; it is imported only when a C3D is read.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gait2hip.errors import Gait2HipInputError


def check_c3d_header(path: str | Path) -> None:
    """Refuse a file that is not a C3D or is shorter than its header declares.

    Reads the 512-byte header: byte 2 must be 0x50; the data section starts at block ``word 9`` and
    holds ``frames × (3D points × 4 + analog samples)`` values of 2 bytes (integer) or 4 (float,
    negative scale). Only Intel-format files (processor 84, the usual) are sized; others go on.
    """
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 512 or data[1] != 0x50:
        raise Gait2HipInputError(
            "this is not a C3D file (its header is missing).", file=path, fix="upload the trial's .c3d file."
        )
    parameter_block = data[0]
    start = (parameter_block - 1) * 512
    if parameter_block < 2 or len(data) < start + 4:
        raise Gait2HipInputError(
            f"the C3D is truncated: {len(data)} bytes end before its parameters.",
            file=path,
            fix="the upload or the export was cut short; export or copy the file again.",
        )
    if data[start + 3] != 84:  # not Intel: leave the sizes to ezc3d
        return
    points, analogs, first, last = struct.unpack("<HHHH", data[2:10])
    (scale,) = struct.unpack("<f", data[12:16])
    (data_block,) = struct.unpack("<H", data[16:18])
    frames = max(0, last - first + 1)
    needed = (data_block - 1) * 512 + frames * (4 * points + analogs) * (4 if scale < 0 else 2)
    if len(data) < needed:
        raise Gait2HipInputError(
            f"the C3D is truncated: {len(data)} bytes of the {needed} its header declares "
            f"({frames} frames of {points} points).",
            file=path,
            fix="the upload or the export was cut short; export or copy the file again.",
        )


_STRIKE_WORDS = ("foot strike", "heel strike", "strike", "contact", "hs", "ic")
_OFF_WORDS = ("foot off", "toe off", "off", "to", "fo")


def _load(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise Gait2HipInputError("file not found.", file=path, fix="check the path.")
    try:
        import ezc3d
    except ModuleNotFoundError:
        raise Gait2HipInputError(
            "reading C3D files needs ezc3d.", file=path, fix="pip install 'gait2hip[c3d]' (or ezc3d)."
        ) from None
    try:
        return ezc3d.c3d(str(path))
    except Exception as exc:  # ezc3d raises bare RuntimeError / IOError with C++ messages
        raise Gait2HipInputError(
            f"cannot read the C3D ({exc}).", file=path, fix="export the trial again as a standard C3D."
        ) from None


def _side(context: str) -> str | None:
    text = context.strip().lower()
    if text in ("right", "r"):
        return "right"
    if text in ("left", "l"):
        return "left"
    return None


def _classify(label: str) -> str | None:
    text = label.strip().lower()
    for prefix in ("r", "l"):  # RHS / LTO style labels
        if len(text) in (3, 4) and text.startswith(prefix):
            text = text[1:]
    if text in _STRIKE_WORDS or "strike" in text:
        return "heel_strike"
    if text in _OFF_WORDS or text.endswith(" off"):
        return "toe_off"
    return None


def read_c3d_events(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """All events of a C3D, ``{side: {label: sorted times in s}}`` (side 'right' / 'left' / 'general').

    Raises
    ------
    Gait2HipInputError
        File missing or unreadable, or ``EVENT:TIMES`` inconsistent with the labels.
    """
    c3d = _load(path)
    parameters = c3d["parameters"]
    if "EVENT" not in parameters or "TIMES" not in parameters["EVENT"]:
        return {}
    event = parameters["EVENT"]
    times = np.asarray(event["TIMES"]["value"], dtype=float)
    if times.ndim == 1 and times.size % 2 == 0:  # Nexus may store TIMES flat: (minutes, seconds) pairs
        times = times.reshape(-1, 2).T
    times = np.atleast_2d(times)
    labels = list(event.get("LABELS", {}).get("value", []))
    contexts = list(event.get("CONTEXTS", {}).get("value", [""] * len(labels)))
    used = int(np.ravel(event.get("USED", {}).get("value", [len(labels)]))[0]) if labels else 0
    if times.shape[0] != 2 or times.shape[1] < used or len(labels) < used or len(contexts) < used:
        raise Gait2HipInputError(
            f"EVENT parameters disagree: TIMES {times.shape}, {len(labels)} labels, "
            f"{len(contexts)} contexts, USED={used}.",
            file=path,
            column="EVENT:TIMES",
            fix="re-export the events from the capture software.",
        )
    seconds = 60.0 * times[0, :used] + times[1, :used]
    events: dict[str, dict[str, list[float]]] = {}
    for label, context, t in zip(labels[:used], contexts[:used], seconds, strict=True):
        side = _side(str(context)) or "general"
        events.setdefault(side, {}).setdefault(str(label).strip(), []).append(float(t))
    return {side: {label: np.sort(np.array(ts)) for label, ts in by.items()} for side, by in events.items()}


def c3d_heel_strikes(path: str | Path) -> dict[str, np.ndarray]:
    """Heel-strike times per side ('right' / 'left') from a C3D's events.

    Raises
    ------
    Gait2HipInputError
        When the file has no heel-strike event for either foot.
    """
    strikes: dict[str, list[float]] = {}
    for side, by_label in read_c3d_events(path).items():
        if side not in ("right", "left"):
            continue
        for label, times in by_label.items():
            if _classify(label) == "heel_strike":
                strikes.setdefault(side, []).extend(times.tolist())
    if not strikes:
        raise Gait2HipInputError(
            "no heel strike found: the C3D has no 'Foot Strike' events with a Left/Right context.",
            file=path,
            column="EVENT:LABELS",
            fix="mark the gait events in the capture software, or give the GRF file instead.",
        )
    return {side: np.unique(np.array(times)) for side, times in strikes.items()}


def read_c3d_points(path: str | Path, names: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray, str]:
    """The named points of a C3D (subject prefixes such as ``Jane:`` dropped), and their times.

    Returns
    -------
    (points, time, angle_units)
        ``{name: [T, 3]}`` for the names present, the time of each frame in s on the capture's
        clock (frame 1 of the capture is t = 0 s, as for the events), and ``POINT:ANGLE_UNITS``.
    """
    path = Path(path)
    check_c3d_header(path)
    c3d = _load(path)
    parameters = c3d["parameters"]
    labels = [str(label).split(":")[-1].strip() for label in parameters["POINT"]["LABELS"]["value"]]
    data = c3d["data"]["points"]
    points = {name: data[:3, labels.index(name), :].T for name in names if name in labels}
    rate = float(np.ravel(parameters["POINT"]["RATE"]["value"])[0])
    first = int(c3d["header"]["points"]["first_frame"])  # 0-based
    time = (first + np.arange(data.shape[2])) / rate
    units = str(parameters["POINT"].get("ANGLE_UNITS", {}).get("value", ["deg"])[0])
    return points, time, units
