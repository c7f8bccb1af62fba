"""Batch labelling over a manifest of trials: parallel processes, progress with ETA, resume.

Manifest (CSV, one row per trial; paths relative to the manifest's folder):

==========  ========  ==========================================================================
column      required  meaning
==========  ========  ==========================================================================
model       yes       scaled OpenSim model (.osim)
ik          yes       IK coordinates (.mot/.sto)
loads       yes       ExternalLoads .xml applying the GRF to the feet
grf         no        GRF .mot (default: the loads file's ``<datafile>``)
subject     no        subject id (default: the model file's stem)
mass_kg     no        body mass, kg (default: ``--mass``, else the model's mass)
height_m    no        height, m (default: estimated from the model; QA only)
trial       no        trial id, unique (default: the IK file's stem)
cohort      no        metadata cohort (default 'lab')
cadence     no        slow / med / fast or steps/min (default: measured)
start, end  no        s: only cycles inside this window
==========  ========  ==========================================================================

Output folder::

    OUT/trials/<trial>/   per-trial results, written to a temporary folder and renamed into
                          place when complete (atomic): <trial>_id.sto, _so_force.sto,
                          _so_activation.sto, _hip_forces.sto, qa.csv, cycles.npz
    OUT/dataset.npz       every kept cycle, in manifest order
    OUT/qa.csv, qa.json   the quality record of every cycle, thresholds and counts
    OUT/manifest.csv      the labelled trials as a lab folder (:mod:`gait2hip.data.lab`):
                          ``gait2hip data inspect OUT`` reads them back
    OUT/failures.csv      trials that could not be labelled, with the reason (if any)

A re-run skips trials whose folder exists, so a killed run loses at most the trials in
flight, and the merged outputs are identical to an uninterrupted run's (the merge reads
the per-trial files in manifest order; labelling is deterministic). Processes get file
paths only: OpenSim objects do not pickle.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.backends import Backend, Resources, open_executor
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.sim.label import (
    LabelConfig,
    _grf_file,
    lab_manifest_row,
    label_trial,
    trial_name,
    write_lab_manifest,
    write_quality,
    write_trial_outputs,
)

REQUIRED = ("model", "ik", "loads")
OPTIONAL = ("grf", "subject", "mass_kg", "height_m", "trial", "cohort", "cadence", "start", "end")
TRIALS = "trials"
#: What labelling one trial needs (one core; peak memory measured ≈ 0.3 GB, see docs/scale-out.md).
TRIAL_RESOURCES = Resources(cpus=1, memory_mb=1024)


@dataclass(frozen=True)
class TrialSpec:
    """One manifest row, validated, paths absolute (picklable: sent to worker processes)."""

    model: str
    ik: str
    loads: str
    grf: str | None
    subject: str | None
    mass_kg: float | None
    height_m: float | None
    trial: str
    cohort: str
    cadence: str | None
    start: float | None
    end: float | None


def _cell(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()


def _number(value, *, column: str, row: int, file: Path) -> float | None:
    text = _cell(value)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise Gait2HipInputError(
            f"row {row}: '{text}' is not a number.",
            file=file,
            column=column,
            fix="give a number or leave it empty.",
        ) from None


def read_label_manifest(path: str | Path, *, mass_kg: float | None = None) -> list[TrialSpec]:
    """Validate a labelling manifest; return one :class:`TrialSpec` per row."""
    path = Path(path)
    if not path.is_file():
        raise Gait2HipInputError("manifest not found.", file=path, fix="check the path.")
    try:
        table = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise Gait2HipInputError(f"cannot parse the manifest ({exc}).", file=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    for column in table.columns:
        if column not in REQUIRED + OPTIONAL:
            raise Gait2HipInputError(
                "unknown manifest column.", file=path, column=column,
                fix=f"columns: {', '.join(REQUIRED + OPTIONAL)} (see gait2hip.sim.batch).",
            )  # fmt: skip
    for column in REQUIRED:
        if column not in table.columns:
            raise Gait2HipInputError(
                "required manifest column is missing.", file=path, column=column,
                fix=f"give {', '.join(REQUIRED)} for every trial.",
            )  # fmt: skip
    if table.empty:
        raise Gait2HipInputError("the manifest has no trials.", file=path, fix="add one row per trial.")
    root = path.parent
    specs: list[TrialSpec] = []
    for i, row in enumerate(table.to_dict("records"), start=2):
        files = {}
        for column in ("model", "ik", "loads", "grf"):
            text = _cell(row.get(column))
            if not text:
                if column in REQUIRED:
                    raise Gait2HipInputError(
                        f"row {i}: empty.", file=path, column=column, fix="give the file."
                    )
                files[column] = None
                continue
            resolved = (root / text).resolve() if not Path(text).is_absolute() else Path(text)
            if not resolved.is_file():
                raise Gait2HipInputError(
                    f"row {i}: file '{text}' not found (paths are relative to the manifest).",
                    file=path, column=column, fix="correct the path.",
                )  # fmt: skip
            files[column] = str(resolved)
        mass = _number(row.get("mass_kg"), column="mass_kg", row=i, file=path)
        if mass is not None and not mass > 0:
            raise Gait2HipInputError(f"row {i}: mass {mass} kg must be > 0.", file=path, column="mass_kg")
        specs.append(
            TrialSpec(
                model=files["model"], ik=files["ik"], loads=files["loads"], grf=files["grf"],
                subject=_cell(row.get("subject")) or None,
                mass_kg=mass if mass is not None else mass_kg,
                height_m=_number(row.get("height_m"), column="height_m", row=i, file=path),
                trial=_cell(row.get("trial")) or trial_name(files["ik"]),
                cohort=_cell(row.get("cohort")) or "lab",
                cadence=_cell(row.get("cadence")) or None,
                start=_number(row.get("start"), column="start", row=i, file=path),
                end=_number(row.get("end"), column="end", row=i, file=path),
            )
        )  # fmt: skip
    names = [s.trial for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise Gait2HipInputError(
            f"trial ids must be unique; repeated: {', '.join(duplicates)}.", file=path, column="trial",
            fix="add a 'trial' column with a unique id per row.",
        )  # fmt: skip
    return specs


def _trial_folder(out: Path, trial: str) -> Path:
    return out / TRIALS / trial


def _remove_staging(out: Path) -> None:
    for stale in (out / TRIALS).glob(".*.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def label_one(spec: TrialSpec, out: str | Path, config: LabelConfig) -> dict:
    """Label one trial and move its results into place atomically. Runs in a worker."""
    out = Path(out)
    final = _trial_folder(out, spec.trial)
    if final.is_dir():
        return {"trial": spec.trial, "skipped": True}
    staging = out / TRIALS / f".{spec.trial}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    try:
        window = None
        if spec.start is not None or spec.end is not None:
            window = (-np.inf if spec.start is None else spec.start, np.inf if spec.end is None else spec.end)
        labels = label_trial(
            model=spec.model, ik=spec.ik, loads=spec.loads, grf=spec.grf, mass_kg=spec.mass_kg,
            height_m=spec.height_m, subject_id=spec.subject, trial_id=spec.trial, cohort=spec.cohort,
            cadence=spec.cadence, window=window, config=config,
        )  # fmt: skip
        write_trial_outputs(labels, staging, trial=spec.trial)
        labels.quality.to_csv(staging / "qa.csv", index=False, float_format="%.6g")
        grf = _grf_file(Path(spec.loads), None if spec.grf is None else Path(spec.grf))
        row = lab_manifest_row(
            labels=labels, folder=final, out=out, trial=spec.trial, ik=Path(spec.ik), grf=grf,
            loads=Path(spec.loads),
        )  # fmt: skip
        pd.DataFrame([row]).to_csv(staging / "manifest_row.csv", index=False)
        if labels.dataset is not None:
            labels.dataset.save(staging / "cycles.npz")
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():
                raise
            # another attempt finished this trial first (a Ray worker outliving its killed driver)
            shutil.rmtree(staging, ignore_errors=True)
            return {"trial": spec.trial, "skipped": True}
    except Gait2HipInputError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return {"trial": spec.trial, "error": str(exc)}
    except Exception as exc:  # one bad trial must not stop a night's batch
        shutil.rmtree(staging, ignore_errors=True)
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"trial": spec.trial, "error": f"unexpected failure: {last}"}
    return {
        "trial": spec.trial,
        "cycles": len(labels.quality),
        "kept": 0 if labels.dataset is None else len(labels.dataset),
        "seconds": time.perf_counter() - started,
    }


def merge_results(
    specs: list[TrialSpec], out: Path, *, config: LabelConfig
) -> tuple[GaitDataset | None, pd.DataFrame]:
    """Merge finished trials in manifest order into OUT/dataset.npz and OUT/qa.{csv,json}."""
    datasets, records, rows = [], [], []
    for spec in specs:
        folder = _trial_folder(out, spec.trial)
        if not folder.is_dir():
            continue
        quality = pd.read_csv(folder / "qa.csv", keep_default_na=False, na_values=[""])
        records.append(quality)
        if (folder / "manifest_row.csv").is_file():
            rows.extend(
                pd.read_csv(folder / "manifest_row.csv", dtype=str, keep_default_na=False).to_dict("records")
            )
        if (folder / "cycles.npz").is_file():
            datasets.append(GaitDataset.load(folder / "cycles.npz"))
    quality = pd.concat(records, ignore_index=True) if records else pd.DataFrame()
    write_quality(quality, out, thresholds=config.thresholds, exclude_flagged=config.exclude_flagged)
    if rows:
        write_lab_manifest(rows, out)
    dataset = None
    if datasets:
        dataset = GaitDataset.concat(datasets)
        dataset.attrs = {k: v for k, v in datasets[0].attrs.items() if k not in ("path", "name", "notes")}
        dataset.attrs["name"] = "gait2hip labels"
        dataset.save(out / "dataset.npz")
    return dataset, quality


@dataclass
class BatchLabels:
    """What :func:`label_manifest` did.

    Attributes
    ----------
    dataset
        The merged dataset (None when no cycle was kept).
    quality
        The QA record of every cycle of every finished trial.
    n_trials
        Trials in the manifest.
    done_before
        Trials already finished by an earlier run (skipped).
    failures
        One ``{"trial", "error"}`` record per trial that could not be labelled in this run
        (also written to ``OUT/failures.csv``).
    """

    dataset: GaitDataset | None
    quality: pd.DataFrame
    n_trials: int
    done_before: int
    failures: list[dict] = field(default_factory=list)

    @property
    def labelled_now(self) -> int:
        """Trials labelled in this run."""
        return self.n_trials - self.done_before - len(self.failures)


def label_manifest(
    *,
    manifest: str | Path,
    out: str | Path,
    jobs: int = 1,
    config: LabelConfig | None = None,
    mass_kg: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
) -> BatchLabels:
    """Label every trial of a manifest into ``out``, resuming a previous run.

    Parameters
    ----------
    manifest
        CSV as described in the module docstring.
    out
        Output folder (created).
    jobs
        Worker processes (1: in this process); with a local Ray instance, its CPUs.
    config
        Labelling settings (default: :class:`LabelConfig`).
    mass_kg
        Body mass for rows without ``mass_kg``.
    on_progress
        Called with (trials done, trials in the manifest) at the start and after each trial.
    backend
        Local processes (default) or Ray (:mod:`gait2hip.backends`): one task per trial, same
        per-trial folders, same outputs.

    Returns
    -------
    BatchLabels
        The merged dataset (None if no cycle was kept), the QA table and the run's counts.
    """
    config = LabelConfig() if config is None else config
    if jobs < 1:
        raise Gait2HipInputError(f"--jobs must be ≥ 1 (got {jobs}).")
    specs = read_label_manifest(manifest, mass_kg=mass_kg)
    out = Path(out)
    (out / TRIALS).mkdir(parents=True, exist_ok=True)
    _remove_staging(out)  # a run killed mid-trial left them unfinished
    todo = [s for s in specs if not _trial_folder(out, s.trial).is_dir()]
    done_before = len(specs) - len(todo)
    report = on_progress or (lambda done, total: None)
    report(done_before, len(specs))
    results: list[dict] = []
    # spawn, not fork: a parent that already ran OpenSim must not hand its state to children.
    with open_executor(backend, workers=jobs, start_method="spawn") as executor:
        for _, result in executor.map_unordered(
            label_one, todo, shared={"out": out, "config": config}, resources=TRIAL_RESOURCES
        ):
            results.append(result)
            report(done_before + len(results), len(specs))
    _remove_staging(out)  # a worker killed mid-trial (its trial was run again) left its folder
    failures = [r for r in results if "error" in r]
    failure_file = out / "failures.csv"
    if failures:
        pd.DataFrame(failures)[["trial", "error"]].to_csv(failure_file, index=False)
    elif failure_file.exists():
        failure_file.unlink()
    dataset, quality = merge_results(specs, out, config=config)
    if failures and len(failures) == len(todo) and done_before == 0:
        raise Gait2HipInputError(
            f"every trial failed; first: {failures[0]['trial']}: {failures[0]['error']}", file=failure_file
        )
    return BatchLabels(
        dataset=dataset, quality=quality, n_trials=len(specs), done_before=done_before, failures=failures
    )
