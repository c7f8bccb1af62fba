"""The per-cycle figure: predicted hip muscle forces and moments over 0–100 % of the gait
cycle with their 90 % prediction band (when the bundle has one), drawn over the training
cohort's mean ± 1 SD band."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.models.bundle import Bundle
from gait2hip.predict.predictor import output_name

#: Readable names of the right-hip targets (left twins share them).
TARGET_LABELS: dict[str, str] = {
    "addbrev": "Adductor brevis",
    "addlong": "Adductor longus",
    "addmag": "Adductor magnus",
    "grac": "Gracilis",
    "iliopsoas": "Iliopsoas",
    "recfem": "Rectus femoris",
    "sart": "Sartorius",
    "glmax": "Gluteus maximus",
    "bflh": "Biceps femoris LH",
    "hamstring": "Semimembr. + semitend.",
    "glmed": "Gluteus medius",
    "glmin": "Gluteus minimus",
    "tfl": "Tensor fasciae latae",
    "piri": "Piriformis",
    "hip_flexion": "Hip flexion moment",
    "hip_adduction": "Hip adduction moment",
    "hip_rotation": "Hip int. rotation moment",
}


def _label(target: str) -> str:
    stem = target.removesuffix("_moment")
    stem = stem[:-2] if stem.endswith(("_r", "_l")) else stem
    return TARGET_LABELS.get(stem, target)


def plot_cycle(
    curves: pd.DataFrame,
    *,
    bundles: Sequence[Bundle],
    side: str,
    title: str,
    out: str | Path,
    note: str = "",
    dpi: int = 90,
    level: str = "ok",
    moment_convention: str = "internal",
    moment_units: str = "Nm/kg",
    height_m: float | None = None,
) -> Path:
    """Save a figure of one cycle's predictions (per kg) with the training band behind them.

    Parameters
    ----------
    curves
        One cycle's rows of :attr:`Prediction.curves` (``percent`` and ``<target>_per_kg``).
    bundles
        The bundles that predicted it (their reference curves give the band).
    side
        'right' or 'left': which hip's column names to plot.
    title
        First title line (file, cycle, window).
    out
        PNG path.
    note
        Second title line (e.g. the out-of-distribution verdict).
    level
        The cycle's OOD level: 'caution' draws an orange frame and stamp, 'unreliable' a red one.
    moment_convention, moment_units, height_m
        How the moment columns are expressed (see :mod:`gait2hip.predict.moments`); the
        training band is converted the same way.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from gait2hip.predict.moments import moment_scale, normalised_suffix

    panels: list[tuple[str, Bundle, int]] = [
        (target, bundle, j) for bundle in bundles for j, target in enumerate(bundle.target_columns)
    ]
    n_cols = 5 if len(panels) > 8 else min(4, len(panels))
    n_rows = int(np.ceil(len(panels) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.0 * n_cols, 2.25 * n_rows), squeeze=False)
    percent = curves["percent"].to_numpy(dtype=float)
    for ax, (target, bundle, j) in zip(axes.flat, panels, strict=False):
        name = output_name(target, side)
        unit = bundle.target_units[j]
        per_kg_unit = unit if unit.endswith("/kg") else unit + "/kg"
        column, scale = name + "_per_kg", 1.0
        if per_kg_unit == "Nm/kg":  # moments: the chosen convention and normalisation
            column = name + normalised_suffix(moment_units)
            scale = moment_scale(moment_units, height_m) * (-1.0 if moment_convention == "external" else 1.0)
            per_kg_unit = f"{moment_units} ({moment_convention})"
        reference = bundle.reference
        if "target_mean_curve" in reference:
            grid = np.linspace(0, 100, bundle.seq_len)
            mean = reference["target_mean_curve"][:, j].astype(float) * scale
            sd = reference["target_sd_curve"][:, j].astype(float) * abs(scale)
            if not unit.endswith("/kg"):  # a band in N or Nm cannot be put per kg without masses
                mean = sd = np.full_like(mean, np.nan)
            ax.fill_between(grid, mean - sd, mean + sd, color="0.85", lw=0, label="training mean ± SD")
            ax.plot(grid, mean, color="0.55", lw=1.0)
        if column + "_lo" in curves:  # the bundle's calibrated band (widened when out of distribution)
            ax.fill_between(
                percent,
                curves[column + "_lo"].to_numpy(dtype=float),
                curves[column + "_hi"].to_numpy(dtype=float),
                color="C3",
                alpha=0.22,
                lw=0,
                label="90 % prediction band",
            )
        ax.plot(percent, curves[column].to_numpy(dtype=float), color="C3", lw=1.8, label="predicted")
        ax.axhline(0, color="0.7", lw=0.5)
        ax.set_title(_label(target), fontsize=9)
        ax.set_xlim(0, 100)
        ax.tick_params(labelsize=7)
        ax.set_ylabel(per_kg_unit, fontsize=7, labelpad=1)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for index, ax in enumerate(axes.flat[: len(panels)]):
        if index + n_cols >= len(panels):  # no panel below this one
            ax.set_xlabel("% gait cycle", fontsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=8, frameon=False)
    import textwrap

    width = int(3.0 * n_cols * 12)  # characters per title line at fontsize 10 (~12 per inch)
    note = "\n".join(textwrap.fill(line, width) for line in note.split("\n")) if note else note
    colour = {"caution": "darkorange", "unreliable": "red"}.get(level)
    fig.suptitle(title + ("\n" + note if note else ""), fontsize=10, color=colour or "black")
    lines = 1 + (note.count("\n") + 1 if note else 0)
    top = max(0.75, 1.0 - 0.16 * lines / (2.25 * n_rows))  # ~0.16 inch per title line
    fig.tight_layout(rect=(0, 0.02, 1, top))
    if colour:  # a frame and stamp a reader cannot miss
        fig.patches.append(
            plt.Rectangle(
                (0.003, 0.003), 0.994, 0.994, transform=fig.transFigure, fill=False, lw=4, ec=colour
            )
        )
        fig.text(0.01, 0.01, f"OOD: {level.upper()}", color=colour, fontsize=12, weight="bold")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
