"""Evidence for the Fukuchi 2018 convention mapping, and between-lab offsets (figures, not tests).

* :func:`matched_speeds`: which van der Zee (2022) treadmill speed each Fukuchi condition
  matches, by right stance duration (% of the cycle, vertical GRF > 2 % of body weight) —
  a quantity the angle / moment mapping does not touch.
* :func:`convention_evidence`: per gait2hip channel and side, Pearson r of each RAW exported
  component (X, Y, Z) of the Fukuchi group-mean curve with the OpenSim-convention reference,
  the r of the mapped channel and the best component. References: van der Zee at the
  matched speed (all three conditions) and the OpenSim example trials (comfortable speed).
  Curves are compared on each leg's own cycle (0 % = that leg's heel strike).
* :func:`lab_offsets`: cycle-mean angle and range of motion per channel: Fukuchi (embedded
  dataset, both legs) vs van der Zee (matched speed) vs the simulated default cohort
  (healthy, by cadence label), and their differences. Reported as facts; nothing is
  subtracted from the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.conventions import FUKUCHI_VISUAL3D, HIP_MOMENTS, LEG_ANGLES, mapping_evidence
from gait2hip.data.dataset import GaitDataset
from gait2hip.data.fukuchi import ANG_COLUMNS, CADENCE_LABEL, CONDITIONS, KNT_COLUMNS, find_files, read_table
from gait2hip.data.references import (
    GRAVITY,
    VANDERZEE_SPEEDS,
    example_trial_curves,
    stance_percent,
    vanderzee_curves,
)

#: Stance ends when the vertical GRF falls below this fraction of body weight.
STANCE_THRESHOLD_BW = 0.02
JOINTS = ("hip", "knee", "ankle")


def group_means(folder: str | Path, *, condition: str) -> dict[str, dict[str, np.ndarray]]:
    """Across-subject mean of the RAW exported curves of one condition, per side.

    Returns side → 'hip' / 'knee' / 'ankle' [101, 3] angles (deg), 'moment' [101, 3] hip
    moments (Nm/kg), 'vgrf' [101] (N/kg), and 'n' (files averaged). NaN samples are skipped
    (``nanmean``); a file whose channel is missing entirely does not count for that channel.
    """
    files = [p for p in find_files(folder) if p.condition == condition]
    stacks: dict[str, list[pd.DataFrame]] = {"ang": [], "knt": []}
    for pair in files:
        stacks["ang"].append(read_table(pair.ang, columns=ANG_COLUMNS))
        stacks["knt"].append(read_table(pair.knt, columns=KNT_COLUMNS))

    def mean(kind: str, column: str) -> np.ndarray:
        return np.nanmean(np.stack([t[column].to_numpy() for t in stacks[kind]]), axis=0)

    out: dict[str, dict[str, np.ndarray]] = {}
    for side, letter in (("right", "R"), ("left", "L")):
        entry = {
            joint: np.stack([mean("ang", f"{letter}{joint.title()}Angle{a}") for a in "XYZ"], axis=1)
            for joint in JOINTS
        }
        entry["moment"] = np.stack([mean("knt", f"{letter}HipMoment{a}") for a in "XYZ"], axis=1)
        entry["vgrf"] = mean("knt", f"{letter}GRFY")
        entry["n"] = np.array(len(files))
        out[side] = entry
    return out


def matched_speeds(shared: str | Path) -> pd.DataFrame:
    """Fukuchi condition → nearest van der Zee speed by right stance duration (see module doc)."""
    shared = Path(shared)
    vz_folder = shared / "reference" / "vanderzee2022"
    vz = {s: float(vanderzee_curves(vz_folder, speed=s)["stance_percent"]) for s in VANDERZEE_SPEEDS}
    rows = []
    for condition in CONDITIONS:
        means = group_means(shared / "real" / "fukuchi2018", condition=condition)
        stance = {
            side: stance_percent(means[side]["vgrf"] / GRAVITY, threshold=STANCE_THRESHOLD_BW)
            for side in ("right", "left")
        }
        best = min(vz, key=lambda s: abs(vz[s] - stance["right"]))
        rows.append(
            dict(
                condition=condition,
                name=CONDITIONS[condition],
                cadence_label=CADENCE_LABEL[condition],
                stance_right=stance["right"],
                stance_left=stance["left"],
                vanderzee_speed=best,
                vanderzee_stance=vz[best],
            )
        )
    return pd.DataFrame(rows)


def convention_evidence(shared: str | Path, *, all_speeds: bool = False) -> pd.DataFrame:
    """The evidence table (see the module docstring): one row per reference, condition, side, channel.

    With ``all_speeds`` every condition is also compared with every van der Zee speed (column
    ``matched`` tells the stance-matched one), to show the mapping does not hinge on the match.
    """
    shared = Path(shared)
    speeds = matched_speeds(shared).set_index("condition")["vanderzee_speed"]
    vz_folder = shared / "reference" / "vanderzee2022"
    vz = {s: vanderzee_curves(vz_folder, speed=s) for s in VANDERZEE_SPEEDS}
    references: list[tuple[str, str, dict[str, np.ndarray], bool]] = [
        (c, f"van der Zee {s:.1f} m/s", vz[s], s == float(speeds[c]))
        for c in CONDITIONS
        for s in (VANDERZEE_SPEEDS if all_speeds else (float(speeds[c]),))
    ]
    references += [("C", name, curves, True) for name, curves in example_trial_curves(shared).items()]
    rows = []
    means = {c: group_means(shared / "real" / "fukuchi2018", condition=c) for c in CONDITIONS}
    for condition, reference, curves, matched in references:
        for side in ("right", "left"):
            data = means[condition][side]
            for kind, names, xyz in (
                ("angle", LEG_ANGLES, {j: data[j] for j in JOINTS}),
                ("moment", HIP_MOMENTS, {"hip": data["moment"]}),
            ):
                found = mapping_evidence(
                    xyz,
                    {n: curves[n] for n in names if n in curves},
                    side=side,
                    convention=FUKUCHI_VISUAL3D,
                    kind=kind,
                )
                for row in found:
                    rows.append(
                        dict(reference=reference, condition=condition, matched=matched, kind=kind, **row)
                    )
    return pd.DataFrame(rows)


def evidence_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per channel and side: r of the mapped channel vs van der Zee at the matched speed
    (S / C / F), its minimum over every speed × condition pair present, and r vs each example trial."""
    vz = table["reference"].str.startswith("van der Zee")
    rows = []
    for (kind, channel, side), group in table.groupby(["kind", "channel", "side"], sort=False):
        row = {"kind": kind, "channel": channel, "side": side, "mapped": group["mapped"].iloc[0]}
        ref = group[vz.loc[group.index]]
        for condition in CONDITIONS:
            hit = ref[(ref["condition"] == condition) & ref["matched"]]
            row[f"r_vdZ_{condition}"] = float(hit["r"].iloc[0]) if len(hit) else float("nan")
        row["r_vdZ_min_all"] = float(ref["r"].min())
        row["best_is_mapped_vdZ"] = f"{int((ref['best'] == ref['mapped']).sum())}/{len(ref)}"
        for name, trial in group[~vz.loc[group.index]].groupby("reference"):
            row[f"r_{name}"] = float(trial["r"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _channel_stats(curves: np.ndarray) -> tuple[float, float]:
    """Mean over cycles of the cycle mean, and of the range of motion (max − min)."""
    return float(np.mean(curves.mean(axis=-1))), float(np.mean(np.ptp(curves, axis=-1)))


def lab_offsets(shared: str | Path, *, fukuchi: GaitDataset, default: GaitDataset) -> pd.DataFrame:
    """Cycle-mean angle and ROM per channel and condition, three labs, and their differences (deg)."""
    shared = Path(shared)
    speeds = matched_speeds(shared).set_index("condition")["vanderzee_speed"]
    vz_folder = shared / "reference" / "vanderzee2022"
    healthy = default.select(cohorts=["healthy"]) if (default.meta["cohort"] == "healthy").any() else default
    rows = []
    for condition in CONDITIONS:
        label = CADENCE_LABEL[condition]
        vz = vanderzee_curves(vz_folder, speed=float(speeds[condition]))
        fk = fukuchi.select(cadences=[label])
        sim = healthy.select(cadences=[label])
        for name in LEG_ANGLES:
            column = name + "_r"  # the cycle's own leg in every dataset
            f_mean, f_rom = _channel_stats(fk.X[:, :, fk.input_columns.index(column)])
            s_mean, s_rom = _channel_stats(sim.X[:, :, sim.input_columns.index(column)])
            v_mean, v_rom = _channel_stats(vz[name][None])
            rows.append(
                dict(
                    condition=condition,
                    cadence_label=label,
                    vanderzee_speed=float(speeds[condition]),
                    channel=name,
                    fukuchi_mean=f_mean,
                    vanderzee_mean=v_mean,
                    default_mean=s_mean,
                    fukuchi_minus_vanderzee=f_mean - v_mean,
                    fukuchi_minus_default=f_mean - s_mean,
                    vanderzee_minus_default=v_mean - s_mean,
                    fukuchi_rom=f_rom,
                    vanderzee_rom=v_rom,
                    default_rom=s_rom,
                    n_fukuchi=len(fk),
                    n_default=len(sim),
                )
            )
    return pd.DataFrame(rows)


def shift_table(dataset: GaitDataset) -> pd.DataFrame:
    """The contralateral heel strike used for every cycle (%), with subject, condition and side."""
    shifts = dataset.attrs.get("contralateral_heel_strike_percent", {})
    meta = dataset.meta
    return pd.DataFrame(
        dict(
            trial_id=meta["trial_id"],
            subject_id=meta["subject_id"],
            cadence_label=meta["cadence_label"],
            side=meta["side"],
            other_heel_strike_percent=[float(shifts.get(t, np.nan)) for t in meta["trial_id"]],
        )
    )


def subject_spread(datasets: dict[str, GaitDataset]) -> pd.DataFrame:
    """Between-subject SD (deg) of the cycle-mean angle and of the ROM, per channel and dataset.

    Each subject's value is the mean over its cycles (all speeds and legs present); the SD is
    taken over subjects. It sizes the within-lab offsets a model must tolerate.
    """
    rows = []
    for label, dataset in datasets.items():
        subjects = dataset.meta["subject_id"].to_numpy(dtype=str)
        for name in LEG_ANGLES:
            curves = dataset.X[:, :, dataset.input_columns.index(name + "_r")].astype(float)
            frame = pd.DataFrame({"s": subjects, "mean": curves.mean(axis=1), "rom": np.ptp(curves, axis=1)})
            per_subject = frame.groupby("s")[["mean", "rom"]].mean()
            rows.append(
                dict(
                    dataset=label,
                    channel=name,
                    n_subjects=len(per_subject),
                    sd_of_subject_mean=float(per_subject["mean"].std(ddof=1)),
                    sd_of_subject_rom=float(per_subject["rom"].std(ddof=1)),
                )
            )
    return pd.DataFrame(rows)
