"""The cross-lab section of a benchmark report: "trained on → tested on" tables and one figure.

Reads ``DIR/crosslab/crosslab.csv`` (written by :mod:`gait2hip.bench.crosslab`, scored by
:mod:`gait2hip.evaluate.crosslab`); a run without it gets a one-line note.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gait2hip.report.document import Document
from gait2hip.report.tables import crosslab_table

#: Test sets drawn in the figure, in order (labs the models were not trained on, except the first).
FIGURE_SETS = ("fukuchi2018 (held-out subjects)", "gait2392-subject01", "moco-3d-walking")


def read_crosslab(folder: Path) -> tuple[pd.DataFrame, dict]:
    """``crosslab.csv`` and ``settings.json`` of a run folder's cross-lab step (empty when absent)."""
    base = Path(folder) / "crosslab"
    if not (base / "crosslab.csv").exists():
        return pd.DataFrame(), {}
    settings = json.loads((base / "settings.json").read_text()) if (base / "settings.json").exists() else {}
    return pd.read_csv(base / "crosslab.csv"), settings


def crosslab_figure(table: pd.DataFrame, path: Path) -> Path:
    """Hip-moment RMSE per configuration on the labs of :data:`FIGURE_SETS`, with both mean curves."""
    moments = table[(table["target"] == "moments") & table["tested_on"].isin(FIGURE_SETS)]
    configs = list(dict.fromkeys(moments["config"]))
    sets = [s for s in FIGURE_SETS if s in set(moments["tested_on"])]
    fig, axes = plt.subplots(1, max(1, len(sets)), figsize=(4.2 * max(1, len(sets)), 4.2), squeeze=False)
    for ax, name in zip(axes[0], sets, strict=False):
        part = moments[moments["tested_on"] == name].set_index("config").reindex(configs)
        y = np.arange(len(configs))
        ax.barh(y, part["rmse"], color="#1f77b4", label="model")
        ax.scatter(
            part["rmse_train_mean"], y, marker="|", s=200, color="#7f7f7f", label="training mean curve"
        )
        ax.scatter(part["rmse_lab_mean"], y, marker="|", s=200, color="#d62728", label="lab's own mean curve")
        ax.set_yticks(y, configs if ax is axes[0][0] else [""] * len(configs))
        ax.invert_yaxis()
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("hip moment RMSE (Nm/kg)")
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def crosslab_section(doc: Document, folder: Path) -> None:
    """Add the cross-lab heading, notes, tables and figure for the run folder ``folder``."""
    table, settings = read_crosslab(folder)
    doc.heading("Cross-lab: trained on → tested on")
    if table.empty:
        doc.paragraph("Not run (the budget has no cross-lab configurations, or the step did not finish).")
        return
    fixed = settings.get("settings", {})
    doc.bullets(
        [
            "Trained on: **simulated** (the simulated cohort's training pool), **fukuchi2018** (REAL: "
            f"{fixed.get('folds', '?')} folds over its 30 subjects, each model scored on the subjects it "
            "never saw), **both** (mixed, masked loss: real cycles have no force labels).",
            f"Model: {fixed.get('architecture', '?')} {fixed.get('model_overrides', {})}, "
            f"{fixed.get('epochs', '?')} fixed epochs, seed {fixed.get('seed', '?')}; configuration = the "
            "training source + one recipe flag (ablation; see gait2hip.train.recipes).",
            "Scores pooled over the test cycles. Skill = 1 − RMSE / RMSE of a mean curve: the training "
            "data's (per speed), and the test lab's own: leave one subject out (per speed) for held-out "
            "simulated and fukuchi2018 subjects; for the one-trial example labs the mean curve of the other "
            "real source (fukuchi2018). No real source has muscle forces: forces are scored on simulated "
            "subjects and the gait2392 example (CMC forces) only.",
            "A row averages its fold models on test sets every fold model predicts (simulated subjects, "
            "example trials); held-out fukuchi2018 subjects are scored once on out-of-fold predictions.",
        ]
    )
    for target in ("moments", "forces"):
        frame = crosslab_table(table, target=target)
        if len(frame):
            doc.table(frame, f"Cross-lab table, {target}.")
    path = crosslab_figure(table, Path(folder) / "figures" / "crosslab.png")
    doc.image(
        str(path.relative_to(folder)), "Hip-moment RMSE per configuration; ticks: mean-curve baselines."
    )
