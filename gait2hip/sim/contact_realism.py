"""Hip contact force: agreement with OpenSim, and plausibility against in-vivo implant data.

(a) **Agreement** (:func:`compare_with_opensim`): on the three OpenSim example trials, one
    gait cycle (or the stance window the example allows) each, gait2hip's labelling (fast SO,
    then :func:`gait2hip.sim.joint_reaction.hip_contact_forces`) against OpenSim's own
    (StaticOptimization with IPOPT converged, then the JointReaction analysis on its force
    file, both AnalyzeTools): max error over frames and components in % of the peak |F|.
(b) **Realism** (:func:`realism_table`): peak hip contact force (% body weight) of the
    example trials labelled by our pipeline and of virtual-cohort cycles, against OrthoLoad
    (Bergmann et al. 2016, 10 patients with instrumented hip implants, level walking:
    ``shared/reference/orthoload``): ratio model / in vivo.

Run ``python -m gait2hip.sim.contact_realism --agreement --realism [--cohort OUT.npz]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import CONTACT_L, CONTACT_R
from gait2hip.data.dataset import GRAVITY, GaitDataset
from gait2hip.paths import shared_dir

ORTHOLOAD = "reference/orthoload/level_walking_peak_hjf.csv"
GAIT2392 = "opensim-examples/gait2392-subject01"
MOCO = "opensim-examples/moco-3d-walking"


def agreement_trials(*, shared: str | Path, folder: str | Path) -> dict[str, dict]:
    """The three example trials, one cycle each, with the hip whose cycle it is.

    gait2392 subject01: right heel strike to right heel strike (0.618–1.853 s, 60 Hz IK);
    moco-3d-walking: the Moco examples' window 0.48–1.61 s (IK subsampled to 100 Hz), the
    right hip's stance and swing; rajagopal-walk (scaled and IK'd by its own setups): the
    left cycle 0.8365–1.98 s. The low-pass is OpenSim's examples' 6 Hz.
    """
    import warnings

    from gait2hip.sim.examples import prepare_rajagopal_walk
    from gait2hip.sim.opensim_env import read_coordinates

    shared, folder = Path(shared), Path(folder)
    gait2392, moco = shared / GAIT2392, shared / MOCO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the Moco file's header miscounts its columns
        moco_coordinates, _, _ = read_coordinates(moco / "coordinates.sto")
    moco_coordinates = moco_coordinates.iloc[::10]
    moco_coordinates.attrs["inDegrees"] = False
    rajagopal = prepare_rajagopal_walk(shared=shared, folder=folder)
    rajagopal.update(lowpass_hz=6.0, time_range=(0.8365, 1.98), hip="left", mass_kg=85.0668)
    return {
        "gait2392-subject01": dict(
            model=gait2392 / "subject01_simbody.osim",
            coordinates=gait2392 / "subject01_walk1_ik.mot",
            external_loads=gait2392 / "subject01_walk1_grf.xml",
            lowpass_hz=6.0,
            time_range=(0.618, 1.853),
            hip="right",
            mass_kg=72.6,
        ),
        "moco-3d-walking": dict(
            model=moco / "subject_walk_scaled.osim",
            coordinates=moco_coordinates,
            external_loads=moco / "grf_walk.xml",
            lowpass_hz=6.0,
            time_range=(0.48, 1.61),
            hip="right",
            mass_kg=None,
        ),
        "rajagopal-walk": rajagopal,
    }


def _run_args(trial: dict) -> dict:
    return {k: v for k, v in trial.items() if k not in ("hip", "mass_kg")}


def compare_with_opensim(trial: dict) -> dict:
    """Figures of (a) for one trial: frames, peak |F| per hip (N), max error in % of the peak,
    and the error of the JointReaction step alone (same forces), with wall times."""
    from gait2hip.sim.joint_reaction import hip_contact_forces
    from gait2hip.sim.static_optimization import run_static_optimization

    args = _run_args(trial)
    no_window = {k: v for k, v in args.items() if k != "time_range"}
    started = time.perf_counter()
    fast = run_static_optimization(solver="fast", **args)
    ours = hip_contact_forces(forces=fast.forces, kinematics=fast.info["kinematics"], **no_window)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    so = run_static_optimization(solver="opensim", convergence_criterion=1e-8, max_iterations=2000, **args)
    reference = hip_contact_forces(method="opensim", forces=so.forces, **no_window)
    opensim_s = time.perf_counter() - started
    same_forces = hip_contact_forces(method="opensim", forces=fast.forces, **no_window)

    def error(a: pd.DataFrame, b: pd.DataFrame) -> float:
        worst = 0.0
        for names in (CONTACT_R, CONTACT_L):
            diff = np.abs(a[list(names)].to_numpy() - b[list(names)].to_numpy()).max()
            worst = max(worst, diff / b[names[0]].max())
        return 100.0 * worst

    return {
        "frames": len(ours),
        "peak_r_N": float(reference["hip_r_contact_mag"].max()),
        "peak_l_N": float(reference["hip_l_contact_mag"].max()),
        "max_error_pct_of_peak": error(ours, reference),
        "jr_step_error_pct_of_peak": error(ours, same_forces),
        "ours_s": ours_s,
        "opensim_s": opensim_s,
    }


def orthoload(*, shared: str | Path) -> pd.DataFrame:
    """The OrthoLoad level-walking peak contact forces (one row per patient, % BW)."""
    return pd.read_csv(Path(shared) / ORTHOLOAD)


def example_peaks(trials: dict[str, dict]) -> pd.DataFrame:
    """Peak |F| (% BW) of the hip whose cycle each example window is, labelled by our pipeline."""
    from gait2hip.sim.joint_reaction import contact_in_percent_bw, hip_contact_forces
    from gait2hip.sim.opensim_env import model_mass_kg
    from gait2hip.sim.static_optimization import run_static_optimization

    rows = []
    for name, trial in trials.items():
        args = _run_args(trial)
        so = run_static_optimization(solver="fast", **args)
        no_window = {k: v for k, v in args.items() if k != "time_range"}
        contact = hip_contact_forces(forces=so.forces, kinematics=so.info["kinematics"], **no_window)
        mass = trial.get("mass_kg") or model_mass_kg(trial["model"])
        column = "hip_r_contact_mag" if trial["hip"] == "right" else "hip_l_contact_mag"
        percent = contact_in_percent_bw(contact[[column]], mass_kg=mass)[column]
        muscles = so.muscle_forces
        hip_muscle_sum = _hip_muscle_sum(muscles, side=trial["hip"])
        rows.append(
            {
                "source": f"example {name} ({trial['hip']} hip)",
                "n": 1,
                "peak_pBW": float(percent.max()),
                "peak_sd_pBW": np.nan,
                "hip_muscle_sum_peak_BW": float(hip_muscle_sum.max() / (mass * GRAVITY)),
            }
        )
    return pd.DataFrame(rows)


def _hip_muscle_sum(muscles: pd.DataFrame, *, side: str) -> pd.Series:
    from gait2hip.data.muscle_mapping import aggregate_muscles, choose_mapping

    groups = aggregate_muscles(muscles, choose_mapping(list(muscles.columns), side=side))
    return groups.sum(axis=1)


def cohort_peaks(dataset: GaitDataset) -> pd.DataFrame:
    """Peak right-hip |F| (% BW) per cycle of a cohort with contact columns, per cohort and cadence."""
    data = dataset.select(sides=["right"]).contact_in_percent_bw()
    peak = data.Y[:, :, data.target_columns.index("hip_r_contact_mag")].max(axis=1)
    frame = data.meta[["cohort", "cadence_label", "subject_id"]].assign(peak=peak)
    rows = []
    for (cohort, cadence), group in frame.groupby(["cohort", "cadence_label"], sort=False):
        rows.append(
            {
                "source": f"cohort {cohort} {cadence}",
                "n": len(group),
                "peak_pBW": float(group["peak"].median()),
                "peak_sd_pBW": float(group["peak"].std(ddof=1)) if len(group) > 1 else np.nan,
                "hip_muscle_sum_peak_BW": _cohort_muscle_sum(dataset, group.index.to_numpy()),
            }
        )
    return pd.DataFrame(rows)


def _cohort_muscle_sum(dataset: GaitDataset, rows: np.ndarray) -> float:
    data = dataset.select(sides=["right"]).take(rows)
    from gait2hip.data.columns import MUSCLE_GROUPS_R

    forces = data.select_targets(MUSCLE_GROUPS_R).Y.sum(axis=2).max(axis=1)
    return float(np.median(forces / (data.meta["mass_kg"].to_numpy() * GRAVITY)))


def realism_table(*, peaks: pd.DataFrame, shared: str | Path) -> pd.DataFrame:
    """``peaks`` (rows of :func:`example_peaks` / :func:`cohort_peaks`) with the OrthoLoad row and
    the ratio model / in vivo (the OrthoLoad mean peak)."""
    invivo = orthoload(shared=shared)["hjf_magnitude_pBW"]
    reference = float(invivo.mean())
    table = pd.concat(
        [
            peaks,
            pd.DataFrame(
                [
                    {
                        "source": "OrthoLoad in vivo (Bergmann 2016, level walking)",
                        "n": len(invivo),
                        "peak_pBW": reference,
                        "peak_sd_pBW": float(invivo.std(ddof=1)),
                        "hip_muscle_sum_peak_BW": np.nan,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    table["ratio_to_in_vivo"] = table["peak_pBW"] / reference
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gait2hip.sim.contact_realism", description=__doc__)
    parser.add_argument("--agreement", action="store_true", help="(a): ours vs OpenSim SO + JointReaction")
    parser.add_argument("--realism", action="store_true", help="(b): peaks vs OrthoLoad")
    parser.add_argument("--cohort", type=Path, action="append", default=[], help="cohort NPZ(s) with contact")
    parser.add_argument("--shared", type=Path, default=None)
    options = parser.parse_args(argv)
    shared = shared_dir() if options.shared is None else options.shared
    if shared is None:
        parser.error("shared inputs not found: pass --shared or set GAIT2HIP_SHARED")
    import tempfile

    pd.set_option("display.width", 160)
    with tempfile.TemporaryDirectory(prefix="gait2hip-contact-") as tmp:
        trials = agreement_trials(shared=shared, folder=Path(tmp))
        if options.agreement:
            rows = {name: compare_with_opensim(trial) for name, trial in trials.items()}
            print("(a) hip contact force, gait2hip vs OpenSim SO (IPOPT 1e-8) + JointReaction")
            print(pd.DataFrame(rows).T.to_string(float_format=lambda v: f"{v:.4g}"))
        if options.realism:
            parts = [example_peaks(trials)]
            for path in options.cohort:
                parts.append(cohort_peaks(GaitDataset.load(path)))
            table = realism_table(peaks=pd.concat(parts, ignore_index=True), shared=shared)
            print("(b) peak hip contact force vs in vivo (% body weight; cohort rows: median over cycles)")
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
