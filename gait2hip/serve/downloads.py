"""The files an analysis offers for download: one CSV of every cycle, and the ``gait2hip predict``
files (per-cycle OpenSim ``.sto`` and CSV, ``cycles.csv``) as one zip."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from gait2hip.predict import Predictor
from gait2hip.serve.store import scratch_root


def curves_csv(prediction: Any) -> bytes:
    """Every cycle's curves in one CSV, units in the column names (``glmed_r [N]``)."""
    curves = prediction.curves
    units = curves.attrs.get("units", {})
    table = curves.rename(columns={c: f"{c} [{u}]" for c, u in units.items() if u and u != "1"})
    flags = dict(zip(prediction.cycles["cycle"], prediction.cycles["ood"], strict=True))
    table["ood"] = [bool(flags[c]) for c in curves["cycle"]]
    return table.to_csv(index=False, float_format="%.6g").encode("utf-8")


def cycle_files_zip(prediction: Any, predictor: Predictor, filename: str) -> bytes:
    """The ``gait2hip predict`` files (per-cycle .sto and .csv, cycles.csv) as one zip."""
    from gait2hip.predict.write import write_prediction

    folder = Path(tempfile.mkdtemp(prefix="g2h-out-", dir=_scratch()))
    try:
        written = write_prediction(
            prediction, predictor=predictor, source=Path(filename), out=folder, plots=False
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in written:
                archive.write(path, arcname=path.name)
        return buffer.getvalue()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch() -> Path:
    return scratch_root()
