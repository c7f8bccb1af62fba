"""One simulated walk of a virtual subject, labelled: kinematics → ground reactions → inverse
dynamics, static optimisation and hip contact force → QA-checked, time-normalised cycles.

Steps 2–5 of :mod:`gait2hip.sim.cohort` for one subject and cadence (:func:`simulate_walk`);
the subject's random streams come from :func:`gait2hip.sim.cohort_plan.subject_seed`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
from gait2hip.errors import Gait2HipInputError
from gait2hip.sim.cohort_plan import SubjectPlan, subject_seed

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
#: The hip muscles whose saturation QA counts (both sides' Rajagopal groups).
HIP_MUSCLES: tuple[str, ...] = tuple(
    m
    for mapping in (RAJAGOPAL_GROUPS_R, mirror_mapping(RAJAGOPAL_GROUPS_R))
    for ms in mapping.values()
    for m in ms
)


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
    from gait2hip.sim.grf_split import GaitEvents
    from gait2hip.sim.grf_synthesis import synthesize_grf, write_external_loads
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
    style_rng = np.random.default_rng(subject_seed(seed, plan.index).spawn(2)[1])
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

    offsets = measurement_offsets(np.random.default_rng(subject_seed(seed, plan.index).spawn(3)[2]))
    return pd.DataFrame(
        {name: np.degrees(coords[name].to_numpy()) + offsets.get(name, 0.0) for name in INPUT_ANGLES},
        index=coords.index,
    )


def simulate_walk(
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
    from gait2hip.sim.quality import QualityThresholds, cycle_quality

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
    moments, so, contact = _label_walk(model_path, coords, xml_file, window=window, solver=solver)
    groups = _group_forces(so.muscle_forces)
    reserves = so.reserve_by_coordinate()
    angles_deg = _input_angles(coords, plan=plan, seed=seed)
    xs, ys, grfs, metas, excluded = [], [], [], [], []
    for k, (t0, t1) in enumerate(cycles, start=1):
        trial_id = f"{plan.subject_id}_{label}_T{k}"
        x = time_normalize(angles_deg.index.to_numpy(), angles_deg.to_numpy(), t0, t1, N_POINTS)
        f, mom, y = _cycle_targets(groups, moments, contact, t0=t0, t1=t1)
        grf = time_normalize(grf_frame.index.to_numpy(), grf_frame[list(GRF_R)].to_numpy(), t0, t1, N_POINTS)
        inside = (vertical.index >= t0) & (vertical.index <= t1)
        record = cycle_quality(
            moments=moments, start=t0, end=t1, mass_kg=plan.mass_kg, height_m=plan.height_m,
            reserves=reserves, activations=so.activations, hip_muscles=list(HIP_MUSCLES),
            grf_support_bw=float(vertical[inside].min()) / weight, thresholds=thresholds,
        )  # fmt: skip
        reasons = _exclusion_reasons(record, x=x, y=y, moments=mom, forces=f, mass_kg=plan.mass_kg)
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


def _label_walk(
    model_path: Path, coords: pd.DataFrame, xml_file: Path, *, window: tuple[float, float], solver: str
) -> tuple[pd.DataFrame, Any, pd.DataFrame]:
    """Inverse dynamics, static optimisation and both hips' contact force of a walk over ``window``."""
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.joint_reaction import hip_contact_forces
    from gait2hip.sim.static_optimization import run_static_optimization

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
    return moments, so, contact


def _cycle_targets(
    groups: pd.DataFrame, moments: pd.DataFrame, contact: pd.DataFrame, *, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One cycle's group forces, hip moments and targets (``TARGET_COLUMNS``), time-normalised."""
    f = time_normalize(groups.index.to_numpy(), groups.to_numpy(), t0, t1, N_POINTS)
    mom = time_normalize(
        moments.index.to_numpy(), moments[list(MOMENTS_R + MOMENTS_L)].to_numpy(), t0, t1, N_POINTS
    )
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
    return f, mom, y


def _exclusion_reasons(
    record: dict, *, x: np.ndarray, y: np.ndarray, moments: np.ndarray, forces: np.ndarray, mass_kg: float
) -> list[str]:
    """Why a cycle is left out: its QA reasons, then non-finite or implausible labels."""
    reasons = [r for r in record["reasons"].split("; ") if r]
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        reasons.append("non-finite labels")
    elif np.abs(moments).max() / mass_kg > MAX_HIP_MOMENT_NM_PER_KG:
        reasons.append(f"hip moment beyond {MAX_HIP_MOMENT_NM_PER_KG} N m/kg")
    elif forces.max() / (mass_kg * 9.81) > MAX_MUSCLE_FORCE_BW:
        reasons.append(f"a muscle-group force beyond {MAX_MUSCLE_FORCE_BW} body weights")
    return reasons
