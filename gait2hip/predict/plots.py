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
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

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
        reference = bundle.reference
        if "target_mean_curve" in reference:
            grid = np.linspace(0, 100, bundle.seq_len)
            mean = reference["target_mean_curve"][:, j].astype(float)
            sd = reference["target_sd_curve"][:, j].astype(float)
            if not unit.endswith("/kg"):  # a band in N or Nm cannot be put per kg without masses
                mean = sd = np.full_like(mean, np.nan)
            ax.fill_between(grid, mean - sd, mean + sd, color="0.85", lw=0, label="training mean ± SD")
            ax.plot(grid, mean, color="0.55", lw=1.0)
        if name + "_per_kg_lo" in curves:  # the bundle's calibrated band (widened when out of distribution)
            ax.fill_between(
                percent,
                curves[name + "_per_kg_lo"].to_numpy(dtype=float),
                curves[name + "_per_kg_hi"].to_numpy(dtype=float),
                color="C3",
                alpha=0.22,
                lw=0,
                label="90 % prediction band",
            )
        ax.plot(
            percent, curves[name + "_per_kg"].to_numpy(dtype=float), color="C3", lw=1.8, label="predicted"
        )
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
    fig.suptitle(title + ("\n" + note if note else ""), fontsize=10)
    fig.tight_layout(rect=(0, 0.02, 1, 0.95 if note else 0.97))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
