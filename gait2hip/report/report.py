"""The benchmark report: ``report.md`` + ``report.html`` (same content) + ``figures/*.png``.

Built from the frames :mod:`gait2hip.evaluate.benchmark` writes (metrics.csv,
subject_metrics.csv, real_trials.csv, paired_tests.csv). Every table says its unit, its
cohort and how many subjects it averages; the paper's published numbers (from
``shared/reference/gait2hip60``) are shown beside ours, labelled as the paper's numbers on
the paper's data.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.evaluate.stats import format_mean_sd, mean_sd
from gait2hip.report.document import Document
from gait2hip.report.figures import box_figure, cadence_figure, curves_figure

UNITS = {"forces": "N/kg", "moments": "Nm/kg"}
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


def cv_table(units: list, results: dict) -> pd.DataFrame:
    rows = []
    for unit in units:
        info = results[unit.key][0]
        folds = info.get("folds") or []
        rows.append(
            {
                "unit": unit.key,
                "model": unit.architecture,
                "target": unit.target,
                "seed": unit.seed,
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


# ---------------------------------------------------------------------------- figures
def _pick_seed(predictions: dict, protocol: str, model: str, target: str) -> np.ndarray | None:
    for seed in ("ensemble", "2025"):
        if (protocol, model, target, seed) in predictions:
            return predictions[(protocol, model, target, seed)]
    matches = [v for (p, m, t, _), v in predictions.items() if (p, m, t) == (protocol, model, target)]
    return matches[0] if matches else None


def make_figures(
    *, out: Path, settings, splits, predictions: dict, metrics: pd.DataFrame, subject_metrics: pd.DataFrame
) -> list[tuple[str, str]]:
    from gait2hip.train.recipes import TARGETS

    figures_dir = out / "figures"
    figures_dir.mkdir(exist_ok=True)
    made: list[tuple[str, str]] = []
    eval_sets = splits.eval_sets()
    cohorts = [("test", "healthy test subjects")]
    if "external" in eval_sets:
        cohorts.append(("external", "simulated patients (external cohort, zero-shot)"))
    for target in settings.targets:
        unit = UNITS[target]
        for protocol in settings.protocols:
            for set_name, cohort_text in cohorts:
                preds = {}
                for model in settings.models:
                    sets = _pick_seed(predictions, protocol, model, target)
                    if sets is not None:
                        preds[f"{protocol}/{model}"] = sets[set_name]
                baseline = predictions.get(("baseline", "mean-curve", target, "-"))
                if baseline is not None:
                    preds["mean-curve baseline"] = baseline[set_name]
                truth = eval_sets[set_name].select_targets(TARGETS[target]).Y
                name = f"curves_{protocol}_{target}_{set_name}.png"
                curves_figure(
                    figures_dir / name,
                    truth=truth,
                    predictions=preds,
                    columns=TARGETS[target],
                    unit=unit,
                    title=f"{target.capitalize()}: reference vs {protocol} protocol, {cohort_text} "
                    f"({eval_sets[set_name].meta['subject_id'].nunique()} subjects, "
                    f"{len(truth)} cycles), mean ± SD",
                )
                made.append(
                    (
                        f"figures/{name}",
                        f"Hip {target} over the gait cycle, {protocol} protocol, "
                        f"{cohort_text}: reference (black, grey ±1 SD) vs predictions.",
                    )
                )
        # Per-subject error boxes.
        data = subject_metrics[
            (subject_metrics["target"] == target)
            & (subject_metrics["cadence"] == "overall")
            & (subject_metrics["seed"] != "ensemble")
            & (~subject_metrics["protocol"].str.startswith("ablation"))
        ]
        panels = {}
        for cohort, text in (("healthy", "healthy test subjects"), ("patient", "patients (zero-shot)")):
            sub = data[data["cohort"] == cohort]
            if sub.empty:
                continue
            panels[text] = {
                _system_label(p, m): g.groupby("subject_id")["rmse"].mean().to_numpy()
                for (p, m), g in sub.groupby(["protocol", "model"], sort=False)
            }
        if panels:
            name = f"box_{target}.png"
            box_figure(
                figures_dir / name,
                panels=panels,
                unit=unit,
                title=f"{target.capitalize()}: RMSE per subject (mean over seeds)",
            )
            made.append(
                (f"figures/{name}", f"Per-subject RMSE of hip {target} ({unit}); one dot per subject.")
            )
        # Cadence bars.
        rows = metrics[
            (metrics["target"] == target)
            & (metrics["cohort"] == "healthy")
            & (metrics["cadence"].isin(CADENCES))
            & (metrics["seed"] != "ensemble")
            & (~metrics["protocol"].str.startswith("ablation"))
        ]
        if len(rows):
            rows = rows.assign(
                system=[_system_label(p, m) for p, m in zip(rows["protocol"], rows["model"], strict=True)]
            )
            stats = rows.groupby(["system", "cadence"], sort=False)["rmse"].agg(["mean", "std"])
            table = pd.concat({"mean": stats["mean"].unstack(), "sd": stats["std"].unstack()}, axis=1)
            order = [c for c in CADENCES if c in table["mean"].columns]
            table = pd.concat({"mean": table["mean"][order], "sd": table["sd"][order]}, axis=1)
            name = f"cadence_{target}.png"
            cadence_figure(
                figures_dir / name,
                table=table,
                unit=unit,
                title=f"{target.capitalize()}: RMSE by cadence, healthy test subjects "
                "(error bars: SD over seeds)",
            )
            made.append(
                (f"figures/{name}", f"Hip {target} RMSE per cadence (slow 78, med 115, fast 135 steps/min).")
            )
        # Real trials.
        if "real" in eval_sets:
            real = eval_sets["real"]
            for i, trial in enumerate(splits.real):
                columns = [c for c in TARGETS[target] if c in trial.available]
                if not columns:
                    continue
                idx = [TARGETS[target].index(c) for c in columns]
                preds = {}
                for protocol in settings.protocols:
                    for model in settings.models:
                        sets = _pick_seed(predictions, protocol, model, target)
                        if sets is not None:
                            preds[f"{protocol}/{model}"] = sets["real"][i : i + 1][:, :, idx]
                baseline = predictions.get(("baseline", "mean-curve", target, "-"))
                if baseline is not None:
                    preds["mean-curve baseline"] = baseline["real"][i : i + 1][:, :, idx]
                name = f"real_{trial.name}_{target}.png"
                curves_figure(
                    figures_dir / name,
                    truth=real.select_targets(columns).Y[i : i + 1],
                    predictions=preds,
                    columns=columns,
                    unit=unit,
                    title=f"Real trial {trial.name}: hip {target}, zero-shot ({unit})",
                )
                made.append(
                    (
                        f"figures/{name}",
                        f"Real trial {trial.name}: reference hip {target} (black) vs every model, zero-shot.",
                    )
                )
    return made


# ---------------------------------------------------------------------------- the report
def _command_line(settings) -> str:
    parts = [
        "gait2hip",
        "benchmark",
        "--data",
        settings.data,
        "--target",
        "both" if len(settings.targets) == 2 else settings.targets[0],
        "--models",
        ",".join(settings.models),
        "--protocol",
        "both" if len(settings.protocols) == 2 else settings.protocols[0],
        "--profile",
        settings.profile.name,
    ]
    if settings.seeds != settings.profile.seeds:
        parts += ["--seeds", str(settings.seeds)]
    return shlex.join(parts) + " --out DIR"


def _load_text(timing: dict) -> str:
    load = timing.get("load_average")
    return "n/a" if not load else " / ".join(f"{v:.1f}" for v in load)


def _wall_text(timing: dict) -> str:
    """Wall time of the run: one call, or each call of a run resumed after a kill."""
    calls = timing.get("calls", [])
    if len(calls) <= 1:
        return f"Wall time: {timing['wall_seconds_this_call'] / 60:.1f} min"

    def span(call: dict) -> tuple[float, str]:
        start = time.strftime("%Y-%m-%d %H:%M", time.gmtime(call["started"]))
        if "wall_seconds" in call:
            end, wall = call["ended"], call["wall_seconds"]
            what = f"{call['models_trained']} model(s) finished"
        else:  # killed: its last heartbeat (a minute apart) is when it was last seen running
            end = call.get("last_seen", call["started"])
            wall, what = end - call["started"], "killed"
        return wall, f"{start}–{time.strftime('%H:%M', time.gmtime(end))} UTC ({wall / 60:.0f} min, {what})"

    timed = [span(call) for call in calls]
    spans = "; ".join(text for _, text in timed)
    total = sum(wall for wall, _ in timed) / 3600
    return (
        f"Wall time: {total:.2f} h over {len(calls)} calls of the command (resumed after a kill; "
        f"killed calls keep their finished models, folds and checkpoints): {spans}"
    )


def _estimate_text(timing: dict, settings) -> str:
    cpu = timing.get("training_cpu_seconds_all_units", 0.0)
    workers = timing.get("workers", 1)
    if settings.profile.name == "full":
        return (
            f"Training CPU time of all models: {cpu / 3600:.2f} CPU-hours (single-threaded processes), "
            f"≈ {cpu / max(1, workers) / 3600:.2f} h of {workers} worker(s)."
        )
    estimate = timing.get("full_profile_estimate_s") or {}
    if not estimate.get("total"):
        return "Full-profile time: not estimated (no training measured in this call)."
    parts = ", ".join(
        f"{k} {v / 3600:.1f} h" for k, v in estimate.items() if k in ("paper", "gait2hip", "ablation") and v
    )
    return (
        f"Training CPU time of this run: {cpu / 60:.1f} min (single-threaded processes), i.e. about "
        f"{cpu / max(1, workers) / 60:.1f} min of training on an idle machine with {workers} worker(s). "
        "Estimated `--profile full` on this data: "
        f"**{estimate['total'] / 3600:.1f} CPU-hours ≈ {estimate['idle_wall_with_workers'] / 3600:.1f} h "
        f"wall with {workers} worker(s)** ({parts}; extrapolated from this run's CPU seconds per "
        "cycle-epoch, assuming 200 epochs per paper fold and 170 final epochs, as in the paper's CSVs)."
    )


def write_report(
    *,
    out: Path,
    settings,
    splits,
    units,
    results,
    metrics: pd.DataFrame,
    subject_metrics: pd.DataFrame,
    real_frame: pd.DataFrame,
    tests: pd.DataFrame,
    predictions: dict,
    run_record: dict,
    timing: dict,
    shared: Path | None,
) -> Path:
    """Write report.md, report.html and the figures into ``out``; returns the path of report.md."""
    from gait2hip.train.recipes import ABLATION_FLAGS, GAIT2HIP_RECIPE, PAPER_RECIPE

    dataset = splits.dataset
    simulated = bool(dataset.attrs.get("simulated"))
    doc = Document("gait2hip benchmark report")
    if simulated:
        doc.banner(
            "SIMULATED DATA: every target below is an OpenSim estimate on a virtual cohort generated by "
            "gait2hip (not measured in people). Scores say how well models reproduce the simulation, "
            "not in-vivo hip loading."
        )
    if settings.profile.name == "quick":
        doc.banner(
            f"Quick profile: {settings.profile.folds} folds, ≤ {settings.profile.max_epochs} epochs "
            f"(paper protocol), {settings.profile.fixed_epochs} epochs (gait2hip), one seed — a smoke "
            "run of every step, far from converged. Use --profile full for numbers to quote."
        )
    doc.heading("Run")
    doc.code(_command_line(settings))
    n_subjects = dataset.meta["subject_id"].nunique()
    doc.bullets(
        [
            f"Data: `{settings.data}` — "
            + f"{dataset.attrs.get('name', '')} {dataset.attrs.get('description', '')}".strip(),
            f"{len(dataset)} cycles of {dataset.n_timepoints} points, {n_subjects} subjects; fingerprint "
            f"`{run_record['data_fingerprint']}`.",
            "Split (paper: numpy default_rng(42), 20 % of subjects): pool "
            f"{len(run_record['pool_subjects'])} subjects ({len(splits.pool)} cycles), test "
            f"{len(run_record['test_subjects'])} subjects ({len(splits.test)} cycles): "
            f"{', '.join(run_record['test_subjects'])}.",
            "External cohort (zero-shot, never trained on): "
            f"{len(run_record['external_subjects'])} patient(s)"
            + (f" ({len(splits.external)} cycles)." if splits.external is not None else "."),
            f"Machine: {timing['machine']}. {_wall_text(timing)} (load average at the end "
            f"{_load_text(timing)}: a busy machine stretches wall times, CPU times below do not depend "
            "on it); "
            f"training time summed over all {len(units)} "
            f"models: {timing['training_seconds_all_units'] / 60:.1f} min.",
            _estimate_text(timing, settings),
            "Units: forces in N per kg body mass, moments in Nm per kg; metrics per test subject, then "
            "averaged "
            "over subjects; ± = SD over seeds.",
        ]
    )

    doc.heading("Headline: test subjects (paper-style table)")
    for line in ratio_lines(metrics, settings.targets, settings.models):
        doc.paragraph(line)
    for target in settings.targets:
        doc.table(
            headline_table(metrics, target),
            f"Hip {target} ({UNITS[target]}), held-out healthy subjects; 'patients' = the external cohort, "
            "zero-shot. Skill = 1 − RMSE / RMSE(mean-curve baseline).",
        )
    published = published_results(shared)
    if not published.empty:
        doc.heading("The paper's published numbers (the paper's data)", 3)
        doc.paragraph(
            "From the Gait2Hip-60 repository's result CSVs (shared/reference/gait2hip60): 12 held-out "
            "subjects of the Gait2Hip-60 release (60 adults, 180-sample trials). These are the PAPER's "
            "numbers on the PAPER's data, shown for orientation only: our rows above come from a "
            "different dataset" + (" (simulated)" if simulated else "") + ", so they are not a "
            "reproduction unless --data is the release itself."
        )
        for target in settings.targets:
            doc.table(
                paper_table(published, target),
                f"Paper, hip {target} ({UNITS[target]}), R² = the paper's pooled definition.",
            )

    doc.heading("Per cadence (healthy test subjects)")
    for target in settings.targets:
        doc.table(cadence_table(metrics, target, "healthy"), f"Hip {target} ({UNITS[target]}).")
    if (metrics["cohort"] == "patient").any():
        doc.heading("External cohort: patients, zero-shot")
        doc.paragraph(
            "Every model trained on healthy subjects only, applied unchanged to the simulated ONFH-like "
            "patients (antalgic gait)."
        )
        for target in settings.targets:
            doc.table(cadence_table(metrics, target, "patient"), f"Hip {target} ({UNITS[target]}), patients.")

    ablation = ablation_table(metrics, settings.targets)
    if not ablation.empty:
        doc.heading("Ablation: what each gait2hip choice buys")
        doc.paragraph(
            "The gait2hip recipe with one flag at a time reverted to the paper's choice (same "
            "architecture, data, test subjects and seed). Δ > 0: removing the flag makes the error "
            "larger, i.e. the flag helps."
        )
        doc.table(ablation)

    if not tests.empty:
        doc.heading("Paired comparisons (Wilcoxon signed-rank over test subjects)")
        doc.paragraph(
            "Per-subject RMSE (averaged over seeds) of system A vs B on the same held-out subjects; "
            "two-sided exact/normal Wilcoxon signed-rank test, Holm-corrected within each target. A "
            "system is called better only where p (Holm) < 0.05."
        )
        doc.table(tests_table(tests))

    doc.heading("Real-trial check (measured OpenSim examples, zero-shot)")
    if real_frame.empty:
        doc.paragraph("Not run: " + "; ".join(splits.real_problems or ["no shared folder"]))
    else:
        doc.bullets(
            [f"**{t.name}**: " + "; ".join(t.notes) for t in splits.real] + list(splits.real_problems)
        )
        doc.table(
            real_table(real_frame),
            "One measured gait cycle per trial; r and R² per channel over the cycle, averaged over channels.",
        )

    doc.heading("Training details")
    doc.paragraph(
        "Paper protocol: GroupKFold best epochs (early stopping on the fold's validation subjects), "
        "final epochs = their median, retrained on the whole pool. gait2hip: a fixed epoch budget with "
        "cosine decay."
    )
    used = [u.recipe for u in units if u.protocol == "gait2hip"]
    switched_off = [
        flag
        for flag in ("mirror", "joint_targets")
        if used and not getattr(used[0], flag) and getattr(GAIT2HIP_RECIPE, flag)
    ]
    if switched_off:
        doc.paragraph(
            "Not applicable to this dataset, so switched off in the gait2hip recipe: "
            f"{', '.join(switched_off)} "
            "(mirroring needs the left-hip target columns; joint targets need both forces and moments)."
        )
    doc.table(cv_table(units, results))

    figures = make_figures(
        out=out,
        settings=settings,
        splits=splits,
        predictions=predictions,
        metrics=metrics,
        subject_metrics=subject_metrics,
    )
    doc.heading("Figures")
    for path, caption in figures:
        doc.image(path, caption)

    doc.heading("Methods")
    flags = pd.DataFrame(
        [
            {
                "flag": flag,
                "paper": ", ".join(f"{f}={getattr(PAPER_RECIPE, f)}" for f in fields),
                "gait2hip": ", ".join(f"{f}={getattr(GAIT2HIP_RECIPE, f)}" for f in fields),
            }
            for flag, fields in ABLATION_FLAGS.items()
        ]
    )
    doc.table(flags, "Recipe flags (gait2hip.train.recipes).")
    doc.bullets(
        [
            "RMSE, MAE: over all time points and channels of a subject's test cycles; subject values "
            "averaged.",
            "R² (paper): per subject, all cycles and channels pooled, SS_tot about ONE scalar mean "
            "(Gait2Hip-60's definition; inflated by offsets between channels).",
            "R² (per channel): the usual R² of each channel over the subject's pooled cycles, averaged "
            "over channels.",
            "Mean-curve baseline: the pool subjects' mean curve per cadence, predicted for every cycle.",
            f"Profile `{settings.profile.name}`: {json.dumps(settings.profile.to_dict())}.",
            "Files: metrics.csv (one row per protocol × model × target × cohort × cadence × seed), "
            "subject_metrics.csv, real_trials.csv, paired_tests.csv, models/ (bundles), "
            "units/ (predictions).",
        ]
    )
    (out / "report.md").write_text(doc.to_markdown())
    (out / "report.html").write_text(doc.to_html())
    return out / "report.md"


__all__ = ["mean_sd", "published_results", "write_report"]
