"""Where the units of a long job run: a local process pool (the default) or a Ray cluster.

``gait2hip label --manifest``, ``gait2hip simulate cohort`` and ``gait2hip benchmark`` cut their
work into independent units (a trial to label, a virtual subject, a trained model). Each unit
writes its own result file atomically and a re-run skips the units whose file exists, so the
jobs only need an executor that runs ``fn(item, **shared)`` for every item and hands back the
results as they finish::

    with open_executor(Backend("ray"), workers=4) as executor:
        for index, result in executor.map_unordered(label_one, specs, shared={...}, resources=...):
            ...

* :class:`LocalExecutor`: in this process (one worker) or a pool of processes that end with
  their parent (:func:`gait2hip.workers.exit_with_parent`), as gait2hip always did;
* :class:`RayExecutor`: one Ray task per unit with declared resources (CPUs, memory, a GPU when
  the unit trains on CUDA), retried when its worker dies; ``shared`` arguments are put in Ray's
  object store once. It connects to ``Backend.address`` when given, uses a Ray instance this
  process already started (``ray.init`` in a test), or starts a quiet local one (no dashboard)
  with ``workers`` CPUs and shuts it down afterwards.

Units get plain data and file paths (OpenSim objects do not pickle; they are loaded inside the
unit). Ray is optional: ``pip install 'gait2hip[distributed]'``. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue as queue_module
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from gait2hip.errors import Gait2HipInputError
from gait2hip.workers import exit_with_parent

BACKENDS = ("local", "ray")
#: Task retries after the worker running it died (killed, out of memory, node lost).
RAY_MAX_RETRIES = 3


@dataclass(frozen=True)
class Backend:
    """Where units run: ``name`` 'local' (processes on this machine) or 'ray'; ``address`` of an
    existing Ray cluster (``ray start --head`` prints it; 'auto' finds the one on this node)."""

    name: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in BACKENDS:
            raise Gait2HipInputError(
                f"unknown backend '{self.name}'.", column="--backend", fix="use --backend local or ray."
            )
        if self.address is not None and self.name != "ray":
            raise Gait2HipInputError(
                "--address is the address of a Ray cluster.",
                column="--address",
                fix="add --backend ray, or leave --address out.",
            )


LOCAL = Backend()


@dataclass(frozen=True)
class Resources:
    """What one unit needs: CPU cores, memory (MiB; None: not declared) and GPUs (Ray only;
    the local pool runs ``workers`` units at a time)."""

    cpus: float = 1.0
    memory_mb: int | None = None
    gpus: float = 0.0

    def ray_options(self) -> dict:
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.memory_mb:
            options["memory"] = int(self.memory_mb) * 1024 * 1024
        return options


class _Executor:
    """What both executors share: :meth:`map_unordered`'s contract and its wait-poll-yield loop."""

    def map_unordered(
        self,
        fn: Callable,
        items: Sequence,
        *,
        shared: dict | None = None,
        resources: Resources | None = None,
        poll: Callable[[], None] | None = None,
        poll_seconds: float = 0.5,
    ) -> Iterator[tuple[int, Any]]:
        """``(index, fn(items[index], **shared))`` for every item, in the order they finish.

        ``resources``: what one unit needs (Ray tasks declare it). ``poll`` is called every
        ``poll_seconds`` while units run (e.g. to forward progress). An error of a unit is raised here.
        """
        return self._map(fn, items, shared or {}, resources or Resources(), poll, poll_seconds)

    def _map(self, fn, items, shared, resources, poll, poll_seconds) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    @staticmethod
    def _as_finished(
        pending: dict, *, wait_some: Callable[[list], Any], result: Callable[[Any], Any], poll
    ) -> Iterator[tuple[int, Any]]:
        """``(index, result(handle))`` of the ``pending`` handle → index map as ``wait_some`` (a
        wait with a timeout) returns finished handles; ``poll`` after every wait."""
        while pending:
            finished = wait_some(list(pending))
            if poll is not None:
                poll()
            for handle in finished:
                yield pending.pop(handle), result(handle)


class LocalExecutor(_Executor):
    """Units in this process (``workers`` = 1) or in a pool of ``workers`` processes.

    ``start_method`` is the pool's multiprocessing start method (None: the platform default).
    """

    name = "local"

    def __init__(self, workers: int, *, start_method: str | None = "spawn") -> None:
        self.workers, self.start_method = max(1, workers), start_method

    def _map(self, fn, items, shared, resources, poll, poll_seconds) -> Iterator[tuple[int, Any]]:
        workers = min(self.workers, len(items))
        if workers <= 1:
            for index, item in enumerate(items):
                yield index, fn(item, **shared)
                if poll is not None:
                    poll()
            return
        # spawn by default: no fork of a process holding torch / OpenMP / OpenSim state
        context = multiprocessing.get_context(self.start_method)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=exit_with_parent) as pool:
            pending = {pool.submit(fn, item, **shared): index for index, item in enumerate(items)}
            yield from self._as_finished(
                pending,
                wait_some=lambda futures: wait(futures, timeout=poll_seconds, return_when=FIRST_COMPLETED)[0],
                result=lambda future: future.result(),  # re-raises a worker's error here
                poll=poll,
            )

    @contextlib.contextmanager
    def message_queue(self) -> Iterator[Any]:
        """A queue units can ``put`` messages on (progress) and :func:`drain` reads here."""
        if self.workers <= 1:
            yield queue_module.Queue()
            return
        with multiprocessing.get_context(self.start_method).Manager() as manager:
            yield manager.Queue()


class RayExecutor(_Executor):
    """One Ray task per unit (see the module docstring); use through :func:`open_executor`."""

    name = "ray"

    def __init__(self, workers: int, *, address: str | None = None, max_retries: int = RAY_MAX_RETRIES):
        self.workers, self.address, self.max_retries = max(1, workers), address, max_retries
        self.started = False

    def __enter__(self) -> RayExecutor:
        ray = _import_ray()
        if ray.is_initialized():
            return self  # a Ray session of this process (a test's, or the caller's): use it
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "configure_logging": True,
        }
        if self.address:
            ray.init(address=self.address, **options)
        else:  # 'local' starts a new instance even when RAY_ADDRESS points elsewhere
            ray.init(address="local", num_cpus=self.workers, **options)
        self.started = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self.started:
            _import_ray().shutdown()
            self.started = False

    def _map(self, fn, items, shared, resources, poll, poll_seconds) -> Iterator[tuple[int, Any]]:
        """Units are Ray tasks with ``resources``, retried ``max_retries`` times when their worker
        dies (not when they raise)."""
        ray = _import_ray()
        if not items:
            return
        refs = {key: ray.put(value) for key, value in shared.items()}  # stored once
        task = ray.remote(fn).options(
            max_retries=self.max_retries, retry_exceptions=False, **resources.ray_options()
        )
        pending = {task.remote(item, **refs): index for index, item in enumerate(items)}

        def result(ref):
            try:
                return ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the unit's own error, not Ray's
                cause = getattr(exc, "cause", None)
                raise (cause if isinstance(cause, BaseException) else exc) from None

        try:
            yield from self._as_finished(
                pending,
                wait_some=lambda refs: ray.wait(refs, num_returns=1, timeout=poll_seconds)[0],
                result=result,
                poll=poll,
            )
        finally:
            for ref in pending:  # stopped early (an error, Ctrl-C): do not leave units running
                ray.cancel(ref, force=True)

    @contextlib.contextmanager
    def message_queue(self) -> Iterator[Any]:
        from ray.util.queue import Queue

        queue = Queue()
        try:
            yield queue
        finally:
            queue.shutdown()


def drain(queue) -> list:
    """Every message waiting on a :meth:`message_queue` queue, without blocking."""
    messages = []
    while True:
        try:
            messages.append(queue.get_nowait())
        except queue_module.Empty:  # ray.util.queue.Empty is one too
            return messages


@contextlib.contextmanager
def open_executor(
    backend: Backend | None, *, workers: int, start_method: str | None = "spawn"
) -> Iterator[LocalExecutor | RayExecutor]:
    """The executor of ``backend`` with ``workers`` parallel units on this machine (for Ray: the
    CPUs of the local instance it starts; a cluster given by ``address`` brings its own)."""
    backend = backend or LOCAL
    if backend.name == "local":
        yield LocalExecutor(workers, start_method=start_method)
        return
    with RayExecutor(workers, address=backend.address) as executor:
        yield executor


def ray_available() -> bool:
    """Whether the optional Ray extra is installed."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise Gait2HipInputError(
            "--backend ray needs Ray, which is not installed.",
            column="--backend",
            fix="pip install 'gait2hip[distributed]' (or use --backend local).",
        ) from None
    return ray
