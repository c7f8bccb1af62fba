"""``gait2hip label`` and ``gait2hip simulate cohort``: run the OpenSim pipelines, report on the console."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from gait2hip.commands.options import EXIT_OK, EXIT_PARTIAL, Solver
from gait2hip.commands.progress import bar_callback, eta_progress
from gait2hip.errors import Gait2HipInputError


def label_command(
    *,
    out: Path,
    model: Path | None,
    ik: Path | None,
    grf: Path | None,
    loads: Path | None,
    manifest: Path | None,
    jobs: int,
    solver: Solver,
    mass_kg: float | None,
    console: Console,
    keep_flagged: bool = False,
    overwrite: bool = False,
    backend=None,
) -> int:
    """``gait2hip label``: one trial (--model --ik --grf --loads) or a manifest (--manifest --jobs).

    The output folder is checked first (writable; for one trial, empty unless ``overwrite``)
    and made only once the inputs are read, so an input error leaves no empty folder. A
    manifest run may reuse its folder: it resumes, skipping the trials already labelled.

    Returns the exit code: 0, or 1 when some trials of a manifest failed (listed in
    ``OUT/failures.csv`` with the reason).
    """
    from gait2hip.io.outputs import check_writable_dir, prepare_output_dir
    from gait2hip.sim.label import LabelConfig

    config = LabelConfig(solver=Solver(solver).value, exclude_flagged=not keep_flagged)
    if manifest is not None:
        if any(v is not None for v in (model, ik, grf, loads)):
            raise Gait2HipInputError(
                "give either --manifest or --model/--ik/--grf/--loads, not both.",
                fix="put every trial in the manifest.",
            )
        check_writable_dir(out)
        failures = _label_batch(
            manifest=manifest, out=out, jobs=jobs, config=config, mass_kg=mass_kg, console=console,
            backend=backend,
        )  # fmt: skip
        return EXIT_PARTIAL if failures else EXIT_OK
    given = {"--model": model, "--ik": ik, "--loads": loads}
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise Gait2HipInputError(
            f"missing {', '.join(missing)}.",
            fix="gait2hip label --model M.osim --ik T.mot --grf G.mot --loads L.xml --out DIR "
            "(or --manifest trials.csv).",
        )
    if backend is not None and backend.name != "local":
        raise Gait2HipInputError(
            f"--backend {backend.name} runs the trials of a manifest.", column="--backend",
            fix="give --manifest, or leave --backend out for one trial.",
        )  # fmt: skip
    assert model is not None and ik is not None and loads is not None
    for flag, path in (("--model", model), ("--ik", ik), ("--loads", loads), ("--grf", grf)):
        if path is not None and not Path(path).is_file():
            raise Gait2HipInputError(f"{flag} file not found.", file=path, fix="check the path.")
    prepare_output_dir(out, overwrite=overwrite, ours=_LABEL_OUTPUTS, create=False)
    _label_one(out=Path(out), model=model, ik=ik, grf=grf, loads=loads, config=config, mass_kg=mass_kg,
               console=console)  # fmt: skip
    return EXIT_OK


#: Files ``label`` writes for one trial (removed by --overwrite).
_LABEL_OUTPUTS = ("*.sto", "qa.csv", "manifest.csv", "dataset.npz", "*.json")


def _label_batch(
    *, manifest: Path, out: Path, jobs: int, config, mass_kg: float | None, console: Console, backend=None
):
    from gait2hip.sim.batch import label_manifest
    from gait2hip.sim.quality import quality_summary

    with eta_progress(console=console, unit="trials") as progress:
        run = label_manifest(
            manifest=manifest, out=out, jobs=jobs, config=config, mass_kg=mass_kg,
            on_progress=bar_callback(progress, "[bold]labelling"), backend=backend,
        )  # fmt: skip
    summary = quality_summary(run.quality)
    dataset = Path(out) / "dataset.npz"
    console.print(
        f"[bold]{run.n_trials}[/] trial(s): {run.done_before} already done, {run.labelled_now} labelled now, "
        f"{len(run.failures)} failed. {summary['cycles']} cycle(s): {summary['kept']} passed QA, "
        f"{summary['flagged']} flagged {summary['by_reason'] or ''}; "
        + (
            f"dataset: {len(run.dataset)} cycle(s) → {dataset}"
            if run.dataset is not None and dataset.is_file()
            else "[yellow]no dataset written: no cycle passed QA[/] (see qa.csv; --keep-flagged keeps them)"
        ),
        highlight=False,
    )
    for failure in run.failures:
        console.print(f"[red]failed[/] {failure['trial']}: {failure['error']}", highlight=False)
    if run.failures:  # label_manifest lists them in OUT/failures.csv with the reason
        console.print(
            f"{len(run.failures)} trial(s) skipped: listed in {Path(out) / 'failures.csv'} (exit code 1).",
            highlight=False,
        )
    return run.failures


def _label_one(
    *, out: Path, model: Path, ik: Path, grf: Path | None, loads: Path, config, mass_kg, console: Console
) -> None:
    from gait2hip.sim.label import (
        _grf_file,
        lab_manifest_row,
        label_trial,
        trial_name,
        write_lab_manifest,
        write_quality,
        write_trial_outputs,
    )
    from gait2hip.sim.quality import quality_summary

    trial = trial_name(ik)
    with console.status(f"labelling {ik.name} (ID + {config.solver} SO)…"):
        labels = label_trial(model=model, ik=ik, grf=grf, loads=loads, mass_kg=mass_kg, config=config)
    out.mkdir(parents=True, exist_ok=True)  # only now: an input error leaves no empty folder
    files = write_trial_outputs(labels, out, trial=trial)
    write_quality(labels.quality, out, thresholds=config.thresholds, exclude_flagged=config.exclude_flagged)
    grf_path = _grf_file(Path(loads), None if grf is None else Path(grf))
    row = lab_manifest_row(labels=labels, folder=out, out=out, trial=trial, ik=ik, grf=grf_path, loads=loads)
    files.append(write_lab_manifest([row], out))
    summary = quality_summary(labels.quality)
    if labels.dataset is not None:
        files.append(labels.dataset.save(out / "dataset.npz"))
    for record in labels.quality.to_dict("records"):
        state = "[green]passed[/]" if not record["flagged"] else "[yellow]flagged, kept[/]"
        if record["flagged"] and config.exclude_flagged:
            state = "[red]flagged, excluded[/]"
        console.print(
            f"  {record['trial_id']}: {record['start_s']:.3f}–{record['end_s']:.3f} s {state}"
            + (f" ({record['reasons']})" if record["flagged"] else ""),
            highlight=False,
        )
    console.print(
        f"[bold]{summary['cycles']}[/] cycle(s): {summary['kept']} passed QA, {summary['flagged']} flagged; "
        f"SO '{labels.so.solver}' in {labels.so.elapsed_s:.1f} s. Wrote {len(files) + 2} files to {out} "
        "(manifest.csv makes it a lab folder: gait2hip data inspect OUT).",
        highlight=False,
    )
    if labels.dataset is None:
        console.print(
            "[yellow]no cycle passed QA: no dataset.npz written (see qa.csv; --keep-flagged keeps them).[/]"
        )


def simulate_cohort_command(
    *,
    out: Path,
    model: Path | None,
    n_subjects: int,
    n_patients: int,
    n_trials: int,
    seed: int,
    jobs: int,
    shared: Path | None,
    console: Console,
    backend=None,
) -> None:
    """``gait2hip simulate cohort``: generate, save and summarise."""
    from gait2hip.sim.cohort import simulate_cohort

    started = time.perf_counter()
    with eta_progress(console=console) as progress:
        dataset = simulate_cohort(
            out=out, model=model, n_subjects=n_subjects, n_patients=n_patients, n_trials=n_trials,
            seed=seed, jobs=jobs, shared=shared, on_progress=bar_callback(progress, "simulating subjects"),
            backend=backend,
        )  # fmt: skip
    wall = time.perf_counter() - started
    meta = dataset.meta
    excluded = dataset.attrs.get("qa_exclusions", [])
    n_healthy = meta.loc[meta.cohort == "healthy", "subject_id"].nunique()
    n_patients = meta.loc[meta.cohort == "patient", "subject_id"].nunique()
    rate = len(dataset) / max(wall, 1e-9)
    console.print(
        f"[bold]{out}[/]: {len(dataset)} cycles, {n_healthy} healthy + {n_patients} patients, "
        f"{len(excluded)} cycle(s) excluded by QA, {wall:.0f} s ({rate:.3f} cycles/s)."
    )
