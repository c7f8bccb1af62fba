"""``gait2hip predict``, ``export`` and ``models list``: the bundles in use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gait2hip.cli.base import app, clear_errors, console, examples, models_app
from gait2hip.commands.options import ExportFormat, MomentConvention, MomentUnits, PredictSide


@app.command(
    "predict",
    epilog=examples(
        "gait2hip predict walk1_ik.mot --mass 72.6 --out results --side both",
        "gait2hip predict trial.c3d --mass 70 --out results  (cycles from the C3D's Foot Strike events)",
        "gait2hip predict trials/ --masses masses.csv --out results --moment-convention external "
        "--moment-units %BWh",
        "(exit code 1 also when UNRELIABLE cycles were withheld: --force writes them)",
    ),
)
@clear_errors
def predict(
    input: Annotated[
        Path,
        typer.Argument(help="IK .mot/.sto, CSV or NPZ with the 10 angles, Plug-in Gait .c3d, or a folder"),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (new or empty; see --overwrite)")],
    mass: Annotated[float | None, typer.Option(help="Body mass in kg (every file)")] = None,
    masses: Annotated[
        Path | None, typer.Option(help="CSV with one row per file: file, mass_kg[, height_m]")
    ] = None,
    height: Annotated[float | None, typer.Option(help="Body height in m (for --moment-units %BWh)")] = None,
    model: Annotated[
        str, typer.Option(help="'default', an installed bundle name, or a bundle path")
    ] = "default",
    side: Annotated[PredictSide, typer.Option(help="The leg(s) to predict")] = PredictSide.right,
    cycle: Annotated[
        tuple[float, float] | None, typer.Option(help="START END in seconds: use this window as the cycle")
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            help="CSV of heel strikes: side,time_s[,file] (a C3D's own Foot Strike events are used "
            "without it)"
        ),
    ] = None,
    lowpass: Annotated[
        float | None,
        typer.Option(
            help="Low-pass the angles at HZ first (zero-lag Butterworth; default none, as the models "
            "were trained; OpenSim's gait2392 ID uses 6)"
        ),
    ] = None,
    moment_convention: Annotated[
        MomentConvention,
        typer.Option(help="internal: OpenSim inverse dynamics (muscle) moments; external: minus those"),
    ] = MomentConvention.internal,
    moment_units: Annotated[
        MomentUnits, typer.Option(help="Nm/kg, or %BWh = 100·M/(m·g·height) (needs --height)")
    ] = MomentUnits.nm_per_kg,
    force: Annotated[
        bool, typer.Option("--force", help="Also write the curves of cycles rated UNRELIABLE")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Use a non-empty --out, replacing gait2hip's earlier outputs")
    ] = False,
) -> None:
    """Predict hip muscle forces and moments per gait cycle from joint angles."""
    from gait2hip.commands.predict import predict_command

    outcome = predict_command(
        input=input,
        out=out,
        mass_kg=mass,
        masses=masses,
        height_m=height,
        model=model,
        side=side,
        cycle=cycle,
        console=console,
        force=force,
        overwrite=overwrite,
        moment_convention=MomentConvention(moment_convention).value,
        moment_units=MomentUnits(moment_units).value,
        events=events,
        lowpass_hz=lowpass,
    )
    raise typer.Exit(code=outcome.exit_code)


@app.command(
    "export",
    epilog=examples(
        "gait2hip export transformer-joint-default --out default.onnx",
        "gait2hip export transformer-joint-default --format zip --out default.zip",
    ),
)
@clear_errors
def export(
    bundle: Annotated[str, typer.Argument(help="Bundle name or path")],
    out: Annotated[Path, typer.Option(help="Output .onnx file")],
    format: Annotated[ExportFormat, typer.Option(help="Export format")] = ExportFormat.onnx,
) -> None:
    """Export a model bundle for deployment (ONNX, or one .zip)."""
    from gait2hip.commands.predict import export_command

    export_command(bundle=bundle, out=out, format=format, console=console)


@models_app.command(
    "list",
    epilog=examples(
        "gait2hip models list",
        "GAIT2HIP_BUNDLE_PATH=~/bundles gait2hip models list",
    ),
)
@clear_errors
def models_list() -> None:
    """List installed model bundles."""
    from gait2hip.commands.models import list_command

    list_command(console=console)
