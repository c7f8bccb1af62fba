"""``gait2hip benchmark``: train, compare and report LSTM / Transformer / Mamba (and any registered model).

Steps (each is a function below):

1. load the dataset, targets → N/kg and Nm/kg; the external cohort (``cohort == 'patient'``)
   is set aside; the 20 % subject hold-out of the paper splits the rest into POOL and TEST;
2. the real trials of the OpenSim examples are built once (:mod:`gait2hip.evaluate.realtrials`);
3. the mean-curve baseline is fitted on the pool;
4. every unit (protocol, model, target, seed) is trained unless DIR already holds it —
   predictions on TEST, on the patients and on the real trials are written to
   ``DIR/units/<unit>/``, the model to ``DIR/models/<unit>/`` (a bundle), and the unit's
   ``info.json`` last, as the "done" mark: a killed run resumes at the first unfinished unit;
5. metrics (per subject, then subject-mean) → ``DIR/metrics.csv``, ``DIR/subject_metrics.csv``,
   ``DIR/real_trials.csv``, paired tests → ``DIR/paired_tests.csv``;
6. the report: ``DIR/report.md``, ``DIR/report.html``, ``DIR/figures/*.png``.

Layout of DIR::

    run.json                 settings, data fingerprint, split (checked on resume)
    units/<unit>/predictions.npz, info.json
    models/<unit>/           model bundles (gait2hip.models.bundle)
    metrics.csv  subject_metrics.csv  real_trials.csv  paired_tests.csv
    report.md  report.html  figures/
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.evaluate.baseline import MeanCurveBaseline
from gait2hip.evaluate.metrics import (
    channel_pearson_r,
    channel_r2,
    pooled_r2,
    skill,
    subject_mean,
    subject_scores,
)
from gait2hip.evaluate.protocols import PAPER_SEED, PROFILES, PROTOCOLS, FittedUnit, Profile, fit_unit
from gait2hip.evaluate.realtrials import RealTrial, load_real_trials
from gait2hip.evaluate.splits import subject_holdout
from gait2hip.evaluate.stats import paired_wilcoxon
from gait2hip.progress import eta_progress
from gait2hip.train.loop import resolve_device
from gait2hip.train.recipes import TARGETS, Recipe, left_targets_available, per_kg
from gait2hip.workers import exit_with_parent

EXTERNAL_COHORT = "patient"
CADENCES = ("slow", "med", "fast")
BASELINE = "mean-curve"
RUN_FORMAT = 1


# ---------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class BenchmarkSettings:
    """What a benchmark run does (stored in ``run.json``; a resumed run must match)."""

    data: str
    targets: tuple[str, ...]
    models: tuple[str, ...]
    protocols: tuple[str, ...]
    profile: Profile
    seeds: int
    paper_seeds: int
    model_overrides: dict = field(default_factory=dict)
    #: Unpickle object arrays of a release file (how it is read, not what is computed: not in run.json).
    trust_pickle: bool = False

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "targets": list(self.targets),
            "models": list(self.models),
            "protocols": list(self.protocols),
            "profile": self.profile.to_dict(),
            "seeds": self.seeds,
            "paper_seeds": self.paper_seeds,
            "model_overrides": self.model_overrides,
        }


@dataclass(frozen=True)
class Unit:
    """One trained model: protocol (or ablation), architecture, target ('joint' = both), seed."""

    protocol: str
    architecture: str
    target: str
    seed: int
    recipe: Recipe

    @property
    def key(self) -> str:
        return f"{self.protocol}-{self.architecture}-{self.target}-s{self.seed}".replace(":", "_")

    def reported_targets(self, wanted: tuple[str, ...]) -> tuple[str, ...]:
        return wanted if self.target == "joint" else (self.target,)


@dataclass
class Splits:
    """The data of one run, split and in per-kg units."""

    dataset: GaitDataset
    pool: GaitDataset
    test: GaitDataset
    external: GaitDataset | None
    holdout_test: tuple[str, ...]
    real: list[RealTrial] = field(default_factory=list)
    real_problems: list[str] = field(default_factory=list)

    def eval_sets(self) -> dict[str, GaitDataset]:
        sets = {"test": self.test}
        if self.external is not None and len(self.external):
            sets["external"] = self.external
        if self.real:
            sets["real"] = GaitDataset.concat([t.dataset for t in self.real])
        return sets


def resolve_settings(
    *,
    data: str,
    target: str,
    models: list[str] | None,
    protocol: str,
    profile: str,
    seeds: int | None,
    device: str | None = None,
    trust_pickle: bool = False,
) -> BenchmarkSettings:
    """Validate the command's options into settings (one clear error per bad option)."""
    from gait2hip.models import available_models

    if profile not in PROFILES:
        raise Gait2HipInputError(
            f"unknown profile {profile!r}.", column="--profile", fix="use quick or full."
        )
    targets = {"forces": ("forces",), "moments": ("moments",), "both": ("forces", "moments")}.get(target)
    if targets is None:
        raise Gait2HipInputError(
            f"unknown target {target!r}.", column="--target", fix="use forces, moments or both."
        )
    protocols = {"paper": ("paper",), "gait2hip": ("gait2hip",), "both": ("paper", "gait2hip")}.get(protocol)
    if protocols is None:
        raise Gait2HipInputError(
            f"unknown protocol {protocol!r}.", column="--protocol", fix="use paper, gait2hip or both."
        )
    models = models or ["lstm", "transformer", "mamba"]
    unknown = [m for m in models if m not in available_models()]
    if unknown:
        raise Gait2HipInputError(
            f"unknown model(s) {', '.join(unknown)}.",
            column="--models",
            fix=f"choose from {', '.join(available_models())}.",
        )
    chosen = PROFILES[profile]
    if seeds is not None and seeds < 1:
        raise Gait2HipInputError(
            "--seeds must be at least 1.", column="--seeds", fix="pass --seeds 1 or more."
        )
    cpus = os.cpu_count() or 1
    # One single-threaded training process per core (at most 8) unless the profile or the
    # environment (GAIT2HIP_WORKERS, GAIT2HIP_THREADS) says otherwise.
    workers = int(os.environ.get("GAIT2HIP_WORKERS", chosen.workers or min(8, cpus)))
    threads = int(os.environ.get("GAIT2HIP_THREADS", max(chosen.threads, cpus // max(1, workers))))
    device = device or os.environ.get("GAIT2HIP_DEVICE", chosen.device)
    try:
        resolved = str(resolve_device(device))
    except ValueError as exc:
        raise Gait2HipInputError(
            f"{exc}.", column="--device", fix="use --device cpu, or run where torch sees a GPU."
        ) from None
    chosen = replace(chosen, threads=threads, workers=max(1, workers), device=resolved)
    return BenchmarkSettings(
        data=str(data),
        targets=targets,
        models=tuple(dict.fromkeys(models)),
        protocols=protocols,
        profile=chosen,
        seeds=seeds if seeds is not None else chosen.seeds,
        paper_seeds=seeds if seeds is not None else chosen.paper_seeds,
        trust_pickle=trust_pickle,
    )


def plan_units(
    settings: BenchmarkSettings, *, joint_possible: bool = True, mirror_possible: bool = True
) -> list[Unit]:
    """Every model the run trains.

    ``joint_possible`` is False when the data lacks forces or moments: the gait2hip recipe
    then trains one model per target (its ``joint_targets`` flag cannot apply).
    ``mirror_possible`` is False without left-hip target columns (e.g. the Gait2Hip-60
    release): mirroring is switched off and not ablated.
    """
    units: list[Unit] = []
    if "paper" in settings.protocols:
        for seed in range(PAPER_SEED, PAPER_SEED + settings.paper_seeds):
            for architecture in settings.models:
                for target in settings.targets:
                    units.append(Unit("paper", architecture, target, seed, PROTOCOLS["paper"]))
    if "gait2hip" in settings.protocols:
        recipe = PROTOCOLS["gait2hip"]
        if not joint_possible:
            recipe = replace(recipe, joint_targets=False)
        if not mirror_possible:
            recipe = replace(recipe, mirror=False)
        for seed in range(PAPER_SEED, PAPER_SEED + settings.seeds):
            for architecture in settings.models:
                for target in ("joint",) if recipe.joint_targets else settings.targets:
                    units.append(Unit("gait2hip", architecture, target, seed, recipe))
        for architecture in settings.profile.ablation_models:
            if architecture not in settings.models:
                continue
            for flag in settings.profile.ablation_flags:
                if (flag == "joint_targets" and not joint_possible) or (
                    flag == "mirror" and not mirror_possible
                ):
                    continue
                ablated = recipe.without(flag)
                for target in ("joint",) if ablated.joint_targets else settings.targets:
                    units.append(Unit(f"ablation:-{flag}", architecture, target, PAPER_SEED, ablated))
    return units


# ---------------------------------------------------------------------------- data
def fingerprint(dataset: GaitDataset) -> str:
    digest = hashlib.sha256()
    for array in (dataset.X, dataset.Y):
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    digest.update("|".join(dataset.input_columns + dataset.target_columns).encode())
    digest.update("|".join(dataset.meta["subject_id"].astype(str)).encode())
    return digest.hexdigest()[:16]


def prepare_data(settings: BenchmarkSettings, *, shared: Path | None) -> Splits:
    """Load, check, normalise per kg and split the data; build the real trials."""
    from gait2hip.data import load_dataset

    dataset = load_dataset(settings.data, trust_pickle=settings.trust_pickle)
    origin = dataset.attrs.get("path", settings.data)
    missing = [c for c in INPUT_ANGLES if c not in dataset.input_columns]
    if missing:
        raise Gait2HipInputError(
            "input angle column missing.",
            file=origin,
            column=missing[0],
            fix=f"the dataset needs the 10 input angles {', '.join(INPUT_ANGLES)}.",
        )
    for target in settings.targets:
        absent = [c for c in TARGETS[target] if c not in dataset.target_columns]
        if absent:
            raise Gait2HipInputError(
                f"the dataset has no {target} targets.",
                file=origin,
                column=absent[0],
                fix=f"choose --target {'moments' if target == 'forces' else 'forces'}, or use a dataset with "
                f"the {len(TARGETS[target])} {target} columns.",
            )
    dataset = per_kg(dataset)
    cohort = dataset.meta["cohort"].to_numpy(dtype=str)
    external = dataset.take(cohort == EXTERNAL_COHORT) if (cohort == EXTERNAL_COHORT).any() else None
    main = dataset.take(cohort != EXTERNAL_COHORT)
    holdout = subject_holdout(main.meta["subject_id"].to_numpy(dtype=str))
    pool = main.select(subjects=holdout.pool)
    test = main.select(subjects=holdout.test)
    real, problems = load_real_trials(shared, n_points=dataset.n_timepoints)
    return Splits(
        dataset=dataset,
        pool=pool,
        test=test,
        external=external,
        holdout_test=holdout.test,
        real=real,
        real_problems=problems,
    )


def _check_run_file(out: Path, settings: BenchmarkSettings, splits: Splits) -> dict:
    record = {
        "format": RUN_FORMAT,
        "settings": settings.to_dict(),
        "data_fingerprint": fingerprint(splits.dataset),
        "data_attrs": {
            k: v
            for k, v in splits.dataset.attrs.items()
            if isinstance(v, str | int | float | bool) and k != "path"
        },
        "test_subjects": list(splits.holdout_test),
        "pool_subjects": sorted(set(splits.pool.meta["subject_id"])),
        "external_subjects": sorted(set(splits.external.meta["subject_id"]))
        if splits.external is not None
        else [],
    }
    path = out / "run.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    if previous:
        if previous.get("data_fingerprint") != record["data_fingerprint"]:
            raise Gait2HipInputError(
                "this output folder holds a benchmark of different data; resuming would mix them.",
                file=path,
                fix="use a new --out folder (or delete this one).",
            )
        now = json.loads(json.dumps(record["settings"]["profile"]))
        before = dict(previous.get("settings", {}).get("profile", {}))
        before.setdefault("device", "cpu")  # runs made before the device option trained on the CPU
        for key in ("threads", "workers"):  # they change speed, not results
            before.pop(key, None)
            now.pop(key, None)
        if before != now:
            raise Gait2HipInputError(
                "this output folder holds a benchmark run with another profile.",
                file=path,
                fix="use a new --out folder, or the same --profile to resume.",
            )
    record["started"] = previous.get("started", time.time())
    # One entry per call of the command: a run resumed after a kill is timed call by call.
    record["calls"] = [*previous.get("calls", []), {"started": time.time()}]
    _write_json(path, record)
    return record


@contextlib.contextmanager
def _heartbeat(out: Path, run_record: dict, seconds: float = 60.0) -> Iterator[None]:
    """Stamp this call's entry in run.json every minute, so a killed call still has a wall time."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            run_record["calls"][-1]["last_seen"] = time.time()
            _write_json(out / "run.json", run_record)

    thread = threading.Thread(target=beat, name="gait2hip-run-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _finish_call(out: Path, run_record: dict, *, wall: float, trained: int) -> list[dict]:
    """Close this call's entry in run.json (end time, wall time, models trained); all calls."""
    run_record["calls"][-1].update(ended=time.time(), wall_seconds=wall, models_trained=trained)
    _write_json(out / "run.json", run_record)
    return run_record["calls"]


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default))
    tmp.replace(path)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


# ---------------------------------------------------------------------------- units
def _save_unit(
    out: Path, unit: Unit, fitted: FittedUnit, predictions: dict[str, np.ndarray], splits: Splits
) -> None:
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
    _write_json(folder / "info.json", {**fitted.info(), "protocol": unit.protocol, "key": unit.key})


def load_unit(out: Path, unit: Unit) -> tuple[dict, dict[str, np.ndarray]] | None:
    """A finished unit's info and predictions, or None if it has not finished."""
    folder = out / "units" / unit.key
    if not (folder / "info.json").exists() or not (folder / "predictions.npz").exists():
        return None
    info = json.loads((folder / "info.json").read_text())
    with np.load(folder / "predictions.npz", allow_pickle=False) as npz:
        predictions = {k: npz[k] for k in npz.files}
    return info, predictions


#: Relative training cost per cycle-epoch (measured on 2 CPU cores), used only to start the
#: most expensive units first so that parallel workers finish together.
_COST = {"lstm": 1.0, "tcn": 0.7, "transformer": 2.5, "mamba": 4.0}


def _unit_cost(unit: Unit) -> float:
    cost = _COST.get(unit.architecture, 2.0)
    if unit.recipe.bidirectional and unit.architecture in ("lstm", "mamba"):
        cost *= 2.5
    if unit.recipe.mirror:
        cost *= 2.0
    return cost * (1.5 if unit.recipe.epoch_selection == "cv" else 1.0)


class _QueueProgress:
    """The slice of ``rich.progress.Progress`` the training loop uses, forwarded through a queue."""

    def __init__(self, queue, job: int) -> None:
        # task keys are (job, n): unique per unit, whichever process happens to run it
        self.queue, self.job, self.count = queue, job, 0

    def add_task(self, description: str, total: int, **fields) -> tuple[int, int]:
        self.count += 1
        task = (self.job, self.count)
        self.queue.put(("add", task, description, total, fields))
        return task

    def update(self, task, **kwargs) -> None:
        self.queue.put(("update", task, kwargs))


def _train_one(
    out: Path, unit: Unit, splits: Splits, settings: BenchmarkSettings, progress, label: str
) -> str:
    work_dir = out / "units" / f"{unit.key}.inprogress"
    fitted = fit_unit(
        splits.pool,
        architecture=unit.architecture,
        recipe=unit.recipe,
        target=unit.target if unit.target != "joint" else settings.targets[0],
        seed=unit.seed,
        profile=settings.profile,
        progress=progress,
        label=label,
        extra_overrides=settings.model_overrides.get(unit.architecture),
        work_dir=work_dir,
    )
    predictions = {name: fitted.predict(data) for name, data in splits.eval_sets().items()}
    _save_unit(out, unit, fitted, predictions, splits)
    shutil.rmtree(work_dir, ignore_errors=True)
    return (
        f"trained {label}: {fitted.final_epochs} final epochs"
        + (f" (fold best {[f['best_epoch'] for f in fitted.folds]})" if fitted.folds else "")
        + f", {fitted.seconds:.0f} s ({fitted.cpu_seconds:.0f} s CPU)"
    )


def _worker(out: Path, unit: Unit, splits: Splits, settings: BenchmarkSettings, queue, job: int) -> str:
    import torch

    torch.set_num_threads(settings.profile.threads)
    label = f"{unit.protocol} {unit.architecture} {unit.target} s{unit.seed}"
    return _train_one(out, unit, splits, settings, _QueueProgress(queue, job), label)


def run_units(
    out: Path, units: list[Unit], splits: Splits, settings: BenchmarkSettings, console: Console
) -> tuple[dict[str, tuple[dict, dict[str, np.ndarray]]], int]:
    """Train every unit not already in ``out`` (resume), with progress and ETA.

    Returns every unit's info and predictions by key, and how many units this call trained.

    With ``profile.workers > 1`` the units run in that many processes of ``profile.threads``
    torch threads each (independent units parallelise far better on a small CPU than torch's
    intra-op threads, and degrade gracefully when the machine is shared). Every unit is seeded
    on its own, so the results do not depend on the order or the number of workers.
    """
    results: dict[str, tuple[dict, dict[str, np.ndarray]]] = {}
    todo = []
    for unit in units:
        done = load_unit(out, unit)
        if done is not None:
            results[unit.key] = done
        else:
            todo.append(unit)
    if results:
        console.print(f"Resuming: {len(results)} of {len(units)} trained models found in {out}/units.")
    if not todo:
        return results, 0
    workers = min(settings.profile.workers, len(todo))
    with eta_progress(console=console, status=True) as progress:
        overall = progress.add_task("models trained", total=len(todo), status="")
        if workers <= 1:
            for unit in todo:
                label = f"{unit.protocol} {unit.architecture} {unit.target} s{unit.seed}"
                progress.update(overall, status=label)
                message = _train_one(out, unit, splits, settings, progress, label)
                results[unit.key] = load_unit(out, unit)
                progress.advance(overall)
                progress.console.print(_with_count(message, progress, overall))
            return results, len(todo)
        _run_parallel(
            out, sorted(todo, key=_unit_cost, reverse=True), splits, settings, progress, overall, workers
        )
        for unit in todo:
            results[unit.key] = load_unit(out, unit)
    return results, len(todo)


def _with_count(message: str, progress: Progress, overall) -> str:
    """Prefix a finished unit's line with the overall count, elapsed time and ETA: the only progress a
    run writing to a log file (no terminal, so no live bars) shows."""
    task = progress.tasks[overall]
    elapsed = task.elapsed or 0.0
    # units start most expensive first, so the mean so far over-estimates what is left
    left = elapsed / task.completed * (task.total - task.completed) if task.completed else float("nan")
    count = f"{task.completed:.0f}/{task.total:.0f} models"
    return f"[{count}, {elapsed / 3600:.2f} h, ≤ {left / 3600:.2f} h left] {message}"


def _run_parallel(
    out: Path,
    todo: list[Unit],
    splits: Splits,
    settings: BenchmarkSettings,
    progress: Progress,
    overall,
    workers: int,
) -> None:
    import multiprocessing as mp
    import queue as queue_module
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = mp.get_context("spawn")  # no fork of a process holding torch / OpenMP state
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(workers, mp_context=context, initializer=exit_with_parent) as pool,
    ):
        messages = manager.Queue()
        tasks: dict = {}
        pending = {
            pool.submit(_worker, out, unit, splits, settings, messages, i): unit
            for i, unit in enumerate(todo)
        }
        while pending:
            finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            while True:
                try:
                    message = messages.get_nowait()
                except queue_module.Empty:
                    break
                if message[0] == "add":
                    _, key, description, total, fields = message
                    tasks[key] = progress.add_task(description, total=total, **fields)
                elif message[1] in tasks:
                    progress.update(tasks[message[1]], **message[2])
            for future in finished:
                pending.pop(future)
                message = future.result()  # re-raises a worker's error here
                progress.advance(overall)
                progress.console.print(_with_count(message, progress, overall))


# ---------------------------------------------------------------------------- metrics
def _target_slice(columns: list[str], target: str) -> list[int]:
    return [columns.index(c) for c in TARGETS[target]]


def _cohort_rows(
    data: GaitDataset,
    prediction: np.ndarray,
    *,
    target: str,
    base: dict,
) -> tuple[list[dict], list[dict]]:
    """Metric rows (overall + per cadence) and per-subject rows for one cohort."""
    truth = data.select_targets(TARGETS[target]).Y
    labels = data.meta["cadence_label"].to_numpy(dtype=str)
    subjects = data.meta["subject_id"].to_numpy(dtype=str)
    rows, subject_rows = [], []
    for cadence in ("overall", *CADENCES):
        mask = np.ones(len(data), dtype=bool) if cadence == "overall" else labels == cadence
        if not mask.any():
            continue
        per_subject = subject_scores(truth[mask], prediction[mask], subjects[mask])
        rows.append({**base, "cadence": cadence, **subject_mean(per_subject)})
        for subject, values in per_subject.iterrows():
            subject_rows.append({**base, "cadence": cadence, "subject_id": subject, **values.to_dict()})
    return rows, subject_rows


def compute_metrics(
    units: list[Unit], results: dict, splits: Splits, settings: BenchmarkSettings
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """metrics.csv, subject_metrics.csv and real_trials.csv frames, plus the curves for the figures.

    Returns
    -------
    metrics, subject_metrics, real_trials, predictions
        ``predictions[(protocol, model, target, seed)][set]`` = per-kg predictions of that
        target (seed 'ensemble' for the seed average, model 'mean-curve' for the baseline).
    """
    eval_sets = splits.eval_sets()
    cohorts = {"test": "healthy", "external": EXTERNAL_COHORT}
    predictions: dict[tuple, dict[str, np.ndarray]] = {}
    for target in settings.targets:
        baseline = MeanCurveBaseline.fit(splits.pool.select_targets(TARGETS[target]))
        predictions[("baseline", BASELINE, target, "-")] = {
            n: baseline.predict(d) for n, d in eval_sets.items()
        }
    for unit in units:
        info, preds = results[unit.key]
        for target in unit.reported_targets(settings.targets):
            idx = _target_slice(info["target_columns"], target)
            predictions[(unit.protocol, unit.architecture, target, str(unit.seed))] = {
                name: values[:, :, idx] for name, values in preds.items()
            }
    # Seed ensembles: the mean prediction over a system's seeds.
    by_system: dict[tuple, list[dict]] = {}
    for (protocol, model, target, seed), sets in predictions.items():
        if seed not in ("-", "ensemble"):
            by_system.setdefault((protocol, model, target), []).append(sets)
    for (protocol, model, target), runs in by_system.items():
        if len(runs) > 1:
            predictions[(protocol, model, target, "ensemble")] = {
                name: np.mean([r[name] for r in runs], axis=0) for name in runs[0]
            }

    rows, subject_rows, real_rows = [], [], []
    for (protocol, model, target, seed), sets in predictions.items():
        unit_text = "N/kg" if target == "forces" else "Nm/kg"
        base = {"protocol": protocol, "model": model, "target": target, "seed": seed, "units": unit_text}
        for set_name, cohort in cohorts.items():
            if set_name not in sets:
                continue
            r, s = _cohort_rows(
                eval_sets[set_name], sets[set_name], target=target, base={**base, "cohort": cohort}
            )
            rows += r
            subject_rows += s
        if "real" in sets:
            real = eval_sets["real"]
            for i, trial in enumerate(splits.real):
                columns = [c for c in TARGETS[target] if c in trial.available]
                if not columns:
                    continue
                idx = [TARGETS[target].index(c) for c in columns]
                truth = real.select_targets(columns).Y[i : i + 1]
                pred = sets["real"][i : i + 1][:, :, idx]
                err = truth - pred
                real_rows.append(
                    {
                        **base,
                        "trial": trial.name,
                        "n_channels": len(columns),
                        "rmse": float(np.sqrt(np.mean(err**2))),
                        "mae": float(np.mean(np.abs(err))),
                        "r_channel": float(np.nanmean(channel_pearson_r(truth, pred))),
                        "r2_channel": float(np.nanmean(channel_r2(truth, pred))),
                        "r2_paper": pooled_r2(truth, pred),
                        **{
                            f"r_{c}": float(v)
                            for c, v in zip(columns, channel_pearson_r(truth, pred), strict=True)
                        },
                    }
                )
    metrics = pd.DataFrame(rows)
    if len(metrics):
        key = ["target", "cohort", "cadence"]
        reference = metrics[metrics["model"] == BASELINE].set_index(key)["rmse"]
        metrics["skill"] = [
            skill(row.rmse, reference.get((row.target, row.cohort, row.cadence), np.nan))
            for row in metrics.itertuples()
        ]
    real_frame = pd.DataFrame(real_rows)
    if len(real_frame):
        reference = real_frame[real_frame["model"] == BASELINE].set_index(["target", "trial"])["rmse"]
        real_frame["skill"] = [
            skill(row.rmse, reference.get((row.target, row.trial), np.nan)) for row in real_frame.itertuples()
        ]
    return metrics, pd.DataFrame(subject_rows), real_frame, predictions


def paired_tests(subject_metrics: pd.DataFrame, settings: BenchmarkSettings) -> pd.DataFrame:
    """Wilcoxon signed-rank on per-subject RMSE (healthy test subjects, seed-averaged), per target."""
    if subject_metrics.empty:
        return pd.DataFrame()
    frames = []
    data = subject_metrics[
        (subject_metrics["cohort"] == "healthy")
        & (subject_metrics["cadence"] == "overall")
        & (subject_metrics["seed"] != "ensemble")
        & (~subject_metrics["protocol"].str.startswith("ablation"))
    ]
    for target, group in data.groupby("target"):
        systems = {
            f"{protocol}/{model}": g.groupby("subject_id")["rmse"].mean()
            for (protocol, model), g in group.groupby(["protocol", "model"])
        }
        names = list(systems)
        pairs = []
        for protocol in settings.protocols:
            within = [n for n in names if n.startswith(protocol + "/")]
            pairs += [(a, b) for i, a in enumerate(within) for b in within[i + 1 :]]
            pairs += [(a, f"baseline/{BASELINE}") for a in within if f"baseline/{BASELINE}" in systems]
        if {"paper", "gait2hip"} <= set(settings.protocols):
            pairs += [
                (f"gait2hip/{m}", f"paper/{m}")
                for m in settings.models
                if f"gait2hip/{m}" in systems and f"paper/{m}" in systems
            ]
        table = paired_wilcoxon(systems, pairs=pairs)
        table.insert(0, "target", target)
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ---------------------------------------------------------------------------- cost model
#: Assumed epochs per paper-protocol fold in full (best epoch + patience; the paper's CSVs show
#: best epochs 26-300, median ≈ 170) and of its final retraining.
FULL_FOLD_EPOCHS = 200
FULL_FINAL_EPOCHS = 170


def estimate_full_seconds(
    units: list[Unit],
    results: dict,
    *,
    pool_cycles: int,
    settings: BenchmarkSettings,
    mirror_factor: float = 2.0,
) -> dict[str, float]:
    """Extrapolate the measured training speed of this run to ``--profile full`` on the same data.

    Speed = CPU seconds per (training cycle × epoch) of one single-threaded training process
    (independent of how loaded the machine was), per protocol and architecture (the
    gait2hip recipe's bidirectional models cost more per cycle than the paper's). Work in full:
    paper = per (model, target, seed) 5 folds × ``FULL_FOLD_EPOCHS`` on 80 % of the pool +
    ``FULL_FINAL_EPOCHS`` on the pool; gait2hip = per (model, seed) the fixed budget on the pool
    plus its mirror (×2); ablation = one gait2hip model per flag (two without joint targets).
    """
    full = PROFILES["full"]
    speed: dict[tuple[str, str], float] = {}
    for unit in units:
        info = results[unit.key][0]
        if info.get("cycle_epochs"):
            kind = "paper" if unit.protocol == "paper" else "gait2hip"
            spent = info.get("cpu_seconds") or info["seconds"]
            speed.setdefault((kind, unit.architecture), spent / info["cycle_epochs"])
    seconds = {"paper": 0.0, "gait2hip": 0.0, "ablation": 0.0}
    n_targets = len(settings.targets)
    for architecture in settings.models:
        if ("paper", architecture) in speed and "paper" in settings.protocols:
            work = full.folds * FULL_FOLD_EPOCHS * 0.8 * pool_cycles + FULL_FINAL_EPOCHS * pool_cycles
            seconds["paper"] += speed[("paper", architecture)] * work * n_targets * full.paper_seeds
        if ("gait2hip", architecture) in speed and "gait2hip" in settings.protocols:
            work = full.fixed_epochs * pool_cycles * mirror_factor
            seconds["gait2hip"] += speed[("gait2hip", architecture)] * work * full.seeds
            if architecture in full.ablation_models:
                runs = len(full.ablation_flags) + 1  # joint_targets off trains two models
                seconds["ablation"] += speed[("gait2hip", architecture)] * work * runs
    seconds["total"] = sum(seconds.values())
    seconds["idle_wall_with_workers"] = seconds["total"] / max(1, settings.profile.workers)
    return seconds


# ---------------------------------------------------------------------------- command
def run_benchmark(*, out: Path, settings: BenchmarkSettings, shared: Path | None, console: Console) -> Path:
    """Run (or resume) a benchmark into ``out`` and write its report; returns the report path."""
    import torch

    from gait2hip.report.report import write_report

    started, cpu_started = time.perf_counter(), time.process_time()
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(settings.profile.threads)
    splits = prepare_data(settings, shared=shared)
    run_record = _check_run_file(out, settings, splits)
    console.print(
        f"Data: {len(splits.dataset)} cycles, {splits.dataset.meta['subject_id'].nunique()} subjects "
        f"({'SIMULATED' if splits.dataset.attrs.get('simulated') else 'measured'}); pool "
        f"{splits.pool.meta['subject_id'].nunique()} subjects / {len(splits.pool)} cycles, test "
        f"{len(splits.holdout_test)} subjects / {len(splits.test)} cycles, external "
        f"{0 if splits.external is None else splits.external.meta['subject_id'].nunique()} patients; "
        f"{len(splits.real)} real trial(s). Profile {settings.profile.name}, "
        f"{settings.profile.workers} training process(es) × {settings.profile.threads} thread(s)."
    )
    for problem in splits.real_problems:
        console.print(f"[yellow]real-trial check:[/] {problem}")
    joint_possible = all(c in splits.dataset.target_columns for c in MUSCLE_GROUPS_R + MOMENTS_R)
    units = plan_units(
        settings, joint_possible=joint_possible, mirror_possible=left_targets_available(splits.dataset)
    )
    with _heartbeat(out, run_record):
        results, trained = run_units(out, units, splits, settings, console)
    metrics, subject_metrics, real_frame, predictions = compute_metrics(units, results, splits, settings)
    tests = paired_tests(subject_metrics, settings)
    metrics.to_csv(out / "metrics.csv", index=False, float_format="%.6g")
    subject_metrics.to_csv(out / "subject_metrics.csv", index=False, float_format="%.6g")
    real_frame.to_csv(out / "real_trials.csv", index=False, float_format="%.6g")
    tests.to_csv(out / "paired_tests.csv", index=False, float_format="%.6g")
    train_seconds = sum(results[u.key][0].get("seconds", 0.0) for u in units)
    train_cpu = sum(results[u.key][0].get("cpu_seconds", 0.0) for u in units)
    wall = time.perf_counter() - started
    calls = _finish_call(out, run_record, wall=wall, trained=trained)
    timing = {
        "wall_seconds_this_call": wall,
        "calls": calls,
        "cpu_seconds_this_call": time.process_time() - cpu_started,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "training_seconds_all_units": train_seconds,
        "training_cpu_seconds_all_units": train_cpu,
        "workers": settings.profile.workers,
        "full_profile_estimate_s": estimate_full_seconds(
            units,
            results,
            pool_cycles=len(splits.pool),
            settings=settings,
            mirror_factor=2.0 if joint_possible or any(u.recipe.mirror for u in units) else 1.0,
        ),
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPU(s) · {settings.profile.workers} training process(es) × "
        f"{settings.profile.threads} torch thread(s)",
    }
    report = write_report(
        out=out,
        settings=settings,
        splits=splits,
        units=units,
        results=results,
        metrics=metrics,
        subject_metrics=subject_metrics,
        real_frame=real_frame,
        tests=tests,
        predictions=predictions,
        run_record=run_record,
        timing=timing,
        shared=shared,
    )
    return report


def benchmark_command(
    *,
    out: Path,
    data: str,
    target: str,
    models: list[str] | None,
    protocol: str,
    profile: str,
    seeds: int | None,
    shared: Path | None,
    console: Console,
    device: str | None = None,
    trust_pickle: bool = False,
) -> Path:
    """``gait2hip benchmark``: see the module docstring. Prints where the report is."""
    from gait2hip.paths import shared_dir

    settings = resolve_settings(
        data=data,
        target=target,
        models=models,
        protocol=protocol,
        profile=profile,
        seeds=seeds,
        device=device,
        trust_pickle=trust_pickle,
    )
    shared_root = shared_dir(path=shared) if shared is not None else shared_dir()
    if shared is not None and shared_root is None:
        raise Gait2HipInputError("shared folder not found.", file=shared, fix="check the --shared path.")
    started = time.perf_counter()
    report = run_benchmark(out=Path(out), settings=settings, shared=shared_root, console=console)
    minutes = (time.perf_counter() - started) / 60
    console.print(
        f"[bold green]Benchmark done[/] in {minutes:.1f} min. Report: {report} "
        f"(HTML: {report.with_suffix('.html')}; metrics: {Path(out) / 'metrics.csv'})"
    )
    return report
