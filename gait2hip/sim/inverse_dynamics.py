"""Inverse dynamics with OpenSim's own InverseDynamicsTool: joint moments from kinematics
and (optionally) the measured external loads.

The tool is the reference: it reads the coordinates, pads and low-pass filters them
(IIR, when asked), fits quintic GCV splines for velocities and accelerations, applies the
ExternalLoads and solves for the generalized forces. gait2hip feeds it a complete
coordinate table (model names, radians, coupled coordinates filled) so that IK files,
Moco state tables and DataFrames all give the same answer as the tool on a clean file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage, write_storage
from gait2hip.sim.opensim_env import (
    coordinate_table,
    filter_time_range,
    import_opensim,
    load_model,
    quiet_stdout,
)


def external_loads_file(
    external_loads: str | Path, *, grf: str | Path | None = None, folder: Path | None = None
) -> Path:
    """Check an ExternalLoads XML (and its GRF data) and return a path the tools can use.

    Parameters
    ----------
    external_loads
        ExternalLoads .xml (``ExternalForce`` entries naming columns of the GRF file).
    grf
        GRF .mot to use instead of the XML's ``<datafile>``; the XML is then rewritten
        into ``folder`` pointing at it.
    folder
        Where a rewritten XML goes (required with ``grf``).

    Raises
    ------
    Gait2HipInputError
        Missing files, or a force/point/torque identifier with no x/y/z columns in the GRF file.
    """
    osim = import_opensim()
    xml = Path(external_loads)
    if not xml.is_file():
        raise Gait2HipInputError(
            "external loads file not found.", file=xml, fix="give the ExternalLoads .xml."
        )
    try:
        loads = osim.ExternalLoads(str(xml.resolve()), True)
    except RuntimeError as exc:
        raise Gait2HipInputError(
            f"OpenSim cannot read this ExternalLoads file ({str(exc).splitlines()[0]}).",
            file=xml,
            fix="give an OpenSim ExternalLoads .xml (as written by the GUI or the examples).",
        ) from None
    if grf is not None:
        data = Path(grf).resolve()
    else:
        datafile = loads.getDataFileName().strip()
        data = Path(datafile) if Path(datafile).is_absolute() else (xml.resolve().parent / datafile)
    if not data.is_file():
        raise Gait2HipInputError(
            f"the GRF data file '{data}' named by the external loads does not exist.",
            file=xml,
            fix="pass the GRF .mot explicitly (--grf) or correct <datafile>.",
        )
    columns = set(read_storage(data).columns)
    for i in range(loads.getSize()):
        force = loads.get(i)
        for identifier in (
            force.getForceIdentifier(),
            force.getPointIdentifier(),
            force.getTorqueIdentifier(),
        ):
            if identifier and not all(identifier + axis in columns for axis in "xyz"):
                raise Gait2HipInputError(
                    f"ExternalForce '{force.getName()}' reads columns {identifier}x/y/z, which the GRF "
                    "file does not have.",
                    file=data,
                    column=identifier + "x",
                    fix="match the identifiers in the loads .xml to the GRF column names.",
                )
    if grf is None:
        return xml.resolve()
    if folder is None:
        raise ValueError("folder is required when grf is given")
    loads.setDataFileName(str(data))
    rewritten = folder / "external_loads.xml"
    loads.printToXML(str(rewritten))
    return rewritten


def run_inverse_dynamics(
    *,
    model: str | Path | Any,
    coordinates: str | Path | pd.DataFrame,
    external_loads: str | Path | None = None,
    grf: str | Path | None = None,
    time_range: tuple[float, float] | None = None,
    lowpass_hz: float | None = None,
    in_degrees: bool | None = None,
    exclude_forces: tuple[str, ...] = ("muscles",),
    out_file: str | Path | None = None,
) -> pd.DataFrame:
    """Generalized forces from OpenSim's InverseDynamicsTool.

    Parameters
    ----------
    model
        Scaled model (.osim path or ``opensim.Model``; a Model is copied, not modified).
    coordinates
        IK output (.mot/.sto, degrees or radians per its header; Moco state-path columns are
        accepted) or a DataFrame indexed by time (or with a ``time`` column).
    external_loads
        ExternalLoads .xml. None applies NO external loads: the pelvis generalized forces
        then equal the external force the motion needs (≈ the total GRF).
    grf
        GRF .mot to use instead of the loads file's ``<datafile>``.
    time_range
        (start, end) in s; default: the whole kinematics.
    lowpass_hz
        Low-pass cut-off for the coordinates (OpenSim's padded IIR filter); None: no filter.
    in_degrees
        Unit of DataFrame angles when it cannot be read from a header (see
        :func:`gait2hip.sim.opensim_env.coordinate_table`).
    exclude_forces
        Force groups excluded from the dynamics (OpenSim default: the muscles).
    out_file
        Also write the result as an OpenSim .sto here.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``time`` (s); columns as OpenSim names them (``hip_flexion_r_moment``
        in N m, ``pelvis_tx_force`` in N, ...).
    """
    osim = import_opensim()
    if lowpass_hz is not None and not lowpass_hz > 0:
        raise Gait2HipInputError(f"low-pass cut-off {lowpass_hz} Hz must be > 0 (or None for no filter).")
    loaded = load_model(model, init=True)
    table = coordinate_table(loaded, coordinates, in_degrees=in_degrees)
    t0, t1 = filter_time_range(table, time_range)
    with tempfile.TemporaryDirectory(prefix="gait2hip-id-") as tmp:
        folder = Path(tmp)
        coords_file = write_storage(folder / "coordinates.sto", table, name="Coordinates", in_degrees=False)
        tool = osim.InverseDynamicsTool()
        tool.setModel(loaded)
        tool.setCoordinatesFileName(str(coords_file))
        if external_loads is not None:
            tool.setExternalLoadsFileName(str(external_loads_file(external_loads, grf=grf, folder=folder)))
        elif grf is not None:
            raise Gait2HipInputError(
                "a GRF file was given without the external-loads .xml that says where it applies.",
                file=grf,
                fix="pass the loads .xml too (--loads).",
            )
        tool.setStartTime(t0)
        tool.setEndTime(t1)
        tool.setLowpassCutoffFrequency(-1.0 if lowpass_hz is None else float(lowpass_hz))
        excluded = osim.ArrayStr()
        for group in exclude_forces:
            excluded.append(group)
        tool.setExcludedForces(excluded)
        tool.setResultsDir(str(folder))
        tool.setOutputGenForceFileName("inverse_dynamics.sto")
        with quiet_stdout():
            succeeded = tool.run()
        if not succeeded:
            raise Gait2HipInputError(
                "OpenSim inverse dynamics failed.",
                file=coordinates if not isinstance(coordinates, pd.DataFrame) else None,
                fix="check that the kinematics belong to this model and cover the time range.",
            )
        result = read_storage(folder / "inverse_dynamics.sto").data
    result = result.astype(float)
    if not np.all(np.isfinite(result.to_numpy())):
        raise Gait2HipInputError(
            "inverse dynamics produced NaN values (GRF data missing inside the time range?).",
            file=grf or external_loads,
            fix="choose a time range covered by both kinematics and force-plate data.",
        )
    if out_file is not None:
        write_storage(out_file, result, name="Inverse Dynamics Generalized Forces", in_degrees=False)
    return result
