"""Realism checks of the virtual-cohort generator against measured data.

(a) **GRF synthesis on real trials** (:func:`check_grf_synthesis`). On the OpenSim example
    trials in ``shared/opensim-examples`` (gait2392 subject01; the Rajagopal-model Moco
    walk), ground reactions are synthesised from the trial's OWN kinematics
    (:mod:`gait2hip.sim.grf_synthesis`; gait events from the force plates) and compared with
    the measured ones: RMSE in % body weight per component and foot over one gait cycle;
    then inverse dynamics runs with the synthesised and with the measured loads and the hip
    moments are compared (RMSE in N m/kg and Pearson r, per axis, both hips). A second row
    isolates the foot-splitting step by feeding it the MEASURED total wrench.
(b) **Cohort vs normative data** (:func:`check_cohort`). The cohort's mean right-hip moment
    curves (N m/kg) and right-foot GRF (BW) at each cadence against van der Zee et al.
    (2022) at the speed the cadence maps to: share of the cycle inside mean ± 2 SD, plus a
    figure of both. (Van der Zee's horizontal GRF axes are doubtful: its right-foot "Fx"
    peaks at 0.42 BW in early stance, twice a fore-aft force; read those rows with care.)
(c) **The realism gate** (:func:`gate_cohort`, :func:`gate_examples`; issue 13). Per cadence and
    hip-moment axis, against van der Zee at the matching speed and Fukuchi et al. (2018) at
    the matching overground condition (:mod:`gait2hip.sim.references`): RMSE and r of the
    cohort's mean curve, the early-stance (0–15 %) extremum difference, the between-subject SD
    ratio; and the example-trial rows of (a) summarised. Targets are printed, never tuned.

Run ``python -m gait2hip.sim.realism`` (the embedded default cohort) or ``--cohort OUT.npz``;
``--out FOLDER`` also writes realism.json and the (b) figure (the GRF part of (b) reads the
cohort's work folder ``OUT.work``); ``--skip-examples`` / ``--skip-cohort``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.cycles import contact_events
from gait2hip.data.dataset import GRAVITY, GaitDataset
from gait2hip.paths import shared_dir

#: Smallest half-width of the ±2 SD band (BW or N m/kg), for phases where the SD is zero.
FLOOR_TOLERANCE = 0.02
HIP_MOMENTS = {
    "r": ("hip_flexion_r_moment", "hip_adduction_r_moment", "hip_rotation_r_moment"),
    "l": ("hip_flexion_l_moment", "hip_adduction_l_moment", "hip_rotation_l_moment"),
}


@dataclass(frozen=True)
class ExampleTrial:
    """A measured trial of the shared OpenSim examples and the cycle to test on."""

    name: str
    model: str
    coordinates: str
    grf: str
    loads: str
    window: tuple[float, float]
    lowpass_hz: float | None
    #: GRF column prefix of the right and left foot's (force, point, torque) identifiers.
    right: tuple[str, str, str]
    left: tuple[str, str, str]


EXAMPLES = (
    ExampleTrial(
        name="gait2392 subject01 (right cycle 0.618–1.853 s)",
        model="gait2392-subject01/subject01_simbody.osim",
        coordinates="gait2392-subject01/subject01_walk1_ik.mot",
        grf="gait2392-subject01/subject01_walk1_grf.mot",
        loads="gait2392-subject01/subject01_walk1_grf.xml",
        window=(0.618, 1.853),
        lowpass_hz=6.0,
        right=("ground_force_v", "ground_force_p", "ground_torque_"),
        left=("1_ground_force_v", "1_ground_force_p", "1_ground_torque_"),
    ),
    ExampleTrial(
        name="Rajagopal/Moco walk (stride 0.45–1.594 s)",
        model="moco-3d-walking/subject_walk_scaled.osim",
        coordinates="moco-3d-walking/coordinates.sto",
        grf="moco-3d-walking/grf_walk.mot",
        loads="moco-3d-walking/grf_walk.xml",
        window=(0.45, 1.594),
        lowpass_hz=None,
        right=("ground_force_r_v", "ground_force_r_p", "ground_torque_r_"),
        left=("ground_force_l_v", "ground_force_l_p", "ground_torque_l_"),
    ),
)


def _measured(grf: pd.DataFrame, ids: tuple[str, str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    force = grf[[ids[0] + a for a in "xyz"]].to_numpy(dtype=float)
    point = grf[[ids[1] + a for a in "xyz"]].to_numpy(dtype=float)
    torque = grf[[ids[2] + a for a in "xyz"]].to_numpy(dtype=float)
    return force, point, torque


def check_grf_synthesis(*, shared: str | Path | None = None) -> pd.DataFrame:
    """Realism check (a): one row per trial × quantity (see the module docstring)."""
    root = shared_dir(path=shared, required=True)
    assert root is not None
    rows = []
    for trial in EXAMPLES:
        rows += _check_trial(trial, base=root / "opensim-examples")
    return pd.DataFrame(rows)


def _check_trial(trial: ExampleTrial, *, base: Path) -> list[dict]:
    """Check (a) on one example trial: GRF rows, then hip-moment rows, for both inputs."""
    from gait2hip.io.opensim import read_storage
    from gait2hip.sim.grf_split import GaitEvents
    from gait2hip.sim.grf_synthesis import synthesize_grf
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.opensim_env import coordinate_table, load_model, model_mass_kg

    model_path = base / trial.model
    model = load_model(model_path, init=True)
    coords = coordinate_table(model, base / trial.coordinates)
    mass = model_mass_kg(model_path)
    grf = read_storage(base / trial.grf).data
    full_t = grf.index.to_numpy(dtype=float)
    hs_r, to_r = contact_events(full_t, grf[trial.right[0] + "y"].to_numpy())
    hs_l, to_l = contact_events(full_t, grf[trial.left[0] + "y"].to_numpy())
    events = GaitEvents(hs_r, to_r, hs_l, to_l)
    residuals = run_inverse_dynamics(
        model=model_path, coordinates=coords, time_range=trial.window, lowpass_hz=trial.lowpass_hz
    )
    loads = synthesize_grf(model=model_path, coordinates=coords, events=events, residuals=residuals)
    time = residuals.index.to_numpy(dtype=float)
    measured_grf = grf.reindex(time, method="nearest")
    split = _split_of_measured(trial, model_path, coords, residuals, measured_grf, events, loads.floor_y)
    inputs = (("kinematics only", loads), ("split of measured total", split))
    rows = []
    for label, synthetic in inputs:
        for side, ids in (("r", trial.right), ("l", trial.left)):
            f_meas, _, _ = _measured(measured_grf, ids)
            err = synthetic.force[side] - np.nan_to_num(f_meas)
            rmse = np.sqrt(np.mean(err**2, axis=0)) / (mass * GRAVITY) * 100
            for k, (axis, value) in enumerate(zip("xyz", rmse, strict=True)):
                rows.append(
                    {
                        "trial": trial.name, "input": label, "quantity": f"GRF {side} F{axis}",
                        "rmse": float(value), "unit": "% BW",
                        "r": float(np.corrcoef(synthetic.force[side][:, k], f_meas[:, k])[0, 1]),
                    }
                )  # fmt: skip
    meas_id = run_inverse_dynamics(
        model=model_path, coordinates=coords, external_loads=base / trial.loads, time_range=trial.window,
        lowpass_hz=trial.lowpass_hz,
    )  # fmt: skip
    for label, synthetic in inputs:
        synth_id = _moments_with_loads(trial, model_path, coords, synthetic)
        for column in HIP_MOMENTS["r"] + HIP_MOMENTS["l"]:
            a = meas_id[column].to_numpy() / mass
            b = synth_id[column].to_numpy() / mass
            rows.append(
                {
                    "trial": trial.name, "input": label, "quantity": column,
                    "rmse": float(np.sqrt(np.mean((a - b) ** 2))), "unit": "N m/kg",
                    "r": float(np.corrcoef(a, b)[0, 1]),
                }
            )  # fmt: skip
    return rows


def _split_of_measured(
    trial: ExampleTrial,
    model_path: Path,
    coords: pd.DataFrame,
    residuals: pd.DataFrame,
    measured_grf: pd.DataFrame,
    events,
    floor_y: float,
):
    """Splitting alone: the measured total wrench (both plates), split by the same rules."""
    from gait2hip.sim.grf_split import split_between_feet
    from gait2hip.sim.grf_synthesis import foot_landmarks, total_external_wrench

    time = residuals.index.to_numpy(dtype=float)
    c = coords.reindex(time, method="nearest")
    _, _, origin = total_external_wrench(residuals, c)
    total_f = np.zeros((len(time), 3))
    total_m = np.zeros((len(time), 3))
    for ids in (trial.right, trial.left):
        f, p, tq = _measured(measured_grf, ids)
        f = np.nan_to_num(f)
        p = np.nan_to_num(p)
        total_f += f
        total_m += np.cross(p - origin, f) + np.nan_to_num(tq)
    return split_between_feet(
        time=time,
        force=total_f,
        moment=total_m,
        origin=origin,
        events=events,
        landmarks=foot_landmarks(model_path, c),
        floor_y=floor_y,
    )


def _moments_with_loads(trial: ExampleTrial, model_path: Path, coords: pd.DataFrame, loads) -> pd.DataFrame:
    """Inverse dynamics of the trial's window with synthesised ground reactions applied."""
    from gait2hip.sim.grf_synthesis import write_external_loads
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics

    with tempfile.TemporaryDirectory(prefix="gait2hip-realism-") as tmp:
        _, xml = write_external_loads(loads, grf_file=Path(tmp) / "grf.mot", xml_file=Path(tmp) / "loads.xml")
        return run_inverse_dynamics(
            model=model_path,
            coordinates=coords,
            external_loads=xml,
            time_range=trial.window,
            lowpass_hz=trial.lowpass_hz,
        )


# --------------------------------------------------------------------- (b) cohort vs normative
def _normative_for(cadence_spm: float):
    from gait2hip.sim.kinematics import (
        REFERENCE_HEIGHT_M,
        cadence_to_speed,
        load_vanderzee,
        normative_at_speed,
    )

    table = load_vanderzee()
    return normative_at_speed(cadence_to_speed(cadence_spm, height_m=REFERENCE_HEIGHT_M), table)


def check_cohort(
    dataset: GaitDataset, *, work_dir: Path | None = None, figure: Path | None = None
) -> pd.DataFrame:
    """Realism check (b): share of the cycle where the cohort mean lies within the van der Zee
    mean ± 2 SD, per cadence and curve (healthy subjects only)."""
    from gait2hip.sim.kinematics import VZ_COORDINATES

    healthy = dataset.select(cohorts=["healthy"])
    grf_by_trial: dict[str, np.ndarray] = {}
    if work_dir is not None and (work_dir / "subjects").is_dir():
        for path in sorted((work_dir / "subjects").glob("*.npz")):
            with np.load(path, allow_pickle=False) as npz:
                if "GRF" not in npz:
                    continue
                meta = json.loads(str(npz["meta_json"]))
                for row, grf in zip(meta, npz["GRF"], strict=True):
                    grf_by_trial[row["trial_id"]] = grf
    rows = []
    curves = {}
    for label in ("slow", "med", "fast"):
        part = healthy.select(cadences=[label])
        if len(part) == 0:
            continue
        cadence = float(part.meta["cadence_spm"].iloc[0])
        ref = _normative_for(cadence)
        mass = part.meta["mass_kg"].to_numpy()[:, None]
        entries = {}
        for column in HIP_MOMENTS["r"]:
            values = part.Y[:, :, part.target_columns.index(column)] / mass
            coord = column.replace("_moment", "")
            k = VZ_COORDINATES.index(coord)
            entries[column] = (values, ref.moment_mean[:, k], ref.moment_sd[:, k], "N m/kg")
        grfs = [grf_by_trial[t] for t in part.meta["trial_id"] if t in grf_by_trial]
        if grfs:
            stack = np.stack(grfs)
            # van der Zee 'grf' is in the treadmill frame: x and z flip to the OpenSim frame.
            sign = np.array([-1.0, 1.0, -1.0])
            for i, axis in enumerate("xyz"):
                entries[f"GRF r F{axis}"] = (
                    stack[:, :, i],
                    sign[i] * ref.grf_mean[:, i],
                    ref.grf_sd[:, i],
                    "BW",
                )
        for name, (values, mean, sd, unit) in entries.items():
            ours = values.mean(axis=0)[:100]
            # Where the reference SD vanishes (a foot in swing carries exactly 0 BW) a band of
            # FLOOR_TOLERANCE keeps resampling ripples of ±0.01 from counting as "outside".
            inside = np.abs(ours - mean) <= np.maximum(2 * sd, FLOOR_TOLERANCE)
            rows.append(
                {
                    "cadence": label,
                    "cadence_spm": cadence,
                    "speed_m_s": round(ref.speed_m_s, 2),
                    "curve": name,
                    "unit": unit,
                    "share_inside_2sd": float(inside.mean()),
                    "rmse_vs_mean": float(np.sqrt(np.mean((ours - mean) ** 2))),
                    "n_cycles": int(values.shape[0]),
                }
            )
            curves[(label, name)] = (values, mean, sd, unit)
    if figure is not None and curves:
        _figure(curves, figure)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------- (c) the realism gate
#: Gate targets (issue 13): mean-curve RMSE and early-stance extremum vs van der Zee for the
#: flexion and adduction moments, the SD ratio for every axis and reference.
TARGET_RMSE = 0.10
TARGET_EARLY = 0.15
TARGET_SD_RATIO = (0.7, 1.3)
EARLY_STANCE = slice(0, 16)


def _subject_means(part: GaitDataset, columns: tuple[str, ...]) -> np.ndarray:
    """Per-subject mean curves [n_subjects, 100, len(columns)] in N m/kg."""
    mass = part.meta["mass_kg"].to_numpy()[:, None, None]
    values = part.Y[:, :100, [part.target_columns.index(c) for c in columns]] / mass
    ids = part.meta["subject_id"].to_numpy()
    return np.stack([values[ids == s].mean(axis=0) for s in dict.fromkeys(ids)])


def curve_agreement(ours: np.ndarray, ours_sd: np.ndarray, ref_mean: np.ndarray, ref_sd: np.ndarray) -> dict:
    """Mean-curve RMSE and r, early-stance (0–15 %) extremum difference, SD ratio of one curve.

    The early-stance extremum is the reference's largest-magnitude value in 0–15 % of the cycle;
    the cohort's is its extremum of the same sign there; the difference is cohort − reference.
    """
    window = ref_mean[EARLY_STANCE]
    k = int(np.argmax(np.abs(window)))
    pick = np.min if window[k] < 0 else np.max
    return {
        "rmse": float(np.sqrt(np.mean((ours - ref_mean) ** 2))),
        "r": float(np.corrcoef(ours, ref_mean)[0, 1]),
        "early_ours": float(pick(ours[EARLY_STANCE])),
        "early_ref": float(window[k]),
        "early_diff": float(pick(ours[EARLY_STANCE]) - window[k]),
        "sd_ratio": float(np.mean(ours_sd) / max(float(np.mean(ref_sd)), 1e-9)),
    }


def gate_cohort(dataset: GaitDataset, *, shared: str | Path | None = None) -> pd.DataFrame:
    """Realism gate (c): the healthy cohort's right-hip moments against both real references.

    One row per cadence × reference × axis: RMSE and r of the cohort mean curve, the
    early-stance extremum difference, and the between-subject SD ratio (cohort / reference,
    each averaged over the cycle; the cohort's SD is taken over per-subject mean curves, like
    the references'), plus whether the issue-13 targets are met (van der Zee, flexion and
    adduction; the SD ratio for every row).
    """
    from gait2hip.sim.references import AXES, HIP_MOMENT_COLUMNS, fukuchi_reference, vanderzee_reference

    root = shared_dir(path=shared, required=True)
    assert root is not None
    columns = tuple(HIP_MOMENT_COLUMNS[a] for a in AXES)
    healthy = dataset.select(cohorts=["healthy"])
    rows = []
    for label in ("slow", "med", "fast"):
        part = healthy.select(cadences=[label])
        if len(part) == 0:
            continue
        cadence = float(part.meta["cadence_spm"].median())
        subjects = _subject_means(part, columns)
        refs = (
            ("van der Zee", vanderzee_reference(cadence, folder=root / "reference" / "vanderzee2022")),
            ("Fukuchi", fukuchi_reference(label)),
        )
        for source, ref in refs:
            for k, axis in enumerate(AXES):
                stats = curve_agreement(
                    subjects[:, :, k].mean(axis=0), subjects[:, :, k].std(axis=0, ddof=1),
                    ref.mean[:, k], ref.sd[:, k],
                )  # fmt: skip
                targeted = source == "van der Zee" and axis != "rotation"
                meets = TARGET_SD_RATIO[0] <= stats["sd_ratio"] <= TARGET_SD_RATIO[1]
                if targeted:
                    meets &= stats["rmse"] <= TARGET_RMSE and abs(stats["early_diff"]) <= TARGET_EARLY
                rows.append(
                    {
                        "cadence": label,
                        "cadence_spm": cadence,
                        "reference": ref.name,
                        "axis": axis,
                        **stats,
                        "n_subjects": len(subjects),
                        "meets_target": bool(meets),
                    }
                )
    return pd.DataFrame(rows)


def gate_examples(table: pd.DataFrame) -> pd.DataFrame:
    """Realism gate (c), example trials: GRF RMSE (% BW, worst component per foot) and the hip
    moments from synthesised GRF (RMSE N m/kg, r per axis, both hips), from
    :func:`check_grf_synthesis`'s table."""
    rows = []
    for (trial, source), part in table.groupby(["trial", "input"], sort=False):
        grf = part[part["unit"] == "% BW"]
        row = {"trial": trial.split(" (")[0], "input": source}
        for side in ("r", "l"):
            sel = grf[grf["quantity"].str.startswith(f"GRF {side}")]
            row[f"grf_{side}_max_rmse_bw_pct"] = float(sel["rmse"].max())
        moments = part[part["unit"] == "N m/kg"]
        for axis in ("flexion", "adduction", "rotation"):
            sel = moments[moments["quantity"].str.contains(axis)]
            row[f"{axis}_rmse"] = float(sel["rmse"].max()) if len(sel) else np.nan
            row[f"{axis}_r"] = float(sel["r"].min()) if len(sel) else np.nan
        row["meets_target"] = bool(
            all(row[f"{a}_rmse"] <= TARGET_RMSE for a in ("flexion", "adduction", "rotation"))
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _figure(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(name for _, name in curves))
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), sharex=True)
    colours = {"slow": "tab:blue", "med": "tab:green", "fast": "tab:red"}
    for ax, name in zip(axes.ravel(), names, strict=False):
        for label in ("slow", "med", "fast"):
            if (label, name) not in curves:
                continue
            values, mean, sd, unit = curves[(label, name)]
            x = np.arange(100)
            ax.fill_between(x, mean - 2 * sd, mean + 2 * sd, color=colours[label], alpha=0.12, lw=0)
            ax.plot(x, mean, color=colours[label], lw=1, ls="--")
            ax.plot(
                np.arange(values.shape[1]), values.mean(axis=0), color=colours[label], lw=1.8, label=label
            )
        ax.set_title(f"{name} [{unit}]", fontsize=9)
        ax.axhline(0, color="0.7", lw=0.5)
    for ax in axes[-1]:
        ax.set_xlabel("% gait cycle")
    axes[0, 0].legend(fontsize=8, title="cohort mean (solid)\nvan der Zee ±2 SD", title_fontsize=7)
    fig.suptitle("Simulated cohort (healthy, right side) vs van der Zee et al. 2022", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=70)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """``python -m gait2hip.sim.realism``: the realism gate, printed (and saved with ``--out``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cohort",
        type=Path,
        help="cohort .npz (default: the embedded default cohort); work folder beside it",
    )
    parser.add_argument("--out", type=Path, help="folder for realism.json and realism.png")
    parser.add_argument("--shared", type=Path, help="shared inputs folder (default: GAIT2HIP_SHARED)")
    parser.add_argument("--skip-examples", action="store_true", help="skip the OpenSim example trials")
    parser.add_argument("--skip-cohort", action="store_true", help="only the example trials")
    args = parser.parse_args(argv)
    from gait2hip.paths import RESOURCES

    report: dict = {}
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    if not args.skip_cohort:
        path = args.cohort or RESOURCES / "cohort" / "default.npz"
        dataset = GaitDataset.load(path)
        version = dataset.attrs.get("generator_version", "?")
        table = gate_cohort(dataset, shared=args.shared)
        print(f"Realism gate — cohort {path} (generator {version}, SIMULATED), healthy right hip, N m/kg")
        print(
            f"targets: van der Zee flexion/adduction RMSE <= {TARGET_RMSE}, |early-stance diff| <= "
            f"{TARGET_EARLY}; SD ratio {TARGET_SD_RATIO[0]}-{TARGET_SD_RATIO[1]} (all rows)"
        )
        shown = table.drop(columns=["cadence_spm"]).round(3)
        print(shown.to_string(index=False))
        report["gate_cohort"] = table.to_dict(orient="records")
        if args.out is not None:
            work = path.with_name(path.stem + ".work")
            share = check_cohort(dataset, work_dir=work, figure=args.out / "realism.png")
            report["cohort_vs_vanderzee_bands"] = share.to_dict(orient="records")
    if not args.skip_examples:
        table = check_grf_synthesis(shared=args.shared)
        summary = gate_examples(table)
        print("\nOpenSim example trials (REAL kinematics and force plates): synthesised vs measured GRF,")
        print(
            "worst component per foot (% BW); hip moments from synthesised vs measured GRF, worst hip, N m/kg"
        )
        print(summary.round(3).to_string(index=False))
        report["gate_examples"] = summary.to_dict(orient="records")
        report["grf_synthesis_on_examples"] = table.to_dict(orient="records")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "realism.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":  # pragma: no cover
    main()
