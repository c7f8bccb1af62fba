"""Train every unit of a benchmark that the run folder does not hold yet: in this process or a pool.

Every unit is seeded on its own, so the results depend neither on the order nor on the number
of processes. Progress goes to a :class:`~gait2hip.train.loop.ProgressSink` (the command layer's
rich progress; a queue forwards it from the worker processes); each finished unit's line goes to
``on_done``. Nothing here prints.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gait2hip.backends import Backend, Resources, drain, open_executor
from gait2hip.bench.data import Splits
from gait2hip.bench.rundir import load_unit, save_unit
from gait2hip.bench.settings import BenchmarkSettings, Unit
from gait2hip.train.loop import ProgressSink
from gait2hip.train.protocols import Trainer

Results = dict[str, tuple[dict, dict[str, np.ndarray]]]

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


def trainer_for(unit: Unit, settings: BenchmarkSettings) -> Trainer:
    """The estimator of one unit (a joint-target unit is named by the first target)."""
    return Trainer(
        recipe=unit.recipe,
        architecture=unit.architecture,
        budget=settings.budget,
        target=unit.target if unit.target != "joint" else settings.targets[0],
        seed=unit.seed,
        runtime=settings.runtime,
        model_overrides=settings.model_overrides.get(unit.architecture),
    )


def train_one(out: Path, unit: Unit, splits: Splits, settings: BenchmarkSettings, progress) -> str:
    """Train, predict every evaluation set, save; a line saying what was trained."""
    work_dir = out / "units" / f"{unit.key}.inprogress"
    fitted = trainer_for(unit, settings).fit(
        splits.pool, progress=progress, label=unit.label, work_dir=work_dir
    )
    predictions = {name: fitted.predict(data) for name, data in splits.eval_sets().items()}
    save_unit(out, unit, fitted, predictions, splits)
    shutil.rmtree(work_dir, ignore_errors=True)
    return (
        f"trained {unit.label}: {fitted.final_epochs} final epochs"
        + (f" (fold best {[f['best_epoch'] for f in fitted.folds]})" if fitted.folds else "")
        + f", {fitted.seconds:.0f} s ({fitted.cpu_seconds:.0f} s CPU)"
    )


def unit_resources(settings: BenchmarkSettings) -> Resources:
    """What training one unit needs: its torch threads, memory, and a GPU when it trains on CUDA."""
    cuda = settings.runtime.device.startswith("cuda")
    return Resources(cpus=settings.runtime.threads, memory_mb=2048, gpus=1 if cuda else 0)


def _worker(
    job_unit: tuple[int, Unit], *, out: Path, splits: Splits, settings: BenchmarkSettings, queue
) -> str:
    job, unit = job_unit
    return train_one(out, unit, splits, settings, _QueueProgress(queue, job))


def run_units(
    out: Path,
    units: list[Unit],
    splits: Splits,
    settings: BenchmarkSettings,
    *,
    progress: ProgressSink | None = None,
    on_done: Callable[[str], None] = lambda message: None,
    backend: Backend | None = None,
) -> tuple[Results, int]:
    """Train every unit not already in ``out`` (resume).

    Returns every unit's info and predictions by key, and how many units this call trained.
    With ``settings.runtime.workers > 1`` the units run in that many processes of
    ``runtime.threads`` torch threads each (independent units parallelise far better on a
    small CPU than torch's intra-op threads, and degrade gracefully on a shared machine).
    ``on_done`` receives one line per unit this call finishes. ``backend`` Ray: every unit is a
    Ray task (:func:`unit_resources`), written to the same unit folders.
    """
    results: Results = {}
    todo = []
    for unit in units:
        done = load_unit(out, unit)
        if done is not None:
            results[unit.key] = done
        else:
            todo.append(unit)
    workers = min(settings.runtime.workers, len(todo))
    if workers <= 1 and (backend is None or backend.name == "local"):
        for unit in todo:
            on_done(train_one(out, unit, splits, settings, progress))
    elif todo:
        run_parallel(
            out,
            sorted(todo, key=_unit_cost, reverse=True),
            splits,
            settings,
            progress,
            on_done,
            settings.runtime.workers,
            backend=backend,
        )
    for unit in todo:
        results[unit.key] = load_unit(out, unit)
    return results, len(todo)


def run_parallel(
    out: Path,
    todo: list[Unit],
    splits: Splits,
    settings: BenchmarkSettings,
    progress: ProgressSink | None,
    on_done: Callable[[str], None],
    workers: int,
    *,
    backend: Backend | None = None,
) -> None:
    """Train ``todo`` in ``workers`` spawned processes (or as Ray tasks), forwarding their progress
    to ``progress``."""
    tasks: dict = {}
    on_ray = backend is not None and backend.name == "ray"
    cpus = workers * settings.runtime.threads if on_ray else workers  # a local Ray instance's CPUs
    with (
        open_executor(backend, workers=cpus, start_method="spawn") as executor,
        executor.message_queue() as messages,
    ):

        def forward() -> None:
            for message in drain(messages):
                if progress is None:
                    continue
                if message[0] == "add":
                    _, key, description, total, fields = message
                    tasks[key] = progress.add_task(description, total=total, **fields)
                elif message[1] in tasks:
                    progress.update(tasks[message[1]], **message[2])

        for _, line in executor.map_unordered(
            _worker,
            list(enumerate(todo)),
            shared={"out": out, "splits": splits, "settings": settings, "queue": messages},
            resources=unit_resources(settings),
            poll=forward,
        ):
            forward()
            on_done(line)
