"""The virtual cohort: simulated subjects labelled by gait2hip's own OpenSim pipeline.

For every subject (healthy ``H01``.., patients ``P01``..):

1. sex, height and mass (:mod:`gait2hip.sim.anthropometry`); the generic model scaled to
   them (:mod:`gait2hip.sim.scaling`), cached in the work folder;
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

Every subject draws from its own random stream (``SeedSequence(seed).spawn``), so results
do not depend on the order or the number of processes. Each finished subject is written
atomically to ``<out>.work/subjects/<id>.npz``; a killed run restarted with the same
arguments skips finished subjects and produces the same dataset.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.backends import Backend, Resources, open_executor
from gait2hip.data.columns import (
    CONTACT_L,
    CONTACT_R,
    INPUT_ANGLES,
    MOMENTS_L,
    MOMENTS_R,
    MUSCLE_GROUPS_L,
    MUSCLE_GROUPS_R,
    RAJAGOPAL_GROUPS_R,
    mirror_mapping,
)
from gait2hip.data.cycles import time_normalize
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import default_model_path, shared_dir

#: What simulating one subject needs (one core; peak memory measured, see docs/scale-out.md).
SUBJECT_RESOURCES = Resources(cpus=1, memory_mb=1536)
GENERATOR_VERSION = "2.0.0"  # 2.0: realism fixes (heel-strike shear, CoP, input offsets) + hip contact force
QA_FIELDS = (
    "residual_force_rms_bw",
    "residual_moment_rms_bwh",
    "reserve_peak_fraction",
    "saturated_muscles",
    "grf_support_bw",
)
N_POINTS = 101
SAMPLE_RATE_HZ = 100.0
TARGET_COLUMNS: tuple[str, ...] = (
    MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L + CONTACT_R + CONTACT_L
)
GRF_R = ("ground_force_r_vx", "ground_force_r_vy", "ground_force_r_vz")
TARGET_UNITS: tuple[str, ...] = tuple("Nm" if name.endswith("_moment") else "N" for name in TARGET_COLUMNS)
#: Quality thresholds for simulated cycles (``sim.quality.QualityThresholds``). The labelling
#: defaults are made for measured trials (Hicks et al. 2015); the simulated cohort differs:
#: * residual moment 5 % BW·h (default 1 %): the synthetic kinematics are not exactly
#:   dynamically consistent, and the moment the feet cannot carry (zero-moment point outside
#:   the support polygon, see grf_synthesis) stays at the pelvis;
#: * reserve 25 % of the peak net hip moment (default 5 %): hip ROTATION moments are small
#:   (≈ 0.1 N m/kg), so a few N m of reserve already is a large fraction;
#: * up to 20 saturated hip-group muscles (default 0) of the 40 checked: in late stance of
#:   med/fast walking the Rajagopal iliacus/psoas and several synergists reach full
#:   activation for a few frames while small reserves (≤ 25 %) carry the rest — recorded per
#:   cycle in ``attrs['qa_per_cycle']``, not a failure;
#: * minimum total vertical GRF 0.2 BW (default 0.5, meant to catch a foot off the force
#:   plates): synthetic GRFs cannot lose a foot, and fast walking dips to ≈ 0.4 BW mid-stance.
COHORT_QA = {
    "residual_moment_rms_bwh": 0.05,
    "reserve_peak_fraction": 0.25,
    "max_saturated_muscles": 20,
    "min_grf_support_bw": 0.2,
}
#: Plausibility limits added to the labelling pipeline's QA (``sim.quality``).
MAX_HIP_MOMENT_NM_PER_KG = 4.0
MAX_MUSCLE_FORCE_BW = 8.0


@dataclass(frozen=True)
class SubjectPlan:
    """Everything needed to simulate one subject, reproducibly (JSON-serialisable)."""

    subject_id: str
    cohort: str  # 'healthy' | 'patient'
    index: int
    sex: str
    height_m: float
    mass_kg: float
    cadences: tuple[tuple[str, float], ...]  # (label, steps/min)
    alteration: dict = field(default_factory=dict)
    walk_ratio_factor: float = 1.0


def _subject_seed(seed: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(index,))


def plan_cohort(*, n_subjects: int, n_patients: int, seed: int) -> list[SubjectPlan]:
    """The subjects of a cohort: identities, anthropometry, cadences, patient severities."""
    from gait2hip.sim.anthropometry import sample_anthropometry
    from gait2hip.sim.patients import sample_patient_gait

    if n_subjects < 0 or n_patients < 0 or n_subjects + n_patients == 0:
        raise Gait2HipInputError(
            f"{n_subjects} healthy subjects and {n_patients} patients is an empty cohort.",
            fix="ask for at least one subject (--subjects / --patients).",
        )
    plans = []
    for i in range(n_subjects + n_patients):
        patient = i >= n_subjects
        rng = np.random.default_rng(_subject_seed(seed, i).spawn(1)[0])
        body = sample_anthropometry(rng, patient=patient)
        if patient:
            gait = sample_patient_gait(rng)
            label = min(CADENCE_SPM, key=lambda k: abs(CADENCE_SPM[k] - gait.cadence_spm))
            plans.append(
                SubjectPlan(
                    subject_id=f"P{i - n_subjects + 1:02d}",
                    cohort="patient",
                    index=i,
                    sex=body.sex,
                    height_m=body.height_m,
                    mass_kg=body.mass_kg,
                    cadences=((label, gait.cadence_spm),),
                    alteration=asdict(gait.alteration),
                    walk_ratio_factor=gait.walk_ratio_factor,
                )
            )
        else:
            plans.append(
                SubjectPlan(
                    subject_id=f"H{i + 1:02d}",
                    cohort="healthy",
                    index=i,
                    sex=body.sex,
                    height_m=body.height_m,
                    mass_kg=body.mass_kg,
                    cadences=tuple((k, float(v)) for k, v in CADENCE_SPM.items()),
                )
            )
    return plans


# --------------------------------------------------------------------- one subject
def _group_forces(forces: pd.DataFrame) -> pd.DataFrame:
    """Sum model muscles into the release's groups, both sides."""
    out = {}
    for mapping in (RAJAGOPAL_GROUPS_R, mirror_mapping(RAJAGOPAL_GROUPS_R)):
        for group, muscles in mapping.items():
            missing = [m for m in muscles if m not in forces]
            if missing:
                raise Gait2HipInputError(
                    "the model lacks a muscle of the Rajagopal hip groups.",
                    column=missing[0],
                    fix="simulate with Rajagopal2016.osim (or a model with the same muscle names).",
                )
            out[group] = forces[list(muscles)].sum(axis=1)
    return pd.DataFrame(out, index=forces.index)


def _solver_available(solver: str) -> str:
    if solver in ("default", "fast"):
        try:
            import gait2hip.sim.fast_so  # noqa: F401
        except ImportError:
            return "opensim"
    return solver


def _walk_and_loads(
    *,
    plan: SubjectPlan,
    model_path: Path,
    label: str,
    cadence_spm: float,
    cadence_index: int,
    seed: int,
    n_strides: int,
    folder: Path,
    shared: Path | None,
) -> tuple[Any, pd.DataFrame, pd.DataFrame, Path]:
    """One walk and its synthesised ground reactions: walk, coordinates, GRF table, loads file."""
    from gait2hip.sim.grf_synthesis import GaitEvents, synthesize_grf, write_external_loads
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.kinematics import (
        GaitAlteration,
        SubjectStyle,
        cadence_to_speed,
        generate_walk,
        load_vanderzee,
        normative_at_speed,
    )
    from gait2hip.sim.opensim_env import coordinate_table, load_model
    from gait2hip.sim.scaling import GENERIC_HEIGHT_M

    table_vz = load_vanderzee(None if shared is None else str(shared / "reference" / "vanderzee2022"))
    style_rng = np.random.default_rng(_subject_seed(seed, plan.index).spawn(2)[1])
    style = SubjectStyle.draw(style_rng)
    walk_rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(plan.index, 1000 + cadence_index))
    )
    speed = cadence_to_speed(cadence_spm, height_m=plan.height_m) * plan.walk_ratio_factor
    scale = plan.height_m / GENERIC_HEIGHT_M
    walk = generate_walk(
        normative=normative_at_speed(speed, table_vz),
        cadence_spm=cadence_spm,
        height_m=plan.height_m,
        style=style,
        rng=walk_rng,
        n_strides=n_strides,
        sample_rate_hz=SAMPLE_RATE_HZ,
        alteration=GaitAlteration(**plan.alteration) if plan.alteration else None,
        pelvis_height_m=0.93 * scale,
    )
    model = load_model(model_path, init=True)
    coords = coordinate_table(model, walk.coordinates_frame(), in_degrees=True)
    residuals = run_inverse_dynamics(model=model_path, coordinates=coords, in_degrees=False)
    loads = synthesize_grf(
        model=model_path,
        coordinates=coords,
        events=GaitEvents(walk.heel_strikes_r, walk.toe_offs_r, walk.heel_strikes_l, walk.toe_offs_l),
        residuals=residuals,
        scale=scale,
        body_weight_height=plan.mass_kg * 9.81 * plan.height_m,
    )
    stem = f"{plan.subject_id}_{label}"
    _, xml_file = write_external_loads(
        loads, grf_file=folder / f"{stem}_grf.mot", xml_file=folder / f"{stem}_loads.xml"
    )
    return walk, coords, loads.frame(), xml_file


def _input_angles(coords: pd.DataFrame, *, plan: SubjectPlan, seed: int) -> pd.DataFrame:
    """The release's input angles in degrees, with the subject's measurement offsets
    (:func:`gait2hip.sim.kinematics.measurement_offsets`, own random stream) added."""
    from gait2hip.sim.kinematics import measurement_offsets

    offsets = measurement_offsets(np.random.default_rng(_subject_seed(seed, plan.index).spawn(3)[2]))
    return pd.DataFrame(
        {name: np.degrees(coords[name].to_numpy()) + offsets.get(name, 0.0) for name in INPUT_ANGLES},
        index=coords.index,
    )


def _simulate_walk(
    *,
    plan: SubjectPlan,
    model_path: Path,
    label: str,
    cadence_spm: float,
    cadence_index: int,
    seed: int,
    n_trials: int,
    folder: Path,
    solver: str,
    shared: Path | None,
    thresholds: Any = None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[dict], list[dict]]:
    """Simulate and label one walk; returns per-cycle X, Y, right-foot GRF (BW), meta rows, exclusions."""
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.joint_reaction import hip_contact_forces
    from gait2hip.sim.quality import QualityThresholds, cycle_quality
    from gait2hip.sim.static_optimization import run_static_optimization

    thresholds = thresholds or QualityThresholds(**COHORT_QA)
    walk, coords, grf_frame, xml_file = _walk_and_loads(
        plan=plan,
        model_path=model_path,
        label=label,
        cadence_spm=cadence_spm,
        cadence_index=cadence_index,
        seed=seed,
        n_strides=n_trials + 2,
        folder=folder,
        shared=shared,
    )
    weight = plan.mass_kg * 9.81
    vertical = grf_frame["ground_force_r_vy"] + grf_frame["ground_force_l_vy"]
    cycles = walk.labelled_cycles()
    margin = 0.05
    window = (cycles[0][0] - margin, cycles[-1][1] + margin)
    moments = run_inverse_dynamics(
        model=model_path, coordinates=coords, external_loads=xml_file, time_range=window, in_degrees=False
    )
    so = run_static_optimization(
        model=model_path,
        coordinates=coords,
        external_loads=xml_file,
        time_range=window,
        solver=solver,
        in_degrees=False,
    )
    contact = hip_contact_forces(
        model=model_path, coordinates=coords, external_loads=xml_file, forces=so.forces, in_degrees=False,
        kinematics=so.info.get("kinematics"),
    )  # fmt: skip
    groups = _group_forces(so.muscle_forces)
    reserves = so.reserve_by_coordinate()
    hip_muscles = [
        m
        for mapping in (RAJAGOPAL_GROUPS_R, mirror_mapping(RAJAGOPAL_GROUPS_R))
        for ms in mapping.values()
        for m in ms
    ]
    angles_deg = _input_angles(coords, plan=plan, seed=seed)
    moment_cols = list(MOMENTS_R + MOMENTS_L)
    xs, ys, grfs, metas, excluded = [], [], [], [], []
    for k, (t0, t1) in enumerate(cycles, start=1):
        trial_id = f"{plan.subject_id}_{label}_T{k}"
        x = time_normalize(angles_deg.index.to_numpy(), angles_deg.to_numpy(), t0, t1, N_POINTS)
        f = time_normalize(groups.index.to_numpy(), groups.to_numpy(), t0, t1, N_POINTS)
        mom = time_normalize(moments.index.to_numpy(), moments[moment_cols].to_numpy(), t0, t1, N_POINTS)
        grf = time_normalize(grf_frame.index.to_numpy(), grf_frame[list(GRF_R)].to_numpy(), t0, t1, N_POINTS)
        hjf = time_normalize(contact.index.to_numpy(), contact.to_numpy(), t0, t1, N_POINTS)
        f_frame = pd.DataFrame(f, columns=groups.columns)
        y = np.column_stack(
            [
                f_frame[list(MUSCLE_GROUPS_R)].to_numpy(),
                mom[:, :3],
                f_frame[list(MUSCLE_GROUPS_L)].to_numpy(),
                mom[:, 3:],
                hjf,  # CONTACT_R + CONTACT_L, the order hip_contact_forces returns
            ]
        )
        inside = (vertical.index >= t0) & (vertical.index <= t1)
        record = cycle_quality(
            moments=moments,
            start=t0,
            end=t1,
            mass_kg=plan.mass_kg,
            height_m=plan.height_m,
            reserves=reserves,
            activations=so.activations,
            hip_muscles=hip_muscles,
            grf_support_bw=float(vertical[inside].min()) / weight,
            thresholds=thresholds,
        )
        reasons = [r for r in record["reasons"].split("; ") if r]
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
            reasons.append("non-finite labels")
        elif np.abs(mom).max() / plan.mass_kg > MAX_HIP_MOMENT_NM_PER_KG:
            reasons.append(f"hip moment beyond {MAX_HIP_MOMENT_NM_PER_KG} N m/kg")
        elif f.max() / weight > MAX_MUSCLE_FORCE_BW:
            reasons.append(f"a muscle-group force beyond {MAX_MUSCLE_FORCE_BW} body weights")
        qa = {"trial_id": trial_id, **{key: record[key] for key in QA_FIELDS if key in record}}
        if reasons:
            excluded.append({**qa, "reasons": reasons})
            continue
        xs.append(x)
        ys.append(y)
        grfs.append(grf / weight)
        metas.append(
            {
                "subject_id": plan.subject_id,
                "cohort": plan.cohort,
                "cadence_label": label,
                "cadence_spm": float(cadence_spm),
                "trial_id": trial_id,
                "side": "right",
                "mass_kg": plan.mass_kg,
                "height_m": plan.height_m,
                "source": "simulated",
                "stride_time_s": float(t1 - t0),
                **{f"qa_{k}": v for k, v in qa.items() if k != "trial_id"},
            }
        )
    return xs, ys, grfs, metas, excluded


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
        x, y, g, m, e = _simulate_walk(
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
    if out.suffix != ".npz":
        raise Gait2HipInputError("the output must be a .npz file.", file=out, fix="e.g. --out cohort.npz")
    if not 1 <= n_trials <= 20:
        raise Gait2HipInputError(
            f"{n_trials} trials per cadence is not possible.", fix="pass --trials between 1 and 20."
        )
    if jobs < 1:
        raise Gait2HipInputError(f"--jobs {jobs} is not possible.", fix="pass --jobs 1 or more.")
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
    todo = [p for p in plans if not (work_dir / "subjects" / f"{p.subject_id}.npz").is_file()]
    # Interleave patients with healthy subjects so a partial run already holds both cohorts
    # (the order changes nothing in the results: each subject has its own random stream).
    healthy = [p for p in todo if p.cohort == "healthy"]
    patients = [p for p in todo if p.cohort != "healthy"]
    stride = max(1, len(healthy) // max(1, len(patients)))
    todo = []
    while healthy or patients:
        todo += healthy[:stride]
        healthy = healthy[stride:]
        todo += patients[:1]
        patients = patients[1:]
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
    attrs = {
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
        "model": generic.name,
        "regenerate": _regenerate_command(
            out=out, n_subjects=n_subjects, n_patients=n_patients, n_trials=n_trials, seed=seed
        ),
        "cadence_note": "patients walk at one self-selected cadence; cadence_label is the nearest "
        "release label, cadence_spm the actual cadence",
    }
    dataset = assemble_cohort(plans, work_dir=work_dir, attrs=attrs)
    dataset.save(out)
    timing = {"wall_s_this_run": wall, "subjects_this_run": len(todo), "cycles": len(dataset)}
    (work_dir / "timing.json").write_text(json.dumps(timing, indent=1))
    return dataset
