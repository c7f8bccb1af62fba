"""The benchmark report: ``report.md`` + ``report.html`` (same content) + ``figures/*.png``, rebuilt
from a finished run folder alone (:func:`write_report`).

Every table says its unit, its cohort and how many subjects it averages; the paper's published
numbers (from ``shared/reference/gait2hip60``) are shown beside ours, labelled as the paper's
numbers on the paper's data.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import pandas as pd

from gait2hip.data.columns import CONTACT_R, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.report.crosslab import crosslab_section
from gait2hip.report.document import Document
from gait2hip.report.figures import box_figure, cadence_figure, curves_figure
from gait2hip.report.rundata import RunData, read_run
from gait2hip.report.tables import (
    CADENCES,
    PAPER_FOLDERS,
    UNITS,
    _system_label,
    ablation_table,
    cadence_table,
    cv_table,
    headline_table,
    paper_table,
    published_results,
    ratio_lines,
    real_table,
    tests_table,
)

TARGET_COLUMNS = {"forces": MUSCLE_GROUPS_R, "moments": MOMENTS_R, "contact": CONTACT_R}
#: ``--target`` of a run's targets (the command-line choice that gives them).
TARGET_OPTION = {("forces", "moments"): "both", ("forces", "moments", "contact"): "all"}
BASELINE_KEY = ("baseline", "mean-curve")


# ---------------------------------------------------------------------------- figures
def _pick_seed(predictions: dict, protocol: str, model: str, target: str) -> dict | None:
    for seed in ("ensemble", "2025"):
        if (protocol, model, target, seed) in predictions:
            return predictions[(protocol, model, target, seed)]
    matches = [v for (p, m, t, _), v in predictions.items() if (p, m, t) == (protocol, model, target)]
    return matches[0] if matches else None


def _system_curves(run: RunData, target: str, protocols, set_name: str, idx=slice(None)) -> dict:
    """Predictions of each (protocol/model) and the baseline for one set, channels ``idx``."""
    preds = {}
    for protocol in protocols:
        for model in run.models:
            sets = _pick_seed(run.predictions, protocol, model, target)
            if sets is not None:
                preds[f"{protocol}/{model}"] = sets[set_name][..., idx]
    baseline = run.predictions.get((*BASELINE_KEY, target, "-"))
    if baseline is not None:
        preds["mean-curve baseline"] = baseline[set_name][..., idx]
    return preds


def curve_figures(run: RunData, figures_dir: Path, target: str) -> list[tuple[str, str]]:
    """Mean ± SD curves: reference vs every model, per protocol and cohort."""
    made = []
    cohorts = [("test", "healthy test subjects")]
    if "external" in run.summary["sets"]:
        cohorts.append(("external", "simulated patients (external cohort, zero-shot)"))
    for protocol in run.protocols:
        for set_name, cohort_text in cohorts:
            truth = run.truth[(target, set_name)]
            name = f"curves_{protocol}_{target}_{set_name}.png"
            curves_figure(
                figures_dir / name,
                truth=truth,
                predictions=_system_curves(run, target, (protocol,), set_name),
                columns=TARGET_COLUMNS[target],
                unit=UNITS[target],
                title=f"{target.capitalize()}: reference vs {protocol} protocol, {cohort_text} "
                f"({run.summary['sets'][set_name]['subjects']} subjects, {len(truth)} cycles), mean ± SD",
            )
            made.append(
                (
                    f"figures/{name}",
                    f"Hip {target} over the gait cycle, {protocol} protocol, "
                    f"{cohort_text}: reference (black, grey ±1 SD) vs predictions.",
                )
            )
    return made


def box_figures(run: RunData, figures_dir: Path, target: str) -> list[tuple[str, str]]:
    """Per-subject RMSE boxes, healthy and patients."""
    subject_metrics = run.tables["subject_metrics"]
    if subject_metrics.empty:
        return []
    data = subject_metrics[
        (subject_metrics["target"] == target)
        & (subject_metrics["cadence"] == "overall")
        & (subject_metrics["seed"] != "ensemble")
        & (~subject_metrics["protocol"].str.startswith("ablation"))
    ]
    panels = {}
    for cohort, text in (("healthy", "healthy test subjects"), ("patient", "patients (zero-shot)")):
        sub = data[data["cohort"] == cohort]
        if not sub.empty:
            panels[text] = {
                _system_label(p, m): g.groupby("subject_id")["rmse"].mean().to_numpy()
                for (p, m), g in sub.groupby(["protocol", "model"], sort=False)
            }
    if not panels:
        return []
    name = f"box_{target}.png"
    unit = UNITS[target]
    box_figure(
        figures_dir / name,
        panels=panels,
        unit=unit,
        title=f"{target.capitalize()}: RMSE per subject (mean over seeds)",
    )
    return [(f"figures/{name}", f"Per-subject RMSE of hip {target} ({unit}); one dot per subject.")]


def cadence_figures(run: RunData, figures_dir: Path, target: str) -> list[tuple[str, str]]:
    """RMSE per cadence, healthy test subjects, bars with SD over seeds."""
    metrics = run.tables["metrics"]
    rows = metrics[
        (metrics["target"] == target)
        & (metrics["cohort"] == "healthy")
        & (metrics["cadence"].isin(CADENCES))
        & (metrics["seed"] != "ensemble")
        & (~metrics["protocol"].str.startswith("ablation"))
    ]
    if not len(rows):
        return []
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
        unit=UNITS[target],
        title=f"{target.capitalize()}: RMSE by cadence, healthy test subjects (error bars: SD over seeds)",
    )
    return [(f"figures/{name}", f"Hip {target} RMSE per cadence (slow 78, med 115, fast 135 steps/min).")]


def real_figures(run: RunData, figures_dir: Path, target: str) -> list[tuple[str, str]]:
    """One figure per real trial: its reference channels vs every model, zero-shot."""
    if "real" not in run.summary["sets"]:
        return []
    made = []
    for i, trial in enumerate(run.summary["real_trials"]):
        columns = [c for c in TARGET_COLUMNS[target] if c in trial["available"]]
        if not columns:
            continue
        idx = [TARGET_COLUMNS[target].index(c) for c in columns]
        preds = {k: v[i : i + 1] for k, v in _system_curves(run, target, run.protocols, "real", idx).items()}
        name = f"real_{trial['name']}_{target}.png"
        curves_figure(
            figures_dir / name,
            truth=run.truth[(target, "real")][i : i + 1][:, :, idx],
            predictions=preds,
            columns=columns,
            unit=UNITS[target],
            title=f"Real trial {trial['name']}: hip {target}, zero-shot ({UNITS[target]})",
        )
        made.append(
            (
                f"figures/{name}",
                f"Real trial {trial['name']}: reference hip {target} (black) vs every model, zero-shot.",
            )
        )
    return made


def make_figures(run: RunData) -> list[tuple[str, str]]:
    """Every figure of the report into ``figures/``; (path, caption) pairs."""
    figures_dir = run.folder / "figures"
    figures_dir.mkdir(exist_ok=True)
    made: list[tuple[str, str]] = []
    for target in run.targets:
        for kind in (curve_figures, box_figures, cadence_figures, real_figures):
            made += kind(run, figures_dir, target)
    return made


# ---------------------------------------------------------------------------- text
def _command_line(run: RunData) -> str:
    settings, budget = run.settings, run.budget
    parts = [
        "gait2hip",
        "benchmark",
        "--data",
        settings["data"],
        "--target",
        TARGET_OPTION.get(tuple(run.targets), run.targets[0]),
        "--models",
        ",".join(run.models),
        "--protocol",
        "both" if len(run.protocols) == 2 else run.protocols[0],
        "--profile",
        budget["name"],
    ]
    if settings["seeds"] != budget["seeds"]:
        parts += ["--seeds", str(settings["seeds"])]
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


def _estimate_text(timing: dict, budget_name: str) -> str:
    cpu = timing.get("training_cpu_seconds_all_units", 0.0)
    workers = timing.get("workers", 1)
    if budget_name == "full":
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


# ---------------------------------------------------------------------------- sections
def _banners(doc: Document, run: RunData) -> None:
    if run.simulated:
        doc.banner(
            "SIMULATED DATA: every target below is an OpenSim estimate on a virtual cohort generated by "
            "gait2hip (not measured in people). Scores say how well models reproduce the simulation, "
            "not in-vivo hip loading."
        )
    budget = run.budget
    if budget["name"] == "quick":
        doc.banner(
            f"Quick profile: {budget['folds']} folds, ≤ {budget['max_epochs']} epochs "
            f"(paper protocol), {budget['fixed_epochs']} epochs (gait2hip), one seed — a smoke "
            "run of every step, far from converged. Use --profile full for numbers to quote."
        )


def _run_section(doc: Document, run: RunData) -> None:
    record, summary, timing = run.record, run.summary, run.record.get("timing", {})
    attrs = record.get("data_attrs", {})
    external = summary.get("external_cycles")
    doc.heading("Run")
    doc.code(_command_line(run))
    doc.bullets(
        [
            f"Data: `{run.settings['data']}` — "
            + f"{attrs.get('name', '')} {attrs.get('description', '')}".strip(),
            f"{summary['n_cycles']} cycles of {summary['n_timepoints']} points, {summary['n_subjects']} "
            f"subjects; fingerprint `{record['data_fingerprint']}`.",
            "Split (paper: numpy default_rng(42), 20 % of subjects): pool "
            f"{len(record['pool_subjects'])} subjects ({summary['pool_cycles']} cycles), test "
            f"{len(record['test_subjects'])} subjects ({summary['test_cycles']} cycles): "
            f"{', '.join(record['test_subjects'])}.",
            "External cohort (zero-shot, never trained on): "
            f"{len(record['external_subjects'])} patient(s)"
            + (f" ({external} cycles)." if external is not None else "."),
            f"Machine: {timing.get('machine', 'n/a')}. {_wall_text(timing)} (load average at the end "
            f"{_load_text(timing)}: a busy machine stretches wall times, CPU times below do not depend "
            "on it); "
            f"training time summed over all {len(run.unit_infos)} "
            f"models: {timing.get('training_seconds_all_units', 0.0) / 60:.1f} min.",
            _estimate_text(timing, run.budget["name"]),
            "Units: forces in N per kg body mass, moments in Nm per kg"
            + ("; hip contact force in % body weight (N/kg / 9.81 × 100)" if "contact" in run.targets else "")
            + "; metrics per test subject, then averaged over subjects; ± = SD over seeds.",
        ]
    )


def _headline_section(doc: Document, run: RunData, shared: Path | None) -> None:
    metrics = run.tables["metrics"]
    doc.heading("Headline: test subjects (paper-style table)")
    for line in ratio_lines(metrics, run.targets, run.models):
        doc.paragraph(line)
    for target in run.targets:
        doc.table(
            headline_table(metrics, target),
            f"Hip {target} ({UNITS[target]}), held-out healthy subjects; 'patients' = the external cohort, "
            "zero-shot. Skill = 1 − RMSE / RMSE(mean-curve baseline).",
        )
    published = published_results(shared)
    if published.empty:
        return
    doc.heading("The paper's published numbers (the paper's data)", 3)
    doc.paragraph(
        "From the Gait2Hip-60 repository's result CSVs (shared/reference/gait2hip60): 12 held-out "
        "subjects of the Gait2Hip-60 release (60 adults, 180-sample trials). These are the PAPER's "
        "numbers on the PAPER's data, shown for orientation only: our rows above come from a "
        "different dataset" + (" (simulated)" if run.simulated else "") + ", so they are not a "
        "reproduction unless --data is the release itself."
    )
    for target in (t for t in run.targets if t in PAPER_FOLDERS):  # the paper has no contact force
        doc.table(
            paper_table(published, target),
            f"Paper, hip {target} ({UNITS[target]}), R² = the paper's pooled definition.",
        )


def _cohort_sections(doc: Document, run: RunData) -> None:
    metrics = run.tables["metrics"]
    doc.heading("Per cadence (healthy test subjects)")
    for target in run.targets:
        doc.table(cadence_table(metrics, target, "healthy"), f"Hip {target} ({UNITS[target]}).")
    if (metrics["cohort"] == "patient").any():
        doc.heading("External cohort: patients, zero-shot")
        doc.paragraph(
            "Every model trained on healthy subjects only, applied unchanged to the simulated ONFH-like "
            "patients (antalgic gait)."
        )
        for target in run.targets:
            doc.table(cadence_table(metrics, target, "patient"), f"Hip {target} ({UNITS[target]}), patients.")


def _comparison_sections(doc: Document, run: RunData) -> None:
    ablation = ablation_table(run.tables["metrics"], run.targets)
    if not ablation.empty:
        doc.heading("Ablation: what each gait2hip choice buys")
        doc.paragraph(
            "The gait2hip recipe with one flag at a time reverted to the paper's choice (same "
            "architecture, data, test subjects and seed). Δ > 0: removing the flag makes the error "
            "larger, i.e. the flag helps."
        )
        doc.table(ablation)
    tests = run.tables["paired_tests"]
    if not tests.empty:
        doc.heading("Paired comparisons (Wilcoxon signed-rank over test subjects)")
        doc.paragraph(
            "Per-subject RMSE (averaged over seeds) of system A vs B on the same held-out subjects; "
            "two-sided exact/normal Wilcoxon signed-rank test, Holm-corrected within each target. A "
            "system is called better only where p (Holm) < 0.05."
        )
        doc.table(tests_table(tests))


def _real_section(doc: Document, run: RunData) -> None:
    real = run.tables["real_trials"]
    problems = run.summary.get("real_problems", [])
    doc.heading("Real-trial check (measured OpenSim examples, zero-shot)")
    if real.empty:
        doc.paragraph("Not run: " + "; ".join(problems or ["no shared folder"]))
        return
    doc.bullets(
        [f"**{t['name']}**: " + "; ".join(t["notes"]) for t in run.summary["real_trials"]] + list(problems)
    )
    doc.table(
        real_table(real),
        "One measured gait cycle per trial; r and R² per channel over the cycle, averaged over channels.",
    )


def _training_section(doc: Document, run: RunData) -> None:
    doc.heading("Training details")
    doc.paragraph(
        "Paper protocol: GroupKFold best epochs (early stopping on the fold's validation subjects), "
        "final epochs = their median, retrained on the whole pool. gait2hip: a fixed epoch budget with "
        "cosine decay."
    )
    default = run.record.get("recipes", {}).get("gait2hip", {})
    used = [u["recipe"] for u in run.unit_infos if u["protocol"] == "gait2hip"]
    switched_off = [
        flag for flag in ("mirror", "joint_targets") if used and not used[0][flag] and default.get(flag)
    ]
    if switched_off:
        doc.paragraph(
            "Not applicable to this dataset, so switched off in the gait2hip recipe: "
            f"{', '.join(switched_off)} "
            "(mirroring needs the left-hip target columns; joint targets need both forces and moments)."
        )
    doc.table(cv_table(run.unit_infos))


def _methods_section(doc: Document, run: RunData) -> None:
    doc.heading("Methods")
    recipes = run.record.get("recipes", {})
    if recipes:
        paper, ours = recipes["paper"], recipes["gait2hip"]
        doc.table(
            pd.DataFrame(
                [
                    {
                        "flag": flag,
                        "paper": ", ".join(f"{f}={paper[f]}" for f in fields),
                        "gait2hip": ", ".join(f"{f}={ours[f]}" for f in fields),
                    }
                    for flag, fields in run.record["ablation_flags"].items()
                ]
            ),
            "Recipe flags (gait2hip.train.recipes).",
        )
    doc.bullets(
        [
            "RMSE, MAE: over all time points and channels of a subject's test cycles; subject values "
            "averaged.",
            "R² (paper): per subject, all cycles and channels pooled, SS_tot about ONE scalar mean "
            "(Gait2Hip-60's definition; inflated by offsets between channels).",
            "R² (per channel): the usual R² of each channel over the subject's pooled cycles, averaged "
            "over channels.",
            "Mean-curve baseline: the pool subjects' mean curve per cadence, predicted for every cycle.",
            f"Profile `{run.budget['name']}`: {json.dumps(run.budget)}.",
            "Files: metrics.csv (one row per protocol × model × target × cohort × cadence × seed), "
            "subject_metrics.csv, real_trials.csv, paired_tests.csv, curves.npz, models/ (bundles), "
            "units/ (predictions).",
        ]
    )


def write_report(out: Path, *, shared: Path | None = None) -> Path:
    """Write report.md, report.html and the figures of the finished run folder ``out``.

    Parameters
    ----------
    out
        A run folder written to the end by ``gait2hip benchmark`` (see :mod:`gait2hip.report.rundata`).
    shared
        The shared-inputs folder, for the paper's published numbers (left out when None).

    Returns
    -------
    Path
        ``out/report.md``.
    """
    run = read_run(out)
    doc = Document("gait2hip benchmark report")
    _banners(doc, run)
    _run_section(doc, run)
    _headline_section(doc, run, shared)
    _cohort_sections(doc, run)
    _comparison_sections(doc, run)
    _real_section(doc, run)
    crosslab_section(doc, run.folder)
    _training_section(doc, run)
    doc.heading("Figures")
    for path, caption in make_figures(run):
        doc.image(path, caption)
    _methods_section(doc, run)
    (run.folder / "report.md").write_text(doc.to_markdown())
    (run.folder / "report.html").write_text(doc.to_html())
    return run.folder / "report.md"


__all__ = ["make_figures", "write_report"]
