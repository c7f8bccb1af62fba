"""What inflates the cohort's hip contact force: the labelling settings, varied one at a time.

A measurement tool, not part of the pipeline. The same synthetic walks (the cohort's own
subjects and random streams, one cycle per cadence) are labelled with the cohort generator's
code while one labelling setting is changed; the peak right-hip contact force (% BW), the
summed right-hip muscle force (BW), iliopsoas and rectus femoris peaks (N/kg) and the peak hip
flexion and abduction moments (N m/kg, with van der Zee 2022's normative peaks at the walk's
speed) are reported as medians per cadence.

Variants: ``baseline``; ``reserves10`` (reserve optimal force 10 instead of 1 N m, i.e. cheaper
reserves); ``lowpass6`` (6 Hz low-pass of the kinematics in ID/SO/contact, as for measured
trials); ``strength1.5`` (every max isometric force × 1.5); ``volume`` (SO objective
Σ (Vᵢ/V̄) aᵢ², Vᵢ ∝ max isometric force × optimal fibre length, instead of Σ aᵢ²); ``lai2023``
(RajagopalLaiUhlrich2023 as the generic model instead of Rajagopal2016).

Run ``python -m gait2hip.sim.contact_sensitivity --subjects H01,H02,H03,H04 --out DIR`` (about a
minute per variant and four subjects on one core). The settings are swapped in with
``unittest.mock.patch`` around the generator's calls, so the generator itself is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

VARIANTS = ("baseline", "reserves10", "lowpass6", "strength1.5", "volume", "lai2023")


@contextlib.contextmanager
def _labelling(variant: str):
    """Patch the generator's labelling calls for one variant."""
    import gait2hip.sim.fast_so as fast_so
    import gait2hip.sim.inverse_dynamics as inverse_dynamics
    import gait2hip.sim.joint_reaction as joint_reaction
    import gait2hip.sim.static_optimization as static_optimization

    reserves = static_optimization.ReserveConfig(
        reserve_optimal_force=10.0 if variant == "reserves10" else 1.0
    )
    lowpass = 6.0 if variant == "lowpass6" else None
    so, contact, ident = (
        static_optimization.run_static_optimization,
        joint_reaction.hip_contact_forces,
        inverse_dynamics.run_inverse_dynamics,
    )
    weights: dict[str, np.ndarray] = {}
    prepare, qp = fast_so._prepare, fast_so.solve_min_squares_qp

    def weighted_prepare(model, **kwargs):
        prepared = prepare(model, **kwargs)
        muscles = prepared.model.getMuscles()
        volume = {
            muscles.get(i).getName(): muscles.get(i).getMaxIsometricForce()
            * muscles.get(i).getOptimalFiberLength()
            for i in range(muscles.getSize())
        }
        mean = float(np.mean(list(volume.values())))
        weights["w"] = np.array([volume[a] / mean if a in volume else 1.0 for a in prepared.actuators])
        return prepared

    def weighted_qp(A, b, lower, upper, **kwargs):
        root = np.sqrt(weights["w"])  # min Σ w x²  ⇔  min Σ z², z = √w x
        z, violation = qp(A / root, b, np.asarray(lower) * root, np.asarray(upper) * root, **kwargs)
        return z / root, violation

    with contextlib.ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(
                static_optimization,
                "run_static_optimization",
                lambda **kw: so(**{**kw, "reserves": reserves, "lowpass_hz": lowpass}),
            )
        )
        stack.enter_context(
            mock.patch.object(
                joint_reaction,
                "hip_contact_forces",
                lambda **kw: contact(**{**kw, "reserves": reserves, "lowpass_hz": lowpass}),
            )
        )
        stack.enter_context(
            mock.patch.object(
                inverse_dynamics,
                "run_inverse_dynamics",
                lambda **kw: ident(**{**kw, "lowpass_hz": lowpass if kw.get("external_loads") else None}),
            )
        )
        if variant == "volume":
            stack.enter_context(mock.patch.object(fast_so, "_prepare", weighted_prepare))
            stack.enter_context(mock.patch.object(fast_so, "solve_min_squares_qp", weighted_qp))
        yield


def _model(plan, *, variant: str, shared: Path, folder: Path) -> Path:
    from gait2hip.sim.opensim_env import import_opensim
    from gait2hip.sim.scaling import scale_model

    generic = (
        shared / "models" / ("RajagopalLaiUhlrich2023.osim" if variant == "lai2023" else "Rajagopal2016.osim")
    )
    tag = "lai2023" if variant == "lai2023" else "r2016"
    path = scale_model(
        generic_model=generic, height_m=plan.height_m, mass_kg=plan.mass_kg,
        out_file=folder / "models" / f"{plan.subject_id}_{tag}.osim", name=plan.subject_id,
    )  # fmt: skip
    if variant != "strength1.5":
        return path
    osim = import_opensim()
    model = osim.Model(str(path))
    muscles = model.getMuscles()
    for i in range(muscles.getSize()):
        muscles.get(i).setMaxIsometricForce(muscles.get(i).getMaxIsometricForce() * 1.5)
    stronger = folder / "models" / f"{plan.subject_id}_strength1.5.osim"
    model.printToXML(str(stronger))
    return stronger


def _normative(plan, cadence: float, *, shared: Path) -> dict[str, float]:
    """van der Zee (2022) peak late-stance hip flexion and abduction moments (N m/kg) at the walk's speed."""
    from gait2hip.sim.kinematics import VZ_COORDINATES, cadence_to_speed, load_vanderzee, normative_at_speed

    speed = cadence_to_speed(cadence, height_m=plan.height_m) * plan.walk_ratio_factor
    moments = normative_at_speed(
        speed, load_vanderzee(str(shared / "reference" / "vanderzee2022"))
    ).moment_mean
    return {
        "speed_m_s": speed,
        "normative_flexion_Nm_per_kg": float(moments[:, VZ_COORDINATES.index("hip_flexion_r")].max()),
        "normative_abduction_Nm_per_kg": float(moments[:, VZ_COORDINATES.index("hip_adduction_r")].min()),
    }


def run_variant(
    *, variant: str, subjects: list[str], shared: Path, folder: Path, seed: int = 2026
) -> pd.DataFrame:
    """One row per labelled cycle (or exclusion) of the subjects' walks, one cycle per cadence."""
    from gait2hip.sim import cohort
    from gait2hip.sim.cohort_walk import simulate_walk

    plans = {p.subject_id: p for p in cohort.plan_cohort(n_subjects=60, n_patients=9, seed=seed)}
    columns = cohort.TARGET_COLUMNS
    rows = []
    trials = folder / variant / "trials"
    trials.mkdir(parents=True, exist_ok=True)
    for subject in subjects:
        plan = plans[subject]
        model = _model(plan, variant=variant, shared=shared, folder=folder)
        mass, weight = plan.mass_kg, plan.mass_kg * 9.81
        for index, (label, cadence) in enumerate(plan.cadences):
            with _labelling(variant):
                _, ys, _, _, excluded = simulate_walk(
                    plan=plan, model_path=model, label=label, cadence_spm=cadence, cadence_index=index,
                    seed=seed, n_trials=1, folder=trials, solver="default", shared=shared,
                )  # fmt: skip
            for y in ys:
                rows.append(
                    {
                        "variant": variant, "subject": subject, "cadence": label,
                        "contact_pBW": 100 * y[:, columns.index("hip_r_contact_mag")].max() / weight,
                        "hip_muscle_sum_BW": y[:, [columns.index(c) for c in cohort.MUSCLE_GROUPS_R]]
                        .sum(axis=1).max() / weight,
                        "iliopsoas_N_per_kg": y[:, columns.index("iliopsoas_r")].max() / mass,
                        "recfem_N_per_kg": y[:, columns.index("recfem_r")].max() / mass,
                        "flexion_moment_Nm_per_kg": y[:, columns.index("hip_flexion_r_moment")].max() / mass,
                        "abduction_moment_Nm_per_kg": y[:, columns.index("hip_adduction_r_moment")].min()
                        / mass,
                        **_normative(plan, cadence, shared=shared),
                    }
                )  # fmt: skip
            for record in excluded:
                rows.append(
                    {"variant": variant, "subject": subject, "cadence": label, "excluded": record["reasons"]}
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    from gait2hip.paths import shared_dir

    parser = argparse.ArgumentParser(prog="python -m gait2hip.sim.contact_sensitivity", description=__doc__)
    parser.add_argument("--subjects", default="H01,H02,H03,H04")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="default: all")
    parser.add_argument("--out", type=Path, required=True, help="work folder (models, trials, results.csv)")
    options = parser.parse_args(argv)
    shared = shared_dir()
    if shared is None:
        parser.error("shared inputs not found: set GAIT2HIP_SHARED")
    frames = []
    for variant in options.variant or VARIANTS:
        frames.append(
            run_variant(
                variant=variant, subjects=options.subjects.split(","), shared=shared, folder=options.out
            )
        )
        pd.concat(frames).to_csv(options.out / "results.csv", index=False)
    table = pd.concat(frames, ignore_index=True)
    measures = [c for c in table.columns if c not in ("variant", "subject", "cadence", "excluded")]
    summary = table.groupby(["variant", "cadence"], sort=False)[measures].median()
    summary["cycles"] = (
        table.dropna(subset=["contact_pBW"]).groupby(["variant", "cadence"], sort=False).size()
    )
    summary["excluded"] = table.groupby(["variant", "cadence"], sort=False)["contact_pBW"].apply(
        lambda s: int(s.isna().sum())
    )
    pd.set_option("display.width", 200)
    print("medians over cycles (SIMULATED cohort subjects, one cycle per cadence each):")
    print(summary.round(2).to_string())


if __name__ == "__main__":
    main()
