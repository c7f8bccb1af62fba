"""``gait2hip finetune``, ``calibrate`` and ``bench calibration|learning-curve|ensemble`` (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gait2hip.cli.base import SharedOption, ThreadsOption, app, bench_app, clear_errors, console
from gait2hip.commands.benchmark import Target


@app.command("finetune")
@clear_errors
def finetune(
    data: Annotated[
        str, typer.Option(help="Lab folder (manifest.csv, e.g. from gait2hip label), NPZ or fukuchi2018")
    ],
    out: Annotated[Path, typer.Option(help="The new bundle folder")],
    model: Annotated[str, typer.Option(help="'default' or a bundle folder / installed name")] = "default",
    target: Annotated[
        Target | None, typer.Option(help="With 'default': which bundle, when the data has both targets")
    ] = None,
    one_person: Annotated[
        bool,
        typer.Option(
            "--one-person",
            help="Allow data of ONE person: a fixed head refit (lab mean-curve anchor, λ = 1000), "
            "with no held-out score and no band; it helps a lab the model never saw and can hurt one it "
            "already fits",
        ),
    ] = False,
) -> None:
    """Fine-tune a bundle to a lab's labelled cycles (output head refit, chosen on held-out subjects)."""
    from gait2hip.commands.adapt import finetune_command

    finetune_command(
        model=model,
        data=data,
        out=out,
        target=target.value if target else None,
        one_person=one_person,
        console=console,
    )


@app.command("calibrate")
@clear_errors
def calibrate(
    on: Annotated[
        str, typer.Option(help="Held-out data: fukuchi2018, 'simulated held-out', 'simulated patients'")
    ],
    model: Annotated[str, typer.Option(help="'default' or a bundle folder / installed name")] = "default",
    out: Annotated[Path | None, typer.Option(help="Write the bundle(s) here (default: in place)")] = None,
    shared: SharedOption = None,
) -> None:
    """Fit a bundle's 90 % prediction band on subjects it was not trained on."""
    from gait2hip.commands.adapt import calibrate_command
    from gait2hip.commands.benchmark import resolve_shared

    calibrate_command(model=model, on=on, out=out, shared=resolve_shared(shared), console=console)


@bench_app.command("calibration")
@clear_errors
def bench_calibration(
    model: Annotated[
        str, typer.Option(help="'default' or bundle folder(s) / names, comma-separated")
    ] = "default",
    out: Annotated[Path | None, typer.Option(help="Folder for calibration.csv")] = None,
    shared: SharedOption = None,
) -> None:
    """Coverage and width of the 90 % bands on held-out simulated, fukuchi2018 and OpenSim-example data."""
    from gait2hip.commands.adapt import bench_calibration_command
    from gait2hip.commands.benchmark import resolve_shared

    bench_calibration_command(model=model, shared=resolve_shared(shared), out=out, console=console)


@bench_app.command("learning-curve")
@clear_errors
def bench_learning_curve(
    out: Annotated[Path, typer.Option(help="Run folder (rerun the same command to resume)")] = Path(
        "runs/learning-curve"
    ),
    model: Annotated[str, typer.Option(help="'default' or a moments bundle")] = "default",
    ks: Annotated[str, typer.Option(help="Training-subject counts, comma-separated")] = "1,2,4,8,16",
    draws: Annotated[int, typer.Option(help="Random draws of subjects per k")] = 5,
    scratch_epochs: Annotated[int, typer.Option(help="Epochs of the from-scratch model")] = 60,
) -> None:
    """Fine-tuning vs zero-shot, scratch and the lab's mean curve on fukuchi2018, k training subjects."""
    from gait2hip.commands.adapt import bench_learning_curve_command
    from gait2hip.commands.benchmark import csv_list

    bench_learning_curve_command(
        model=model,
        out=out,
        ks=[int(k) for k in csv_list(ks)],
        draws=draws,
        scratch_epochs=scratch_epochs,
        console=console,
    )


@bench_app.command("ensemble")
@clear_errors
def bench_ensemble(
    model: Annotated[
        str, typer.Option(help="A bundle folder / installed name")
    ] = "transformer-joint-default",
    members: Annotated[str, typer.Option(help="Member counts, comma-separated")] = "1,3,5",
    threads: ThreadsOption = 2,
) -> None:
    """Single-cycle latency of an M-member ensemble with its band (one ONNX graph; PyTorch)."""
    from gait2hip.commands.adapt import bench_ensemble_command
    from gait2hip.commands.benchmark import csv_list

    bench_ensemble_command(
        model=model, members=[int(m) for m in csv_list(members)], threads=threads, console=console
    )
