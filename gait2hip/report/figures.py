"""Benchmark figures a clinician can read: curves over the gait cycle, error box plots, cadence bars.

Conventions: x axis = % of the gait cycle (0 = right heel strike); the reference (OpenSim
labels) is black with a grey ±1 SD band across cycles; each model is one colour with a light
band of its own ±1 SD. Forces are in N per kg of body mass, moments in Nm per kg; positive
hip moments are flexion / adduction / internal rotation (OpenSim's coordinate directions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gait2hip.data.columns import contact_label

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
BASELINE_COLOUR = "#7f7f7f"
#: One colour per architecture in every figure; the paper protocol is drawn dashed / hatched.
MODEL_COLOURS = {"lstm": "#1f77b4", "transformer": "#d62728", "mamba": "#2ca02c", "tcn": "#9467bd"}


def style_for(label: str, index: int = 0) -> tuple[str, str]:
    """(colour, line style) of a system label such as 'gait2hip/lstm', 'paper/mamba' or 'mean-curve'."""
    if "mean-curve" in label:
        return BASELINE_COLOUR, "--"
    model = label.split("/")[-1].split(" ")[0]
    colour = MODEL_COLOURS.get(model, PALETTE[index % len(PALETTE)])
    return colour, (":" if label.startswith("paper") else "-")


#: Readable names of the target channels.
PRETTY = {
    "addbrev_r": "Adductor brevis",
    "addlong_r": "Adductor longus",
    "addmag_r": "Adductor magnus",
    "grac_r": "Gracilis",
    "iliopsoas_r": "Iliopsoas",
    "recfem_r": "Rectus femoris",
    "sart_r": "Sartorius",
    "glmax_r": "Gluteus maximus",
    "bflh_r": "Biceps fem. long head",
    "hamstring_r": "Semimem. + semitend.",
    "glmed_r": "Gluteus medius",
    "glmin_r": "Gluteus minimus",
    "tfl_r": "Tensor fasciae latae",
    "piri_r": "Piriformis",
    "hip_flexion_r_moment": "Hip flexion (+) / extension (−)",
    "hip_adduction_r_moment": "Hip adduction (+) / abduction (−)",
    "hip_rotation_r_moment": "Hip internal (+) / external (−) rot.",
}


def _title(column: str) -> str:
    """A panel's title: the readable name of a muscle group, moment or contact-force component."""
    return PRETTY.get(column) or contact_label(column) or column


def _grid(n: int) -> tuple[int, int]:
    if n <= 3:
        return 1, n
    cols = 4 if n > 9 else 3
    return int(np.ceil(n / cols)), cols


def curves_figure(
    path: Path,
    *,
    truth: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    columns: Sequence[str],
    unit: str,
    title: str,
) -> Path:
    """Reference vs predicted mean ± SD over the gait cycle, one panel per channel.

    Parameters
    ----------
    truth
        Reference cycles [N, T, C].
    predictions
        Label → predicted cycles [N, T, C] for the same cycles.
    """
    rows, cols = _grid(len(columns))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.7 * rows + 0.8), squeeze=False, sharex=True)
    pct = np.linspace(0, 100, truth.shape[1])
    for k, column in enumerate(columns):
        ax = axes.flat[k]
        mean, sd = truth[:, :, k].mean(axis=0), truth[:, :, k].std(axis=0)
        ax.fill_between(pct, mean - sd, mean + sd, color="0.8", lw=0)
        ax.plot(pct, mean, color="black", lw=2.2, label="reference (OpenSim)")
        for j, (label, pred) in enumerate(predictions.items()):
            colour, style = style_for(label, j)
            p_mean, p_sd = pred[:, :, k].mean(axis=0), pred[:, :, k].std(axis=0)
            if len(pred) > 1:
                ax.fill_between(pct, p_mean - p_sd, p_mean + p_sd, color=colour, alpha=0.10, lw=0)
            ax.plot(pct, p_mean, color=colour, lw=1.5, ls=style, label=label)
        ax.set_title(_title(column), fontsize=10)
        ax.grid(alpha=0.3)
        if k % cols == 0:
            ax.set_ylabel(unit)
    for ax in axes.flat[len(columns) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("% gait cycle (0 = right heel strike)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False, fontsize=9)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.06 if rows > 1 else 0.12, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def box_figure(path: Path, *, panels: Mapping[str, Mapping[str, np.ndarray]], unit: str, title: str) -> Path:
    """Per-subject RMSE box plots, one box per system, one panel per cohort."""
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(max(6.0, 1.0 * max(len(p) for p in panels.values()) + 2) * len(panels) / 1.4, 4.6),
        squeeze=False,
    )
    for ax, (panel, systems) in zip(axes.flat, panels.items(), strict=True):
        labels = list(systems)
        data = [np.asarray(systems[name], dtype=float) for name in labels]
        box = ax.boxplot(
            data, patch_artist=True, widths=0.6, showfliers=False, medianprops={"color": "black", "lw": 1.5}
        )
        for j, patch in enumerate(box["boxes"]):
            colour, style = style_for(labels[j], j)
            patch.set_facecolor(colour)
            patch.set_alpha(0.45)
            if style == ":":
                patch.set_hatch("//")
        for j, values in enumerate(data):
            jitter = np.random.default_rng(j).uniform(-0.12, 0.12, len(values))
            ax.scatter(np.full(len(values), j + 1) + jitter, values, s=10, color="black", zorder=3)
        ax.set_xticks(range(1, len(labels) + 1), [lab.replace("/", "\n") for lab in labels], fontsize=8)
        ax.set_ylabel(f"RMSE per subject ({unit})")
        ax.set_title(panel, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def cadence_figure(path: Path, *, table: pd.DataFrame, unit: str, title: str) -> Path:
    """Grouped bars: RMSE per cadence (columns of ``table``) per system (rows), error bars = SD over seeds.

    ``table`` has a MultiIndex column level ('mean', 'sd') × cadence, or plain cadence columns.
    """
    means = table["mean"] if "mean" in table.columns.get_level_values(0) else table
    sds = table["sd"] if "sd" in table.columns.get_level_values(0) else None
    cadences = list(means.columns)
    systems = list(means.index)
    width = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(cadences) + 0.35 * len(systems)) + 2.2, 4.2))
    x = np.arange(len(cadences))
    for j, name in enumerate(systems):
        colour, style = style_for(name, j)
        err = None
        if sds is not None and np.isfinite(sds.loc[name].to_numpy(dtype=float)).any():
            err = np.nan_to_num(sds.loc[name].to_numpy(dtype=float))
        ax.bar(
            x + (j - (len(systems) - 1) / 2) * width,
            means.loc[name].to_numpy(dtype=float),
            width,
            yerr=err,
            color=colour,
            alpha=0.45 if style == ":" else 0.85,
            label=name,
            capsize=2,
            hatch="//" if style == ":" else None,
            edgecolor="white" if style == ":" else None,
        )
    ax.set_xticks(x, [f"{c}" for c in cadences])
    ax.set_ylabel(f"subject-mean RMSE ({unit})")
    ax.set_title(title, fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
