"""``gait2hip benchmark``, ``report`` and the speed benchmarks ``bench speed|models|label``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gait2hip.bench.settings import DEFAULT_MODELS
from gait2hip.cli.base import (
    AddressOption,
    BackendOption,
    ModelsOption,
    SharedOption,
    ThreadsOption,
    TrustPickleOption,
    app,
    bench_app,
    clear_errors,
    console,
)
from gait2hip.commands.benchmark import ProfileName, ProtocolChoice, Target
from gait2hip.commands.options import BackendName


@app.command("benchmark")
@clear_errors
def benchmark(
    out: Annotated[Path, typer.Option(help="Output folder for metrics, report, figures and models")],
    data: Annotated[
        str, typer.Option(help="'default', a gait2hip NPZ, or the release's MF60 NPZ")
    ] = "default",
    target: Annotated[Target, typer.Option(help="Targets to predict")] = Target.both,
    models: ModelsOption = None,
    protocol: Annotated[ProtocolChoice, typer.Option(help="Training protocol(s)")] = ProtocolChoice.both,
    profile: Annotated[ProfileName, typer.Option(help="Compute budget")] = ProfileName.quick,
    seeds: Annotated[int | None, typer.Option(help="Seeds per model (default from the profile)")] = None,
    device: Annotated[
        str | None, typer.Option(help="Training device: cpu | cuda | auto (default cpu, or GAIT2HIP_DEVICE)")
    ] = None,
    shared: SharedOption = None,
    trust_pickle: TrustPickleOption = False,
    backend: BackendOption = BackendName.local,
    address: AddressOption = None,
) -> None:
    """Train and compare architectures under the published protocol and gait2hip's recipe."""
    from gait2hip.commands.benchmark import benchmark_command, csv_list, resolve_settings
    from gait2hip.commands.options import backend_from_options

    chosen = backend_from_options(backend, address)
    settings = resolve_settings(
        data=data,
        target=target,
        models=csv_list(models),
        protocol=protocol,
        profile=profile,
        seeds=seeds,
        device=device,
        trust_pickle=trust_pickle,
        cluster=chosen.address is not None,
    )
    benchmark_command(out=out, settings=settings, shared=shared, console=console, backend=chosen)


@app.command("report")
@clear_errors
def report(
    run: Annotated[Path, typer.Argument(help="A finished benchmark output folder")],
    shared: SharedOption = None,
) -> None:
    """Rebuild the report (Markdown, HTML, figures) of a finished benchmark folder."""
    from gait2hip.commands.benchmark import report_command

    report_command(run=run, shared=shared, console=console)


@bench_app.command("speed")
@clear_errors
def bench_speed(
    models: ModelsOption = None,
    opensim_model: Annotated[
        Path | None, typer.Option(help="OpenSim model for the ID+SO reference timing")
    ] = None,
    threads: ThreadsOption = 2,
    shared: SharedOption = None,
) -> None:
    """Prediction latency and throughput vs OpenSim ID + SO on this machine."""
    from gait2hip.commands.bench import bench_speed_command
    from gait2hip.commands.benchmark import check_models, csv_list, resolve_shared

    bench_speed_command(
        models=check_models(csv_list(models) or list(DEFAULT_MODELS)),
        opensim_model=opensim_model,
        threads=threads,
        shared=resolve_shared(shared),
        console=console,
    )


@bench_app.command("models")
@clear_errors
def bench_models(
    models: Annotated[
        str | None, typer.Option(help="Comma-separated architectures (NAME:mambapy too; default: all)")
    ] = None,
    threads: ThreadsOption = 2,
) -> None:
    """Throughput and latency of the bare networks (PyTorch eager) at T = 101 and 180."""
    from gait2hip.commands.bench import bench_models_command
    from gait2hip.commands.benchmark import csv_list

    bench_models_command(models=csv_list(models), threads=threads, console=console)


@bench_app.command("label")
@clear_errors
def bench_label(
    shared: SharedOption = None,
    jobs: Annotated[int, typer.Option(help="Parallel processes")] = 2,
    rajagopal: Annotated[
        bool, typer.Option(help="Also scale + IK rajagopal-walk and compare the solvers on it (minutes)")
    ] = False,
) -> None:
    """Labelling throughput: OpenSim static optimisation vs gait2hip's fast solver, cycles/s."""
    from gait2hip.commands.bench import bench_label_command

    bench_label_command(shared=shared, jobs=jobs, console=console, rajagopal=rajagopal)
