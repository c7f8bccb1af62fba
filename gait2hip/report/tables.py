"""The benchmark report's tables, built from the frames a run folder holds (metrics.csv,
subject_metrics.csv, real_trials.csv, paired_tests.csv); :mod:`gait2hip.report.write` assembles
``report.md`` + ``report.html`` + ``figures/*.png`` from them. Every table says its unit, its
cohort and how many subjects it averages; the paper's published numbers (from
``shared/reference/gait2hip60``) are shown beside ours, labelled as the paper's numbers on
the paper's data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.evaluate.stats import format_mean_sd
from gait2hip.evaluate.tables import UNITS

PAPER_FOLDERS = {"forces": ("mf60", "MF60"), "moments": ("jm60", "JM60")}
PAPER_MODELS = {"lstm": "LSTM", "transformer": "Transformer", "mamba": "Mamba"}
CADENCES = ("slow", "med", "fast")


def published_results(shared: Path | None) -> pd.DataFrame:
    """The Gait2Hip-60 paper's test metrics (subject-mean, by cadence) from the shared reference CSVs."""
    if shared is None:
        return pd.DataFrame()
    root = Path(shared) / "reference" / "gait2hip60"
    rows = []
    for target, (folder, tag) in PAPER_FOLDERS.items():
        for model, name in PAPER_MODELS.items():
            path = root / folder / f"{name}_{tag}_test_metrics_by_speed_mean.csv"
            if not path.exists():
                continue
            frame = pd.read_csv(path)
            for row in frame.itertuples():
                rows.append(
                    {
                        "target": target,
                        "model": model,
                        "cadence": row.speed,
                        "n_subjects": row.n_subjects,
                        "n_trials": row.n_trials,
                        "rmse": row.subject_mean_RMSE,
                        "mae": row.subject_mean_MAE,
                        "r2_paper": row.subject_mean_R2,
                    }
                )
    return pd.DataFrame(rows)


def _f(value: float, digits: int = 3) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _system_label(protocol: str, model: str) -> str:
    return model if protocol == "baseline" else f"{protocol}/{model}"


def _seed_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    return metrics[metrics["seed"] != "ensemble"]


def headline_table(metrics: pd.DataFrame, target: str) -> pd.DataFrame:
    """Paper-style table: healthy test subjects, overall, mean ± SD over seeds; patients beside."""
    rows = []
    data = metrics[(metrics["target"] == target) & (metrics["cadence"] == "overall")]
    data = data[~data["protocol"].str.startswith("ablation")]
    for (protocol, model), group in data.groupby(["protocol", "model"], sort=False):
        for ensemble in (False, True):
            sub = group[group["seed"] == "ensemble"] if ensemble else _seed_rows(group)
            if sub.empty:
                continue
            healthy = sub[sub["cohort"] == "healthy"]
            patients = sub[sub["cohort"] == "patient"]
            rows.append(
                {
                    "protocol": protocol,
                    "model": model + (" (seed ensemble)" if ensemble else ""),
                    "seeds": "all" if ensemble else str(healthy["seed"].nunique()),
                    "RMSE": format_mean_sd(healthy["rmse"]),
                    "MAE": format_mean_sd(healthy["mae"]),
                    "R² (paper)": format_mean_sd(healthy["r2_paper"]),
                    "R² (per channel)": format_mean_sd(healthy["r2_channel"]),
                    "skill vs mean curve": format_mean_sd(healthy["skill"]),
                    "patients RMSE": format_mean_sd(patients["rmse"]) if len(patients) else "–",
                    "patients skill": format_mean_sd(patients["skill"]) if len(patients) else "–",
                }
            )
    return pd.DataFrame(rows)


def ratio_lines(metrics: pd.DataFrame, targets: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    """'gait2hip / paper' test RMSE ratios (healthy test subjects, seed means), per model and best vs best."""
    lines = []
    data = _seed_rows(metrics[(metrics["cohort"] == "healthy") & (metrics["cadence"] == "overall")])
    for target in targets:
        t = data[data["target"] == target]
        means = t.groupby(["protocol", "model"])["rmse"].mean()
        if "paper" not in means.index.get_level_values(0) or "gait2hip" not in means.index.get_level_values(
            0
        ):
            continue
        parts = []
        for model in models:
            if ("paper", model) in means and ("gait2hip", model) in means:
                parts.append(f"{model} {means[('gait2hip', model)] / means[('paper', model)]:.3f}")
        best_paper = means["paper"].idxmin(), means["paper"].min()
        best_ours = means["gait2hip"].idxmin(), means["gait2hip"].min()
        lines.append(
            f"**{target}**: test RMSE ratio gait2hip / paper = **{best_ours[1] / best_paper[1]:.3f}** "
            "best vs best "
            f"(gait2hip/{best_ours[0]} {best_ours[1]:.4f} vs paper/{best_paper[0]} {best_paper[1]:.4f} "
            f"{UNITS[target]}); per model: {', '.join(parts)}."
        )
    return lines


def cadence_table(metrics: pd.DataFrame, target: str, cohort: str) -> pd.DataFrame:
    data = _seed_rows(metrics[(metrics["target"] == target) & (metrics["cohort"] == cohort)])
    data = data[~data["protocol"].str.startswith("ablation")]
    rows = []
    for (protocol, model), group in data.groupby(["protocol", "model"], sort=False):
        row = {"system": _system_label(protocol, model)}
        for cadence in ("overall", *CADENCES):
            sub = group[group["cadence"] == cadence]
            if len(sub):
                row[f"RMSE {cadence}"] = format_mean_sd(sub["rmse"])
                row[f"R² paper {cadence}"] = format_mean_sd(sub["r2_paper"])
        rows.append(row)
    return pd.DataFrame(rows)


def ablation_table(metrics: pd.DataFrame, targets: tuple[str, ...]) -> pd.DataFrame:
    """Full gait2hip recipe vs the recipe with each flag reverted to the paper's, same architecture & seed."""
    data = metrics[(metrics["cohort"] == "healthy") & (metrics["cadence"] == "overall")]
    ablations = data[data["protocol"].str.startswith("ablation")]
    if ablations.empty:
        return pd.DataFrame()
    rows = []
    for model in ablations["model"].unique():
        seed = ablations[ablations["model"] == model]["seed"].iloc[0]
        full = data[(data["protocol"] == "gait2hip") & (data["model"] == model) & (data["seed"] == seed)]
        paper = data[(data["protocol"] == "paper") & (data["model"] == model) & (data["seed"] == seed)]
        variants = [("gait2hip (all flags)", full)]
        variants += [
            (p.replace("ablation:", "gait2hip "), g)
            for p, g in ablations[ablations["model"] == model].groupby("protocol", sort=False)
        ]
        variants.append(("paper recipe", paper))
        reference = {t: full[full["target"] == t]["rmse"].mean() for t in targets}
        for name, group in variants:
            row = {"model": model, "seed": seed, "recipe": name}
            for target in targets:
                value = group[group["target"] == target]["rmse"].mean()
                row[f"RMSE {target} ({UNITS[target]})"] = _f(value, 4)
                row[f"Δ {target} vs all flags"] = (
                    "–"
                    if not np.isfinite(value) or not np.isfinite(reference[target])
                    else f"{100 * (value / reference[target] - 1):+.1f} %"
                )
                row[f"R² per channel {target}"] = _f(group[group["target"] == target]["r2_channel"].mean())
            rows.append(row)
    return pd.DataFrame(rows)


def tests_table(tests: pd.DataFrame) -> pd.DataFrame:
    if tests.empty:
        return tests
    frame = tests.copy()
    return pd.DataFrame(
        {
            "target": frame["target"],
            "A": frame["a"],
            "B": frame["b"],
            "n subjects": frame["n_subjects"],
            "median RMSE A": frame["median_a"].map(lambda v: _f(v, 4)),
            "median RMSE B": frame["median_b"].map(lambda v: _f(v, 4)),
            "median A−B": frame["median_diff"].map(lambda v: _f(v, 4)),
            "subjects A better": frame["a_better"].astype(str) + "/" + frame["n_subjects"].astype(str),
            "p (Wilcoxon)": frame["p"].map(lambda v: "–" if not np.isfinite(v) else f"{v:.3g}"),
            "p (Holm)": frame["p_holm"].map(lambda v: "–" if not np.isfinite(v) else f"{v:.3g}"),
        }
    )


def real_table(real: pd.DataFrame) -> pd.DataFrame:
    if real.empty:
        return real
    data = real[(real["seed"] != "ensemble") & (~real["protocol"].str.startswith("ablation"))]
    rows = []
    for (trial, target, protocol, model), group in data.groupby(
        ["trial", "target", "protocol", "model"], sort=False
    ):
        rows.append(
            {
                "trial": trial,
                "target": f"{target} ({UNITS[target]})",
                "system": _system_label(protocol, model),
                "channels": int(group["n_channels"].iloc[0]),
                "RMSE": format_mean_sd(group["rmse"]),
                "r (per channel)": format_mean_sd(group["r_channel"]),
                "R² (per channel)": format_mean_sd(group["r2_channel"]),
                "skill vs mean curve": format_mean_sd(group["skill"]),
            }
        )
    return pd.DataFrame(rows).sort_values(["trial", "target"], kind="stable")


def cv_table(unit_infos: list[dict]) -> pd.DataFrame:
    """Per trained model: the paper protocol's fold best epochs, final epochs, cycles, time."""
    rows = []
    for info in unit_infos:
        folds = info.get("folds") or []
        rows.append(
            {
                "unit": info["key"],
                "model": info["architecture"],
                "target": info["target"],
                "seed": info["seed"],
                "fold best epochs": ", ".join(str(f["best_epoch"]) for f in folds) or "–",
                "final epochs": info.get("final_epochs"),
                "train cycles": info.get("n_train_cycles"),
                "training time (s)": f"{info.get('seconds', float('nan')):.0f}",
            }
        )
    return pd.DataFrame(rows)


def paper_table(published: pd.DataFrame, target: str) -> pd.DataFrame:
    data = published[published["target"] == target]
    rows = []
    for model, group in data.groupby("model", sort=False):
        row = {"model (paper)": model}
        for cadence in ("overall", *CADENCES):
            sub = group[group["cadence"] == cadence]
            if len(sub):
                row[f"RMSE {cadence}"] = _f(float(sub["rmse"].iloc[0]), 4)
                row[f"R² paper {cadence}"] = _f(float(sub["r2_paper"].iloc[0]), 4)
        rows.append(row)
    return pd.DataFrame(rows)


def crosslab_table(table: pd.DataFrame, *, target: str = "moments") -> pd.DataFrame:
    """The "trained on → tested on" table of one target group (rows: configuration × test set).

    ``table``: ``crosslab.csv`` (:func:`gait2hip.evaluate.crosslab.summarise`).
    """
    if table.empty:
        return table
    data = table[table["target"] == target]
    rows = []
    for _, row in data.iterrows():
        entry = {
            "trained on": row["trained_on"],
            "configuration": row["config"],
            "tested on": row["tested_on"],
            "models": int(row["n_models"]),
            f"RMSE ({UNITS[target]})": _f(row["rmse"]),
        }
        if target == "moments":
            for axis in ("flexion", "adduction", "rotation"):
                entry[f"R² {axis[:3]}"] = _f(row.get(f"r2_{axis}", np.nan), 2)
        else:
            entry["R² (channel mean)"] = _f(row["r2_channel"], 2)
        entry["skill vs train mean"] = _f(row["skill_train_mean"], 2)
        entry["skill vs lab mean"] = _f(row["skill_lab_mean"], 2)
        negative = row.get("neg_force_share", np.nan)
        entry["forces < 0"] = f"{negative:.1%}" if np.isfinite(negative) else "–"
        flagged = row.get("ood_flagged", np.nan)
        entry["OOD flagged"] = f"{flagged:.0%}" if np.isfinite(flagged) else "–"
        rows.append(entry)
    return pd.DataFrame(rows)


def crosslab_markdown(table: pd.DataFrame) -> str:
    """Both target groups' cross-lab tables as Markdown (for scripts and logs)."""
    from gait2hip.report.document import _markdown_table as markdown_table

    parts = []
    for target in ("moments", "forces"):
        frame = crosslab_table(table, target=target)
        if len(frame):
            parts += [f"### {target}", markdown_table(frame)]
    return "\n\n".join(parts)
