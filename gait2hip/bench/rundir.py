"""The run folder of a benchmark: ``run.json`` (checked on resume, stamped by a heartbeat), finished
units, and the curves the report draws.

Layout of DIR::

    run.json                 settings, data fingerprint and summary, split, units, calls, timing
    units/<unit>/predictions.npz, info.json    (info.json last: the unit's "done" mark)
    units/<unit>.inprogress/ checkpoints of the unit in training (removed once it is saved)
    models/<unit>/           model bundles (gait2hip.models.bundle)
    curves.npz               every prediction and reference curve scored (per kg)
    metrics.csv  subject_metrics.csv  real_trials.csv  paired_tests.csv
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from gait2hip.bench.data import Splits, fingerprint
from gait2hip.bench.settings import BenchmarkSettings, Unit
from gait2hip.errors import Gait2HipInputError
from gait2hip.train.protocols import PROTOCOLS, FittedUnit
from gait2hip.train.recipes import ABLATION_FLAGS

RUN_FORMAT = 1
#: Profile keys that change where a run goes, not what comes out (ignored on resume).
_RUNTIME_KEYS = ("threads", "workers", "device")


def check_run_file(out: Path, settings: BenchmarkSettings, splits: Splits, units: list[Unit]) -> dict:
    """Write ``run.json`` for this call, after checking a previous one describes the same run."""
    record = {
        "format": RUN_FORMAT,
        "settings": settings.to_dict(),
        "data_fingerprint": fingerprint(splits.dataset),
        "data_attrs": {
            k: v
            for k, v in splits.dataset.attrs.items()
            if isinstance(v, str | int | float | bool) and k != "path"
        },
        "data_summary": splits.summary(),
        "test_subjects": list(splits.holdout_test),
        "pool_subjects": sorted(set(splits.pool.meta["subject_id"])),
        "external_subjects": sorted(set(splits.external.meta["subject_id"]))
        if splits.external is not None
        else [],
        "units": [unit.to_dict() for unit in units],
        # what the report's methods table compares (the report reads no training code)
        "recipes": {name: recipe.to_dict() for name, recipe in PROTOCOLS.items()},
        "ablation_flags": {flag: list(fields) for flag, fields in ABLATION_FLAGS.items()},
    }
    path = out / "run.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    if previous:
        _check_same_run(path, previous, record)
    record["started"] = previous.get("started", time.time())
    # One entry per call of the command: a run resumed after a kill is timed call by call.
    record["calls"] = [*previous.get("calls", []), {"started": time.time()}]
    write_json(path, record)
    return record


def _check_same_run(path: Path, previous: dict, record: dict) -> None:
    if previous.get("data_fingerprint") != record["data_fingerprint"]:
        raise Gait2HipInputError(
            "this output folder holds a benchmark of different data; resuming would mix them.",
            file=path,
            fix="use a new --out folder (or delete this one).",
        )
    before_settings = previous.get("settings", {})
    before = dict(before_settings.get("profile", {}))
    # runs made before the device option trained on the CPU; older runs kept it in the profile
    before_device = before_settings.get("runtime", {}).get("device", before.get("device", "cpu"))
    for key in _RUNTIME_KEYS:
        before.pop(key, None)
    now = json.loads(json.dumps(record["settings"]["profile"]))
    if before != now or before_device != record["settings"]["runtime"]["device"]:
        raise Gait2HipInputError(
            "this output folder holds a benchmark run with another profile.",
            file=path,
            fix="use a new --out folder, or the same --profile to resume.",
        )


@contextlib.contextmanager
def heartbeat(out: Path, run_record: dict, seconds: float = 60.0) -> Iterator[None]:
    """Stamp this call's entry in run.json every minute, so a killed call still has a wall time."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            run_record["calls"][-1]["last_seen"] = time.time()
            write_json(out / "run.json", run_record)

    thread = threading.Thread(target=beat, name="gait2hip-run-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def finish_call(out: Path, run_record: dict, *, wall: float, trained: int, timing: dict) -> list[dict]:
    """Close this call's entry in run.json (end time, wall time, models trained) and store ``timing``."""
    run_record["calls"][-1].update(ended=time.time(), wall_seconds=wall, models_trained=trained)
    run_record["timing"] = {**timing, "calls": run_record["calls"]}
    write_json(out / "run.json", run_record)
    return run_record["calls"]


def write_json(path: Path, payload: dict) -> None:
    """Write atomically (a kill leaves the old file or the new one, never half of one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default))
    tmp.replace(path)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def save_unit(
    out: Path, unit: Unit, fitted: FittedUnit, predictions: dict[str, np.ndarray], splits: Splits
) -> None:
    """A trained unit's predictions, its model bundle, and its ``info.json`` last (the done mark)."""
    from gait2hip.models.datacard import data_card_from_dataset

    folder = out / "units" / unit.key
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "predictions.tmp.npz"
    np.savez_compressed(tmp, **predictions)
    tmp.replace(folder / "predictions.npz")
    description = (
        f"{unit.architecture} trained by gait2hip benchmark, protocol {unit.protocol}, target {unit.target}, "
        f"seed {unit.seed}" + (" — on SIMULATED data" if splits.dataset.attrs.get("simulated") else "")
    )
    fitted.save_bundle(
        out / "models" / unit.key,
        data_card=data_card_from_dataset(splits.pool),
        description=description,
        extra={
            "protocol": unit.protocol,
            "recipe": fitted.recipe.to_dict(),
            "seed": unit.seed,
            "final_epochs": fitted.final_epochs,
            "folds": fitted.folds,
        },
    )
    write_json(folder / "info.json", {**fitted.info(), "protocol": unit.protocol, "key": unit.key})


def load_unit(out: Path, unit: Unit | str) -> tuple[dict, dict[str, np.ndarray]] | None:
    """A finished unit's info and predictions (by unit or key), or None if it has not finished."""
    folder = out / "units" / (unit if isinstance(unit, str) else unit.key)
    if not (folder / "info.json").exists() or not (folder / "predictions.npz").exists():
        return None
    info = json.loads((folder / "info.json").read_text())
    with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
        predictions = {k: npz[k] for k in npz.files}
    return info, predictions


def write_curves(
    out: Path,
    predictions: Mapping[tuple[str, str, str, str], Mapping[str, np.ndarray]],
    truth: Mapping[tuple[str, str], np.ndarray],
) -> Path:
    """``curves.npz``: predictions as ``pred|protocol|model|target|seed|set``, references as
    ``truth|target|set`` (per kg; real trials NaN where a reference is unavailable).

    Read back by :func:`gait2hip.report.rundata.read_run` (the report needs no training code).
    """
    arrays = {
        "pred|" + "|".join(key) + f"|{name}": v
        for key, sets in predictions.items()
        for name, v in sets.items()
    }
    arrays |= {f"truth|{target}|{name}": v for (target, name), v in truth.items()}
    path = out / "curves.npz"
    tmp = out / "curves.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return path
