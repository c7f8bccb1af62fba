"""The ``gait2hip`` command line. Thin by design: every command parses its options and
calls one library function; heavy imports happen inside the command so that
``gait2hip --help`` is instant and ``predict`` never loads OpenSim."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gait2hip.bench.settings import DEFAULT_MODELS
from gait2hip.commands.benchmark import ProfileName, ProtocolChoice, Target
from gait2hip.commands.options import (
    EXIT_BAD_INPUT,
    BackendName,
    ExportFormat,
    Hips,
    MomentConvention,
    MomentUnits,
    PredictSide,
    Side,
    Solver,
)
from gait2hip.errors import Gait2HipInputError

app = typer.Typer(
    name="gait2hip",
    help="Hip muscle forces and hip joint moments from joint angles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect datasets.", no_args_is_help=True)
simulate_app = typer.Typer(help="Generate simulated (virtual) cohorts.", no_args_is_help=True)
models_app = typer.Typer(help="Installed model bundles.", no_args_is_help=True)
bench_app = typer.Typer(help="Speed benchmarks.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(simulate_app, name="simulate")
app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")

console = Console()
err_console = Console(stderr=True)

#: ``--backend`` / ``--address`` of the commands that run many independent units.
BackendOption = Annotated[
    BackendName,
    typer.Option(
        help="Where units run: local processes, or Ray tasks (pip install 'gait2hip\\[distributed]')"
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        help="Ray cluster address (ray start --head prints it; 'auto'); default: a local Ray instance"
    ),
]


def _examples(*commands: str) -> str:
    """A command's --help epilog: example command lines, then the exit codes."""
    lines = "\n\n".join(f"  {command}" for command in commands)
    codes = "Exit codes: 0 all done; 1 some inputs skipped (listed with the reason); 2 bad input."
    return f"Examples:\n\n{lines}\n\n{codes}"


def clear_errors(func):
    """Turn bad-input errors into one red line and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Gait2HipInputError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=EXIT_BAD_INPUT) from None

    return wrapper


# ---------------------------------------------------------------- data (issue A)
@data_app.command(
    "inspect",
    epilog=_examples(
        "gait2hip data inspect default",
        "gait2hip data inspect runs/label  (a folder gait2hip label wrote)",
        "gait2hip data inspect MF60.npz",
    ),
)
@clear_errors
def data_inspect(
    path: Annotated[
        str, typer.Argument(help="'default', a gait2hip/release NPZ, or a lab folder with manifest.csv")
    ],
    side: Annotated[Side, typer.Option(help="Lab folders: cycles of this leg")] = Side.right,
    hips: Annotated[Hips, typer.Option(help="Lab folders: the leg's own hip or both hips")] = Hips.own,
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="Release NPZ only: unpickle string arrays stored as Python objects. Unpickling runs any "
            "code hidden in the file: use only for files from a source you trust",
        ),
    ] = False,
) -> None:
    """Summarise a dataset: subjects, trials, cadences, cohorts, columns, units, ranges and warnings."""
    from gait2hip.commands.data import inspect_command

    inspect_command(path=path, side=side, hips=hips, trust_pickle=trust_pickle, console=console)


@data_app.command(
    "fukuchi2018",
    epilog=_examples(
        "gait2hip data fukuchi2018 --shared ../shared --markdown",
    ),
)
@clear_errors
def data_fukuchi2018(
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output NPZ (default: the embedded gait2hip/resources/real/fukuchi2018.npz)"),
    ] = None,
    evidence: Annotated[
        bool, typer.Option(help="Also print the convention evidence, lab offsets and contralateral shifts")
    ] = True,
    markdown: Annotated[bool, typer.Option(help="Print the tables as Markdown (for the data card)")] = False,
) -> None:
    """Regenerate the embedded REAL dataset fukuchi2018 from shared/real/fukuchi2018 (+ its evidence)."""
    from gait2hip.commands.data import fukuchi_command

    fukuchi_command(shared=shared, out=out, evidence=evidence, markdown=markdown, console=console)


# ---------------------------------------------------------------- label (issue B1)
@app.command(
    "label",
    epilog=_examples(
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


# ---------------------------------------------------------------- simulate (issue B2)
@simulate_app.command(
    "cohort",
    epilog=_examples(
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
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
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


# ---------------------------------------------------------------- benchmark (issue C)
@app.command("benchmark")
@clear_errors
def benchmark(
    out: Annotated[Path, typer.Option(help="Output folder for metrics, report, figures and models")],
    data: Annotated[
        str, typer.Option(help="'default', a gait2hip NPZ, or the release's MF60 NPZ")
    ] = "default",
    target: Annotated[Target, typer.Option(help="Targets to predict")] = Target.both,
    models: Annotated[
        str | None, typer.Option(help=f"Comma-separated architectures (default: {','.join(DEFAULT_MODELS)})")
    ] = None,
    protocol: Annotated[ProtocolChoice, typer.Option(help="Training protocol(s)")] = ProtocolChoice.both,
    profile: Annotated[ProfileName, typer.Option(help="Compute budget")] = ProfileName.quick,
    seeds: Annotated[int | None, typer.Option(help="Seeds per model (default from the profile)")] = None,
    device: Annotated[
        str | None, typer.Option(help="Training device: cpu | cuda | auto (default cpu, or GAIT2HIP_DEVICE)")
    ] = None,
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="Release NPZ only: unpickle string arrays stored as Python objects. Unpickling runs any "
            "code hidden in the file: use only for files from a source you trust",
        ),
    ] = False,
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
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
) -> None:
    """Rebuild the report (Markdown, HTML, figures) of a finished benchmark folder."""
    from gait2hip.commands.benchmark import report_command

    report_command(run=run, shared=shared, console=console)


# ---------------------------------------------------------------- predict & deploy (issue D)
@app.command(
    "predict",
    epilog=_examples(
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
    epilog=_examples(
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
    epilog=_examples(
        "gait2hip models list",
        "GAIT2HIP_BUNDLE_PATH=~/bundles gait2hip models list",
    ),
)
@clear_errors
def models_list() -> None:
    """List installed model bundles."""
    from gait2hip.commands.models import list_command

    list_command(console=console)


@bench_app.command("speed")
@clear_errors
def bench_speed(
    models: Annotated[
        str | None, typer.Option(help=f"Comma-separated architectures (default: {','.join(DEFAULT_MODELS)})")
    ] = None,
    opensim_model: Annotated[
        Path | None, typer.Option(help="OpenSim model for the ID+SO reference timing")
    ] = None,
    threads: Annotated[int, typer.Option(help="CPU threads")] = 2,
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
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
    threads: Annotated[int, typer.Option(help="CPU threads")] = 2,
) -> None:
    """Throughput and latency of the bare networks (PyTorch eager) at T = 101 and 180."""
    from gait2hip.commands.bench import bench_models_command
    from gait2hip.commands.benchmark import csv_list

    bench_models_command(models=csv_list(models), threads=threads, console=console)


@bench_app.command("label")
@clear_errors
def bench_label(
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
    jobs: Annotated[int, typer.Option(help="Parallel processes")] = 2,
    rajagopal: Annotated[
        bool, typer.Option(help="Also scale + IK rajagopal-walk and compare the solvers on it (minutes)")
    ] = False,
) -> None:
    """Labelling throughput: OpenSim static optimisation vs gait2hip's fast solver, cycles/s."""
    from gait2hip.commands.bench import bench_label_command

    bench_label_command(shared=shared, jobs=jobs, console=console, rajagopal=rajagopal)


# ---------------------------------------------------------------- adapt + uncertainty (issue 14)
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
) -> None:
    """Fine-tune a bundle to a lab's labelled cycles (output head refit, chosen on held-out subjects)."""
    from gait2hip.commands.adapt import finetune_command

    finetune_command(
        model=model, data=data, out=out, target=target.value if target else None, console=console
    )


@app.command("calibrate")
@clear_errors
def calibrate(
    on: Annotated[
        str, typer.Option(help="Held-out data: fukuchi2018, 'simulated held-out', 'simulated patients'")
    ],
    model: Annotated[str, typer.Option(help="'default' or a bundle folder / installed name")] = "default",
    out: Annotated[Path | None, typer.Option(help="Write the bundle(s) here (default: in place)")] = None,
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
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
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
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
    threads: Annotated[int, typer.Option(help="CPU threads")] = 2,
) -> None:
    """Single-cycle latency of an M-member ensemble with its band (one ONNX graph; PyTorch)."""
    from gait2hip.commands.adapt import bench_ensemble_command
    from gait2hip.commands.benchmark import csv_list

    bench_ensemble_command(
        model=model, members=[int(m) for m in csv_list(members)], threads=threads, console=console
    )


# ---------------------------------------------------------------- serve (issue 15)
@app.command(
    "serve",
    epilog=_examples(
        "gait2hip serve  (this machine only, http://127.0.0.1:8000)",
        "gait2hip serve --host 0.0.0.0 --ssl-certfile cert.pem --ssl-keyfile key.pem "
        "--data-dir /srv/gait2hip",
    ),
)
@clear_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    model: Annotated[
        str, typer.Option(help="'default', an installed bundle name, or a bundle path")
    ] = "default",
    token_file: Annotated[
        Path | None, typer.Option(help="Access token file (made with mode 0600 on first start)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep uploads and results here (default: in memory only)")
    ] = None,
    retention_hours: Annotated[float, typer.Option(help="How long results are kept")] = 1.0,
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted upload, MB")] = 20.0,
    max_cycles: Annotated[int, typer.Option(help="Most gait cycles per upload")] = 40,
    workers: Annotated[int, typer.Option(help="Analyses at the same time")] = 2,
    ssl_certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM)")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
) -> None:
    """The clinic service: a web page and API that analyse walking trials on this machine."""
    from gait2hip.commands.serve import serve_command

    serve_command(
        host=host,
        port=port,
        model=model,
        token_file=token_file,
        data_dir=data_dir,
        retention_hours=retention_hours,
        max_upload_mb=max_upload_mb,
        max_cycles=max_cycles,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        console=console,
    )


@bench_app.command("serve")
@clear_errors
def bench_serve(
    clients: Annotated[int, typer.Option(help="Concurrent clients")] = 20,
    uploads: Annotated[int, typer.Option(help="Uploads per client")] = 10,
    trial: Annotated[
        Path | None, typer.Option(help="Trial to upload (default: the gait2392 example)")
    ] = None,
    mass: Annotated[float, typer.Option(help="Body mass sent with each upload, kg")] = 72.6,
    workers: Annotated[int, typer.Option(help="The server's analyses at the same time")] = 2,
    shared: Annotated[Path | None, typer.Option(help="Shared inputs folder (else GAIT2HIP_SHARED)")] = None,
) -> None:
    """Load test of the clinic service on loopback: latency p50/p95, errors, all requests answered."""
    from gait2hip.commands.serve import bench_serve_command

    bench_serve_command(
        clients=clients,
        uploads=uploads,
        trial=trial,
        mass_kg=mass,
        workers=workers,
        shared=shared,
        console=console,
    )


def _print_version(value: bool) -> None:
    if value:
        from gait2hip import __version__

        console.print(f"gait2hip {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit"),
    ] = False,
) -> None:
    """Hip muscle forces and hip joint moments from joint angles.

    Exit codes (every command): 0 all done; 1 some inputs skipped or results withheld (listed
    in summary.csv with the reason); 2 bad input (one line says what and how to fix it).
    """


def main() -> None:  # pragma: no cover - entry point
    app(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    main()
