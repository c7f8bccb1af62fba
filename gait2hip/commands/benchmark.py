"""``gait2hip benchmark``: option choices, environment, settings, progress and printing around
:func:`gait2hip.bench.benchmark.run_benchmark` and :func:`gait2hip.report.write.write_report`."""

from __future__ import annotations

import os
import time
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from gait2hip.errors import Gait2HipInputError


class Target(StrEnum):
    """``--target``: 'both' = forces and moments; 'contact' = the hip contact force (% BW); 'all' = the
    three (contact needs a dataset labelled with it, e.g. the embedded cohort 2.0)."""

    forces = "forces"
    moments = "moments"
    both = "both"
    contact = "contact"
    all = "all"

    @property
    def targets(self) -> tuple[str, ...]:
        if self is Target.both:
            return ("forces", "moments")
        if self is Target.all:
            return ("forces", "moments", "contact")
        return (self.value,)


class ProtocolChoice(StrEnum):
    paper = "paper"
    gait2hip = "gait2hip"
    both = "both"

    @property
    def protocols(self) -> tuple[str, ...]:
        return ("paper", "gait2hip") if self is ProtocolChoice.both else (self.value,)


class ProfileName(StrEnum):
    quick = "quick"
    full = "full"


def csv_list(text: str | None) -> list[str]:
    """'a, b,,c' → ['a', 'b', 'c']."""
    return [] if text is None else [part.strip() for part in text.split(",") if part.strip()]


def check_models(models: list[str], *, option: str = "--models") -> tuple[str, ...]:
    """The architectures asked for, each registered (one clear error otherwise)."""
    from gait2hip.models import available_models

    unknown = [m for m in models if m not in available_models()]
    if unknown:
        raise Gait2HipInputError(
            f"unknown model(s) {', '.join(unknown)}.",
            column=option,
            fix=f"choose from {', '.join(available_models())}.",
        )
    return tuple(dict.fromkeys(models))


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise Gait2HipInputError(
            f"environment variable {name}={text!r} is not a whole number ≥ 1.",
            column=name,
            fix=f"set {name}=2 (for example), or unset it.",
        )
    return value


def runtime_from_environment(device: str | None, *, check_device: bool = True):
    """Where training runs: one single-threaded process per core (at most 8) unless
    GAIT2HIP_WORKERS / GAIT2HIP_THREADS say otherwise; the device from ``--device`` or
    GAIT2HIP_DEVICE (default cpu), checked against this machine here, once (not with
    ``check_device=False``: units on a Ray cluster ask the scheduler for a GPU node instead)."""
    from gait2hip.train.protocols import Runtime

    cpus = os.cpu_count() or 1
    workers = _env_int("GAIT2HIP_WORKERS", min(8, cpus))
    threads = _env_int("GAIT2HIP_THREADS", max(1, cpus // workers))
    chosen = device or os.environ.get("GAIT2HIP_DEVICE", "cpu")
    try:
        runtime = Runtime(threads=threads, workers=workers, device=chosen)
        if not check_device and chosen.startswith("cuda"):
            return runtime
        return runtime.resolved()
    except ValueError as exc:
        raise Gait2HipInputError(
            f"{exc}.", column="--device", fix="use --device cpu, or run where torch sees a GPU."
        ) from None


def resolve_settings(
    *,
    data: str,
    target: Target,
    models: list[str],
    protocol: ProtocolChoice,
    profile: ProfileName,
    seeds: int | None,
    device: str | None = None,
    trust_pickle: bool = False,
    cluster: bool = False,
):
    """The typed options of ``gait2hip benchmark`` → :class:`~gait2hip.bench.settings.BenchmarkSettings`."""
    from gait2hip.bench.settings import DEFAULT_MODELS, BenchmarkSettings
    from gait2hip.train.protocols import BUDGETS

    if seeds is not None and seeds < 1:
        raise Gait2HipInputError(
            "--seeds must be at least 1.", column="--seeds", fix="pass --seeds 1 or more."
        )
    from gait2hip.data import EMBEDDED_TARGET_GROUPS

    budget = BUDGETS[ProfileName(profile).value]
    targets = Target(target).targets
    if Target(target) is Target.both and str(data) in EMBEDDED_TARGET_GROUPS:
        targets = EMBEDDED_TARGET_GROUPS[str(data)]  # e.g. fukuchi2018: hip moments only
    return BenchmarkSettings(
        data=str(data),
        targets=targets,
        models=check_models(models or list(DEFAULT_MODELS)),
        protocols=ProtocolChoice(protocol).protocols,
        budget=budget,
        seeds=seeds if seeds is not None else budget.seeds,
        paper_seeds=seeds if seeds is not None else budget.paper_seeds,
        runtime=runtime_from_environment(device, check_device=not cluster),
        trust_pickle=trust_pickle,
    )


def resolve_shared(shared: Path | None) -> Path | None:
    """The shared-inputs folder: ``--shared`` (must exist), else GAIT2HIP_SHARED / ../shared, else None."""
    from gait2hip.paths import shared_dir

    return shared_dir() if shared is None else shared_dir(path=shared)  # an explicit path must exist


class _Reporter:
    """Turns the benchmark's events into console lines and the overall progress bar."""

    def __init__(self, console: Console, progress: Progress) -> None:
        self.console, self.progress, self.overall = console, progress, None

    def __call__(self, kind: str, details: dict) -> None:
        if kind == "data":
            self._data(details)
        elif kind == "resume":
            self.console.print(f"Resuming: {details['found']} of {details['total']} trained models found.")
        elif kind == "start" and details["todo"]:
            self.overall = self.progress.add_task("models trained", total=details["todo"], status="")
        elif kind == "crosslab":
            self.progress.console.print(details["message"])
        elif kind == "unit" and self.overall is not None:
            self.progress.advance(self.overall)
            self.progress.console.print(self._with_count(details["message"]))

    def _data(self, record: dict) -> None:
        summary, settings = record["data_summary"], record["settings"]
        simulated = record.get("data_attrs", {}).get("simulated")
        self.console.print(
            f"Data: {summary['n_cycles']} cycles, {summary['n_subjects']} subjects "
            f"({'SIMULATED' if simulated else 'measured'}); pool {len(record['pool_subjects'])} subjects / "
            f"{summary['pool_cycles']} cycles, test {len(record['test_subjects'])} subjects / "
            f"{summary['test_cycles']} cycles, external {len(record['external_subjects'])} patients; "
            f"{len(summary['real_trials'])} real trial(s). Profile {settings['profile']['name']}, "
            f"{settings['runtime']['workers']} training process(es) × {settings['runtime']['threads']} "
            "thread(s)."
        )
        for problem in summary["real_problems"]:
            self.console.print(f"[yellow]real-trial check:[/] {problem}")

    def _with_count(self, message: str) -> str:
        """Prefix a finished unit's line with the overall count, elapsed time and ETA: the only
        progress a run writing to a log file (no terminal, so no live bars) shows."""
        task = self.progress.tasks[self.overall]
        elapsed = task.elapsed or 0.0
        # units start most expensive first, so the mean so far over-estimates what is left
        left = elapsed / task.completed * (task.total - task.completed) if task.completed else float("nan")
        count = f"{task.completed:.0f}/{task.total:.0f} models"
        return f"[{count}, {elapsed / 3600:.2f} h, ≤ {left / 3600:.2f} h left] {message}"


def run_and_report(*, out: Path, settings, shared: Path | None, console: Console, backend=None) -> Path:
    """Run (or resume) the benchmark with live progress, then write its report; the report's path."""
    from gait2hip.bench.benchmark import run_benchmark
    from gait2hip.commands.progress import eta_progress
    from gait2hip.report.write import write_report

    with eta_progress(console=console, status=True) as progress:
        run_benchmark(
            out=out,
            settings=settings,
            shared=shared,
            progress=progress,
            on_event=_Reporter(console, progress),
            backend=backend,
        )
    return write_report(out, shared=shared)


def benchmark_command(*, out: Path, settings, shared: Path | None, console: Console, backend=None) -> Path:
    """``gait2hip benchmark``: see :mod:`gait2hip.bench.benchmark`. Prints where the report is.

    ``settings`` come from :func:`resolve_settings` (options checked before anything runs).
    """
    shared_root = resolve_shared(shared)
    started = time.perf_counter()
    report = run_and_report(
        out=Path(out), settings=settings, shared=shared_root, console=console, backend=backend
    )
    minutes = (time.perf_counter() - started) / 60
    console.print(
        f"[bold green]Benchmark done[/] in {minutes:.1f} min. Report: {report} "
        f"(HTML: {report.with_suffix('.html')}; metrics: {Path(out) / 'metrics.csv'})"
    )
    return report


def report_command(*, run: Path, shared: Path | None, console: Console) -> Path:
    """``gait2hip benchmark-report``: rebuild the report of a finished run folder."""
    from gait2hip.report.write import write_report

    report = write_report(Path(run), shared=resolve_shared(shared))
    console.print(f"Report: {report} (HTML: {report.with_suffix('.html')})")
    return report
