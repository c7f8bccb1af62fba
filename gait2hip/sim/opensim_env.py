"""OpenSim plumbing shared by the labelling pipeline: a lazy, quiet import, model loading,
and turning any kinematics (file or DataFrame, degrees or radians, Moco state paths) into
the complete coordinate table a model expects.

opensim is an optional dependency (``gait2hip[sim]``): it is imported here, inside
functions, never at module import time.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage

#: A rotational coordinate of a gait trial never exceeds this many radians (≈ 200°) while
#: knee flexion alone reaches ≈ 60: a larger value means the table is in degrees.
_MAX_GAIT_RADIANS = 3.5


@functools.cache
def import_opensim() -> Any:
    """Import opensim once, with its console log at 'error' and no opensim.log file.

    Raises
    ------
    Gait2HipInputError
        When opensim is not installed, with the command that installs it.
    """
    try:
        import opensim
    except ImportError:  # pragma: no cover - depends on the installation
        raise Gait2HipInputError(
            "OpenSim is not installed; labelling (inverse dynamics, static optimisation) needs it.",
            fix="install the optional extra: pip install 'gait2hip[sim]' (opensim 4.6).",
        ) from None
    opensim.Logger.setLevelString("error")
    opensim.Logger.removeFileSink()
    return opensim


def load_model(model: str | Path | Any, *, init: bool = False) -> Any:
    """An ``opensim.Model`` from a .osim path (or a copy of a given Model).

    Parameters
    ----------
    model
        Path to a .osim file, or an ``opensim.Model`` (copied, never modified).
    init
        Also build the system (``initSystem``) before returning.
    """
    osim = import_opensim()
    if isinstance(model, osim.Model):
        loaded = osim.Model(model)
    else:
        path = Path(model)
        if not path.is_file():
            raise Gait2HipInputError("model file not found.", file=path, fix="give an existing .osim model.")
        try:
            loaded = osim.Model(str(path))
        except RuntimeError as exc:
            raise Gait2HipInputError(
                f"OpenSim cannot read this model ({str(exc).splitlines()[0]}).",
                file=path,
                fix="give a valid OpenSim 4 .osim model.",
            ) from None
    if init:
        loaded.initSystem()
    return loaded


def model_file(model: str | Path | Any, *, folder: Path) -> Path:
    """A path to the model on disk: the given path, or the Model printed into ``folder``."""
    osim = import_opensim()
    if isinstance(model, osim.Model):
        path = folder / "model.osim"
        model.printToXML(str(path))
        return path
    path = Path(model)
    if not path.is_file():
        raise Gait2HipInputError("model file not found.", file=path, fix="give an existing .osim model.")
    return path.resolve()


def _file_identity(model: str | Path | Any) -> tuple | None:
    """(path, mtime, size) of a model file, for caching figures derived from it."""
    if isinstance(model, (str, Path)) and Path(model).is_file():
        stat = Path(model).resolve().stat()
        return (str(Path(model).resolve()), stat.st_mtime_ns, stat.st_size)
    return None


def model_mass_kg(model: str | Path | Any) -> float:
    """Total body mass of a model (sum of its bodies), in kg (cached per model file)."""
    identity = _file_identity(model)
    if identity is not None:
        return _cached_mass(identity)
    return _mass(load_model(model, init=False))


def _mass(loaded: Any) -> float:
    bodies = loaded.getBodySet()
    return float(sum(bodies.get(i).getMass() for i in range(bodies.getSize())))


@functools.lru_cache(maxsize=32)
def _cached_mass(identity: tuple) -> float:
    return _mass(load_model(identity[0], init=False))


def _coordinate_name(label: str) -> str:
    # Moco / TimeSeriesTable state paths: /jointset/hip_r/hip_flexion_r/value -> hip_flexion_r.
    if label.startswith("/") and label.endswith("/value"):
        return label.rstrip("/").split("/")[-2]
    return label


def read_coordinates(
    coordinates: str | Path | pd.DataFrame, *, in_degrees: bool | None = None
) -> tuple[pd.DataFrame, bool | None, Path | None]:
    """Coordinates as a DataFrame indexed by time, with the unit flag and source file.

    Returns ``(frame, in_degrees, file)``; ``in_degrees`` comes from the argument, else
    from the file header (``inDegrees``) or ``frame.attrs['inDegrees']``, else None.
    Speed columns of state files (``.../speed``) and non-coordinate state columns are dropped.
    """
    file: Path | None = None
    if isinstance(coordinates, pd.DataFrame):
        frame = coordinates.copy()
        if "time" in frame.columns:
            frame = frame.set_index("time")
        flag = frame.attrs.get("inDegrees")
        if isinstance(flag, str):
            flag = flag.strip().lower() in ("yes", "true", "1")
    else:
        file = Path(coordinates)
        storage = read_storage(file)
        frame = storage.data.copy()
        flag = storage.header.in_degrees
    if in_degrees is not None:
        flag = in_degrees
    keep = [c for c in frame.columns if not (str(c).startswith("/") and not str(c).endswith("/value"))]
    frame = frame[keep]
    frame.columns = [_coordinate_name(str(c)) for c in frame.columns]
    frame.index = pd.Index(frame.index.to_numpy(dtype=float), name="time")
    if len(frame) < 4:
        raise Gait2HipInputError(
            f"only {len(frame)} time points of kinematics.", file=file, fix="give a whole trial (≥ 4 frames)."
        )
    if not np.all(np.diff(frame.index.to_numpy()) > 0):
        raise Gait2HipInputError(
            "time is not strictly increasing.", file=file, column="time", fix="sort the rows by time."
        )
    return frame, flag, file


def coordinate_table(
    model: Any,
    coordinates: str | Path | pd.DataFrame,
    *,
    in_degrees: bool | None = None,
) -> pd.DataFrame:
    """The complete coordinate table of ``model``: radians/metres, model coordinate names.

    Columns are every coordinate of the model in model order. Coordinates absent from the
    kinematics are held at their default value. Dependent coordinates of a
    CoordinateCouplerConstraint (e.g. the Rajagopal/Lai patella ``knee_angle_*_beta``) are
    always recomputed from the constraint: inverse dynamics ignores constraints, and files
    get them wrong (Moco's example coordinates.sto stores them in degrees), which moves the
    knee and puts hip moments off by kN.

    Parameters
    ----------
    model
        An initialised ``opensim.Model``.
    coordinates
        .mot/.sto path or DataFrame (index or column ``time``).
    in_degrees
        Unit of the rotational coordinates; None: the file header's ``inDegrees``, else
        inferred (a gait trial in radians never exceeds 3.5 in magnitude).
    """
    osim = import_opensim()
    frame, flag, file = read_coordinates(coordinates, in_degrees=in_degrees)
    coord_set = model.getCoordinateSet()
    names = [coord_set.get(i).getName() for i in range(coord_set.getSize())]
    rotational = {n for n in names if coord_set.get(n).getMotionType() == osim.Coordinate.Rotational}
    known = [c for c in frame.columns if c in names]
    if not known:
        raise Gait2HipInputError(
            f"no column matches a coordinate of the model (model has e.g. {names[:4]}).",
            file=file,
            fix="give IK output of this model (columns named like its coordinates).",
        )
    for column in ("hip_flexion_r", "hip_flexion_l"):
        if column in names and column not in known:
            raise Gait2HipInputError(
                "the kinematics lack this hip coordinate of the model.",
                file=file,
                column=column,
                fix="give inverse-kinematics output of this model.",
            )
    values = frame[known].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        bad = known[int(np.argwhere(~np.isfinite(values))[0][1])]
        raise Gait2HipInputError(
            "the kinematics contain NaN or infinite values.",
            file=file,
            column=bad,
            fix="fill the gaps (interpolate) before labelling.",
        )
    rot_cols = [c for c in known if c in rotational]
    if flag is None:
        peak = float(np.abs(frame[rot_cols].to_numpy()).max()) if rot_cols else 0.0
        flag = peak > _MAX_GAIT_RADIANS
    table = pd.DataFrame(index=frame.index)
    for name in names:
        if name in frame.columns:
            column = frame[name].to_numpy(dtype=float)
            table[name] = np.radians(column) if (flag and name in rotational) else column
        else:
            table[name] = coord_set.get(name).getDefaultValue()
    if not flag and rot_cols:
        peak = float(np.abs(table[rot_cols].to_numpy()).max())
        if peak > 2 * math.pi:
            worst = rot_cols[int(np.abs(table[rot_cols].to_numpy()).max(axis=0).argmax())]
            raise Gait2HipInputError(
                f"an angle reaches {peak:.1f} although the kinematics are said to be in radians.",
                file=file,
                column=worst,
                fix="set inDegrees=yes in the header (or pass in_degrees=True) if they are degrees.",
            )
    _fill_coupled(model, table)
    return table


def _fill_coupled(model: Any, table: pd.DataFrame) -> None:
    osim = import_opensim()
    constraints = model.getConstraintSet()
    for i in range(constraints.getSize()):
        coupler = osim.CoordinateCouplerConstraint.safeDownCast(constraints.get(i))
        if coupler is None:
            continue
        dependent = coupler.getDependentCoordinateName()
        independent_names = coupler.getIndependentCoordinateNames()
        independent = [independent_names.get(k) for k in range(independent_names.getSize())]
        if dependent not in table or any(n not in table for n in independent):
            continue
        function = coupler.getFunction()
        rows = table[independent].to_numpy(dtype=float)
        table[dependent] = [function.calcValue(osim.Vector(list(map(float, row)))) for row in rows]


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send the C++ ``std::cout`` chatter of OpenSim tools (model summaries) to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def filter_time_range(frame: pd.DataFrame, time_range: tuple[float, float] | None) -> tuple[float, float]:
    """Validate a (start, end) window against a table's time span; default: all of it."""
    start, end = float(frame.index[0]), float(frame.index[-1])
    if time_range is None:
        return start, end
    t0, t1 = (float(t) for t in time_range)
    if not t1 > t0:
        raise Gait2HipInputError(f"time range {t0}–{t1} s is empty.", fix="give START < END.")
    tolerance = 0.5 * float(np.median(np.diff(frame.index.to_numpy())))
    if t0 < start - tolerance or t1 > end + tolerance:
        raise Gait2HipInputError(
            f"time range {t0:.3f}–{t1:.3f} s is outside the kinematics ({start:.3f}–{end:.3f} s).",
            fix="choose a window inside the trial.",
        )
    return t0, t1


#: Hip-joint-centre height above the calcaneus origin, standing, as a fraction of body height
#: (measured on three models here: gait2392 subject01 0.513, Rajagopal2016 0.498 at 1.70 m,
#: Moco's scaled subject 0.501; Winter's greater-trochanter height is 0.530 H).
_LEG_TO_HEIGHT = 0.505


def model_height_m(model: str | Path | Any) -> float:
    """Body height estimated from a model's leg length (±2 % on the shared models; cached).

    OpenSim models carry no height; gait2hip needs one only to normalise residual moments
    (BW × height) when the user gives none.
    """
    identity = _file_identity(model)
    if identity is not None:
        return _cached_height(identity)
    return _height(load_model(model))


@functools.lru_cache(maxsize=32)
def _cached_height(identity: tuple) -> float:
    return _height(load_model(identity[0]))


def _height(loaded: Any) -> float:
    state = loaded.initSystem()
    coords = loaded.getCoordinateSet()
    for i in range(coords.getSize()):
        coord = coords.get(i)
        if coord.getName() != "pelvis_ty" and not coord.get_locked(0):
            coord.setValue(state, 0.0, False)
    loaded.realizePosition(state)
    bodies = loaded.getBodySet()
    names = {bodies.get(i).getName() for i in range(bodies.getSize())}
    if not {"femur_r", "calcn_r"} <= names:
        raise Gait2HipInputError(
            "cannot estimate height: the model has no femur_r / calcn_r bodies.",
            fix="give the subject's height (height_m).",
        )
    leg = bodies.get("femur_r").getPositionInGround(state).get(1) - bodies.get("calcn_r").getPositionInGround(
        state
    ).get(1)
    return float(leg / _LEG_TO_HEIGHT)
