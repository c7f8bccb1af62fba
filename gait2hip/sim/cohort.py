"""The virtual cohort: simulated subjects labelled by gait2hip's own OpenSim pipeline.

For every subject (healthy ``H01``.., patients ``P01``..):

1. sex, height and mass (:mod:`gait2hip.sim.anthropometry`, planned in
   :mod:`gait2hip.sim.cohort_plan`); the generic model scaled to them
   (:mod:`gait2hip.sim.scaling`), cached in the work folder;
2. per cadence (healthy: 78 / 115 / 135 steps/min = slow / med / fast; patients: their own
   slower self-selected cadence, :mod:`gait2hip.sim.patients`), ``n_trials + 2``
   consecutive strides of full-body kinematics (:mod:`gait2hip.sim.kinematics`);
3. ground reactions synthesised from those kinematics (:mod:`gait2hip.sim.grf_synthesis`)
   from inverse dynamics without external loads;
4. inverse dynamics with the synthesised loads (hip moments) and static optimisation (hip
   muscle forces) through the labelling pipeline (:mod:`gait2hip.sim.inverse_dynamics`,
   :mod:`gait2hip.sim.static_optimization`), and each hip's joint contact force from the SO
   solution (:mod:`gait2hip.sim.joint_reaction`, = OpenSim's JointReaction);
5. the ``n_trials`` inner right-heel-strike-to-right-heel-strike cycles time-normalised to
   101 points; cycles failing quality checks are excluded and listed.

Steps 2–5 of one walk: :mod:`gait2hip.sim.cohort_walk`. Every subject draws from its own
random stream (``SeedSequence(seed).spawn``), so results do not depend on the order or the
number of processes. Each finished subject is written
atomically to ``<out>.work/subjects/<id>.npz``; a killed run restarted with the same
arguments skips finished subjects and produces the same dataset.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.backends import Backend, Resources, open_executor
from gait2hip.data.columns import INPUT_ANGLES, MUSCLE_GROUPS_L, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import default_model_path, shared_dir
from gait2hip.sim.cohort_plan import SubjectPlan, plan_cohort
from gait2hip.sim.cohort_walk import COHORT_QA, N_POINTS, TARGET_COLUMNS, TARGET_UNITS, simulate_walk

#: What simulating one subject needs (one core; peak memory measured, see docs/scale-out.md).
SUBJECT_RESOURCES = Resources(cpus=1, memory_mb=1536)
GENERATOR_VERSION = "2.0.0"  # 2.0: realism fixes (heel-strike shear, CoP, input offsets) + hip contact force


# --------------------------------------------------------------------- one subject
def _solver_available(solver: str) -> str:
    if solver in ("default", "fast"):
        try:
            import gait2hip.sim.fast_so  # noqa: F401
        except ImportError:
            return "opensim"
    return solver


def simulate_subject(
    plan: SubjectPlan,
    *,
    generic_model: Path,
    work_dir: Path,
    n_trials: int,
    seed: int,
    solver: str = "default",
    shared: Path | None = None,
) -> Path:
    """Simulate one subject and write ``work_dir/subjects/<id>.npz`` atomically (reused if present)."""
    from gait2hip.sim.scaling import scale_model

    target = work_dir / "subjects" / f"{plan.subject_id}.npz"
    if target.is_file():
        return target
    started = time.perf_counter()
    model_path = scale_model(
        generic_model=generic_model,
        height_m=plan.height_m,
        mass_kg=plan.mass_kg,
        out_file=work_dir / "models" / f"{plan.subject_id}.osim",
        name=plan.subject_id,
    )
    folder = work_dir / "trials"
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys, grfs, metas, excluded = [], [], [], [], []
    solver = _solver_available(solver)
    for ci, (label, cadence) in enumerate(plan.cadences):
        x, y, g, m, e = simulate_walk(
            plan=plan,
            model_path=model_path,
            label=label,
            cadence_spm=cadence,
            cadence_index=ci,
            seed=seed,
            n_trials=n_trials,
            folder=folder,
            solver=solver,
            shared=shared,
        )
        xs += x
        ys += y
        grfs += g
        metas += m
        excluded += e
    n = len(xs)
    meta = pd.DataFrame(metas)
    arrays: dict[str, Any] = {
        "X": np.asarray(xs, dtype=np.float32).reshape(n, N_POINTS, len(INPUT_ANGLES)),
        "Y": np.asarray(ys, dtype=np.float32).reshape(n, N_POINTS, len(TARGET_COLUMNS)),
        "GRF": np.asarray(grfs, dtype=np.float32).reshape(n, N_POINTS, 3),
        "meta_json": np.array(meta.to_json(orient="records")),
        "excluded_json": np.array(json.dumps(excluded)),
        "plan_json": np.array(json.dumps(asdict(plan))),
        "solver": np.array(solver),
        "elapsed_s": np.array(time.perf_counter() - started),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(target)
    return target


# --------------------------------------------------------------------- cohort
def _work_dir(out: Path) -> Path:
    return out.with_name(out.stem + ".work")


def _check_plan(work_dir: Path, config: dict) -> None:
    """Refuse to resume a work folder made with different arguments (it would mix cohorts)."""
    path = work_dir / "config.json"
    if path.is_file():
        previous = json.loads(path.read_text())
        if previous != config:
            raise Gait2HipInputError(
                f"the work folder was made with different settings ({previous}).",
                file=work_dir,
                fix="use the same arguments to resume, or delete the work folder to start afresh.",
            )
    else:
        work_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=1, sort_keys=True))


def assemble_cohort(plans: list[SubjectPlan], *, work_dir: Path, attrs: dict) -> GaitDataset:
    """Stack the finished subjects (in plan order) into one dataset."""
    xs, ys, metas, excluded, solvers = [], [], [], [], set()
    for plan in plans:
        path = work_dir / "subjects" / f"{plan.subject_id}.npz"
        with np.load(path, allow_pickle=False) as npz:
            if npz["Y"].shape[-1] != len(TARGET_COLUMNS):
                raise Gait2HipInputError(
                    f"this subject file has {npz['Y'].shape[-1]} target columns, the generator now writes "
                    f"{len(TARGET_COLUMNS)} (hip contact force added).",
                    file=path,
                    fix="delete the work folder's subjects/ and run again (an older generator made it).",
                )
            xs.append(npz["X"])
            ys.append(npz["Y"])
            metas.append(pd.read_json(io.StringIO(str(npz["meta_json"])), orient="records"))
            excluded += json.loads(str(npz["excluded_json"]))
            solvers.add(str(npz["solver"]))
    meta = pd.concat([m for m in metas if len(m)], ignore_index=True)
    attrs = dict(attrs)
    attrs["qa_exclusions"] = excluded
    attrs["qa_thresholds"] = dict(COHORT_QA)
    qa_cols = [c for c in meta.columns if c.startswith("qa_")]
    attrs["qa_per_cycle"] = {
        row["trial_id"]: {
            c[3:]: (round(float(row[c]), 5) if c != "qa_saturated_muscles" else int(row[c])) for c in qa_cols
        }
        for _, row in meta.iterrows()
    }
    attrs["qa_included"] = {
        "n_cycles": len(meta),
        **{c[3:] + "_median": float(meta[c].median()) for c in qa_cols},
        **{c[3:] + "_max": float(meta[c].max()) for c in qa_cols},
    }
    attrs["so_solver"] = ",".join(sorted(solvers))
    attrs["subjects"] = {
        p.subject_id: {
            "cohort": p.cohort,
            "sex": p.sex,
            "height_m": p.height_m,
            "mass_kg": p.mass_kg,
            **(
                {"alteration": p.alteration, "walk_ratio_factor": p.walk_ratio_factor} if p.alteration else {}
            ),
        }
        for p in plans
    }
    Y = np.concatenate(ys)
    # Muscle forces are non-negative; the cubic resampling to 101 points can undershoot by a
    # few newtons where a muscle switches off, which is clipped here.
    muscles = [i for i, name in enumerate(TARGET_COLUMNS) if name in MUSCLE_GROUPS_R + MUSCLE_GROUPS_L]
    Y[:, :, muscles] = np.maximum(Y[:, :, muscles], 0.0)
    return GaitDataset(
        X=np.concatenate(xs),
        Y=Y,
        input_columns=INPUT_ANGLES,
        target_columns=TARGET_COLUMNS,
        input_units=("deg",) * len(INPUT_ANGLES),
        target_units=TARGET_UNITS,
        meta=meta,
        attrs=attrs,
    )


def _regenerate_command(*, out: Path, n_subjects: int, n_patients: int, n_trials: int, seed: int) -> str:
    return (
        f"gait2hip simulate cohort --subjects {n_subjects} --patients {n_patients} --trials {n_trials} "
        f"--seed {seed} --out {out.name}"
    )


def simulate_cohort(
    *,
    out: str | Path,
    model: str | Path | None = None,
    n_subjects: int = 60,
    n_patients: int = 9,
    n_trials: int = 4,
    seed: int = 2026,
    jobs: int = 2,
    shared: str | Path | None = None,
    solver: str = "default",
    on_progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
) -> GaitDataset:
    """Generate a virtual cohort and save it as a gait2hip NPZ (always ``attrs['simulated']``).

    Parameters
    ----------
    out
        Output .npz; the work folder ``<out stem>.work`` beside it holds scaled models, GRF
        files and per-subject results (resume).
    model
        Generic OpenSim model; default the shared ``models/Rajagopal2016.osim``.
    n_subjects, n_patients
        Healthy subjects (3 cadences each) and simulated ONFH-like patients (1 self-selected
        cadence).
    n_trials
        Gait cycles per subject and cadence.
    seed
        Master random seed.
    jobs
        Parallel processes.
    shared
        Shared inputs folder (normative data, default model).
    solver
        Static-optimisation solver passed to the labelling pipeline.
    on_progress
        Called with (subjects done, subjects planned) at the start and after each subject.
    backend
        Local processes (default) or Ray (:mod:`gait2hip.backends`): one task per subject, same
        subject files, same dataset.
    """
    out = Path(out)
    _check_options(out, n_trials=n_trials, jobs=jobs)
    shared_root = shared_dir(path=shared, required=model is None)
    generic = Path(model) if model is not None else default_model_path(path=shared_root)
    if not generic.is_file():
        raise Gait2HipInputError("generic model not found.", file=generic, fix="give an existing .osim file.")
    plans = plan_cohort(n_subjects=n_subjects, n_patients=n_patients, seed=seed)
    work_dir = _work_dir(out)
    config = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n_subjects": n_subjects,
        "n_patients": n_patients,
        "n_trials": n_trials,
        "model": generic.name,
        "solver": solver,
    }
    _check_plan(work_dir, config)
    todo = _interleaved([p for p in plans if not (work_dir / "subjects" / f"{p.subject_id}.npz").is_file()])
    started = time.perf_counter()
    kwargs = dict(
        generic_model=generic,
        work_dir=work_dir,
        n_trials=n_trials,
        seed=seed,
        solver=solver,
        shared=shared_root,
    )
    report = on_progress or (lambda done, total: None)
    done = len(plans) - len(todo)
    report(done, len(plans))
    with open_executor(backend, workers=jobs, start_method=None) as executor:
        for _ in executor.map_unordered(simulate_subject, todo, shared=kwargs, resources=SUBJECT_RESOURCES):
            done += 1
            report(done, len(plans))
    wall = time.perf_counter() - started
    attrs = _cohort_attrs(
        out, seed=seed, n_subjects=n_subjects, n_patients=n_patients, n_trials=n_trials, model=generic.name
    )
    dataset = assemble_cohort(plans, work_dir=work_dir, attrs=attrs)
    dataset.save(out)
    timing = {"wall_s_this_run": wall, "subjects_this_run": len(todo), "cycles": len(dataset)}
    (work_dir / "timing.json").write_text(json.dumps(timing, indent=1))
    return dataset


def _check_options(out: Path, *, n_trials: int, jobs: int) -> None:
    if out.suffix != ".npz":
        raise Gait2HipInputError("the output must be a .npz file.", file=out, fix="e.g. --out cohort.npz")
    if not 1 <= n_trials <= 20:
        raise Gait2HipInputError(
            f"{n_trials} trials per cadence is not possible.", fix="pass --trials between 1 and 20."
        )
    if jobs < 1:
        raise Gait2HipInputError(f"--jobs {jobs} is not possible.", fix="pass --jobs 1 or more.")


def _interleaved(todo: list[SubjectPlan]) -> list[SubjectPlan]:
    """Patients spread among the healthy subjects, so a partial run already holds both cohorts
    (the order changes nothing in the results: each subject has its own random stream)."""
    healthy = [p for p in todo if p.cohort == "healthy"]
    patients = [p for p in todo if p.cohort != "healthy"]
    stride = max(1, len(healthy) // max(1, len(patients)))
    order: list[SubjectPlan] = []
    while healthy or patients:
        order += healthy[:stride]
        healthy = healthy[stride:]
        order += patients[:1]
        patients = patients[1:]
    return order


def _cohort_attrs(
    out: Path, *, seed: int, n_subjects: int, n_patients: int, n_trials: int, model: str
) -> dict:
    """The dataset's description, provenance and regeneration command."""
    return {
        "name": out.stem,
        "simulated": True,
        "description": (
            "SIMULATED virtual cohort (not measured): generic Rajagopal-type model scaled to sampled "
            "adults, full-body walking kinematics from van der Zee et al. (2022) normative patterns with "
            "cadence, between-subject and stride-to-stride variation, ground reactions synthesised by "
            "whole-body dynamics (ZMP + smooth transition, leading-leg shear delayed after heel strike), "
            "labelled by OpenSim inverse dynamics and "
            "static optimisation. Right hip: 14 muscle-group forces (N) and 3 moments (N m); left hip as "
            "extra columns; then both hips' joint contact force (N; |F|, femur- and pelvis-frame "
            "components, as OpenSim's JointReaction). Patients: simulated ONFH-like antalgic gait, "
            "affected side right."
        ),
        "generator": "gait2hip.sim.cohort",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n_subjects": n_subjects,
        "n_patients": n_patients,
        "n_trials": n_trials,
        "model": model,
        "regenerate": _regenerate_command(
            out=out, n_subjects=n_subjects, n_patients=n_patients, n_trials=n_trials, seed=seed
        ),
        "cadence_note": "patients walk at one self-selected cadence; cadence_label is the nearest "
        "release label, cadence_spm the actual cadence",
    }
