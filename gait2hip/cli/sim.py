"""``gait2hip label`` (OpenSim labelling) and ``gait2hip simulate cohort``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gait2hip.cli.base import (
    AddressOption,
    BackendOption,
    SharedOption,
    app,
    clear_errors,
    console,
    examples,
    simulate_app,
)
from gait2hip.commands.options import BackendName, Solver


@app.command(
    "label",
    epilog=examples(
        "gait2hip label --model subject01_simbody.osim --ik walk1_ik.mot --grf walk1_grf.mot "
        "--loads walk1_grf.xml --out runs/label",
        "gait2hip label --manifest trials.csv --jobs 2 --out runs/labels  (resumes after a kill)",
    ),
)
@clear_errors
def label(
    out: Annotated[Path, typer.Option(help="Output folder")],
    model: Annotated[Path | None, typer.Option(help="Scaled OpenSim model (.osim)")] = None,
    ik: Annotated[Path | None, typer.Option(help="Inverse-kinematics coordinates (.mot/.sto)")] = None,
    grf: Annotated[Path | None, typer.Option(help="Ground reaction forces (.mot)")] = None,
    loads: Annotated[Path | None, typer.Option(help="External loads (.xml)")] = None,
    manifest: Annotated[Path | None, typer.Option(help="Batch: CSV with one trial per row")] = None,
    jobs: Annotated[int, typer.Option(help="Parallel processes in batch mode")] = 1,
    solver: Annotated[Solver, typer.Option(help="Static optimisation solver")] = Solver.default,
    mass: Annotated[float | None, typer.Option(help="Body mass in kg (default: the model's mass)")] = None,
    keep_flagged: Annotated[
        bool, typer.Option(help="Keep cycles that fail QA in the dataset (their flags stay in qa.csv)")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="One trial: use a non-empty --out, replacing earlier outputs")
    ] = False,
    backend: BackendOption = BackendName.local,
    address: AddressOption = None,
) -> None:
    """Label trials with OpenSim: inverse dynamics (hip moments) + static optimisation (hip muscle forces)."""
    from gait2hip.commands.options import backend_from_options
    from gait2hip.commands.sim import label_command

    code = label_command(
        out=out,
        model=model,
        ik=ik,
        grf=grf,
        loads=loads,
        manifest=manifest,
        jobs=jobs,
        solver=solver,
        mass_kg=mass,
        console=console,
        keep_flagged=keep_flagged,
        overwrite=overwrite,
        backend=backend_from_options(backend, address),
    )
    raise typer.Exit(code=code)


@simulate_app.command(
    "cohort",
    epilog=examples(
        "gait2hip simulate cohort --out runs/cohort.npz --subjects 10 --patients 2 --jobs 2",
    ),
)
@clear_errors
def simulate_cohort(
    out: Annotated[Path, typer.Option(help="Output dataset (.npz)")],
    model: Annotated[
        Path | None, typer.Option(help="Generic model (default: shared Rajagopal2016.osim)")
    ] = None,
    subjects: Annotated[int, typer.Option(help="Healthy subjects")] = 60,
    patients: Annotated[int, typer.Option(help="Simulated ONFH-like patients (external cohort)")] = 9,
    trials: Annotated[int, typer.Option(help="Trials (gait cycles) per subject and cadence")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed")] = 2026,
    jobs: Annotated[int, typer.Option(help="Parallel processes")] = 2,
    shared: SharedOption = None,
    backend: BackendOption = BackendName.local,
    address: AddressOption = None,
) -> None:
    """Generate a virtual cohort labelled by gait2hip's OpenSim pipeline (always marked simulated)."""
    from gait2hip.commands.options import backend_from_options
    from gait2hip.commands.sim import simulate_cohort_command

    simulate_cohort_command(
        out=out,
        model=model,
        n_subjects=subjects,
        n_patients=patients,
        n_trials=trials,
        seed=seed,
        jobs=jobs,
        shared=shared,
        console=console,
        backend=backend_from_options(backend, address),
    )
