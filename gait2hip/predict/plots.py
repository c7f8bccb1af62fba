"""The per-cycle figure: predicted hip muscle forces, moments and (joint bundles trained with it) the
hip contact force over 0–100 % of the gait cycle with their 90 % prediction band (when the bundle
has one), drawn over the training cohort's mean ± 1 SD band. Contact panels are in % body weight
and start a row of their own; the |F| panel marks the in-vivo peak range
(:data:`gait2hip.predict.contact.IN_VIVO_PEAK_PBW`, OrthoLoad, Bergmann et al. 2016)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import PCT_BW, contact_label, contact_stem, left_sign
from gait2hip.models.bundle import Bundle
from gait2hip.predict.contact import IN_VIVO_CITATION, IN_VIVO_PEAK_PBW, percent_bw
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
PANEL_WIDTH, PANEL_HEIGHT = 3.0, 2.25  # inches


def target_label(target: str) -> str:
    """The readable name of a target column (either side) or summary variable."""
    contact = contact_label(target)
    if contact is not None:
        return contact
    stem = target.removesuffix("_moment")
    stem = stem[:-2] if stem.endswith(("_r", "_l")) else stem
    return TARGET_LABELS.get(stem, target)


@dataclass(frozen=True)
class Panel:
    """One output of one bundle: which column of the curves is drawn, in which unit, scaled how."""

    target: str
    bundle: Bundle
    channel: int
    column: str
    unit_text: str
    scale: float  # bundle per-kg unit → the drawn unit (band); sign flips for external moments
    contact: bool


def _panel(
    target: str, bundle: Bundle, j: int, *, side: str, moment_convention: str, moment_units: str, height_m
) -> Panel:
    from gait2hip.predict.moments import moment_scale, normalised_suffix

    name = output_name(target, side)
    unit = bundle.target_units[j]
    per_kg_unit = unit if unit.endswith("/kg") else unit + "/kg"
    if contact_stem(target) is not None and per_kg_unit == "N/kg":
        # the band is the right hip's; the left hip's z is reported in OpenSim's sense (left_sign)
        sign = left_sign(target) if side == "left" else 1.0
        return Panel(target, bundle, j, name + PCT_BW, "% body weight", float(percent_bw(1.0)) * sign, True)
    if per_kg_unit == "Nm/kg":  # moments: the chosen convention and normalisation
        scale = moment_scale(moment_units, height_m) * (-1.0 if moment_convention == "external" else 1.0)
        text = f"{moment_units} ({moment_convention})"
        return Panel(target, bundle, j, name + normalised_suffix(moment_units), text, scale, False)
    return Panel(target, bundle, j, name + "_per_kg", per_kg_unit, 1.0, False)


def _layout(panels: list[Panel]) -> tuple[int, list[int]]:
    """Columns of the grid and each panel's slot: the contact panels start a new row."""
    n_cols = 5 if len(panels) > 8 else min(4, len(panels))
    slots, slot = [], 0
    for index, panel in enumerate(panels):
        if panel.contact and index and not panels[index - 1].contact and slot % n_cols:
            slot += n_cols - slot % n_cols
        slots.append(slot)
        slot += 1
    return n_cols, slots


def _draw_training_band(ax, panel: Panel) -> None:
    """The training cohort's mean ± 1 SD (the bundle's reference curves), in the panel's unit."""
    reference = panel.bundle.reference
    if "target_mean_curve" not in reference:
        return
    grid = np.linspace(0, 100, panel.bundle.seq_len)
    mean = reference["target_mean_curve"][:, panel.channel].astype(float) * panel.scale
    sd = reference["target_sd_curve"][:, panel.channel].astype(float) * abs(panel.scale)
    if not panel.bundle.target_units[panel.channel].endswith("/kg"):  # no per-kg band without masses
        mean = sd = np.full_like(mean, np.nan)
    ax.fill_between(grid, mean - sd, mean + sd, color="0.85", lw=0, label="training mean ± SD")
    ax.plot(grid, mean, color="0.55", lw=1.0)


def _draw_prediction(ax, curves: pd.DataFrame, panel: Panel) -> None:
    """The predicted curve and its calibrated band (widened when out of distribution)."""
    percent = curves["percent"].to_numpy(dtype=float)
    if panel.column + "_lo" in curves:
        ax.fill_between(
            percent,
            curves[panel.column + "_lo"].to_numpy(dtype=float),
            curves[panel.column + "_hi"].to_numpy(dtype=float),
            color="C3",
            alpha=0.22,
            lw=0,
            label="90 % prediction band",
        )
    ax.plot(percent, curves[panel.column].to_numpy(dtype=float), color="C3", lw=1.8, label="predicted")


def _draw_in_vivo(ax) -> None:
    """The in-vivo peak |F| (mean ± SD) as a blue strip across the cycle, its mean dashed."""
    mean, sd = IN_VIVO_PEAK_PBW
    ax.axhspan(mean - sd, mean + sd, color="C0", alpha=0.18, lw=0)
    ax.axhline(mean, color="C0", lw=1.0, ls="--", label=f"in-vivo peak {mean:.0f} ± {sd:.0f} %BW (OrthoLoad)")


def _contact_in_percent_bw(curves: pd.DataFrame, panels: list[Panel]) -> pd.DataFrame:
    """``curves`` with the % BW columns the contact panels draw, from N/kg where they are missing."""
    missing = [p.column for p in panels if p.contact and p.column not in curves]
    if not missing:
        return curves
    curves = curves.copy()
    for column in missing:
        for key in ("", "_lo", "_hi"):
            source = column.removesuffix(PCT_BW) + "_per_kg" + key
            if source in curves:
                curves[column + key] = percent_bw(curves[source].to_numpy(dtype=float))
    return curves


def _draw_panel(ax, curves: pd.DataFrame, panel: Panel) -> None:
    _draw_training_band(ax, panel)
    if panel.contact and contact_stem(panel.target) == "hip_contact_mag":
        _draw_in_vivo(ax)
    _draw_prediction(ax, curves, panel)
    ax.axhline(0, color="0.7", lw=0.5)
    title = target_label(panel.target)
    ax.set_title(textwrap.fill(title, 34), fontsize=9 if len(title) <= 34 else 8)
    ax.set_xlim(0, 100)
    ax.tick_params(labelsize=7)
    ax.set_ylabel(panel.unit_text, fontsize=7, labelpad=1)


def _legend(fig, axes: list, panels: list[Panel]) -> None:
    """One legend for every kind of line drawn (the in-vivo line is only on the |F| panel)."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.legend(list(seen.values()), list(seen), loc="lower right", fontsize=8, frameon=False)
    if any(p.contact for p in panels):
        fig.text(0.01, 0.035, f"in-vivo reference: {IN_VIVO_CITATION}", fontsize=7, color="C0")


def _title(fig, *, title: str, note: str, level: str, n_cols: int, n_rows: int) -> None:
    """The title lines (coloured by the OOD level), the layout, and for a flagged cycle a frame and stamp."""
    import matplotlib.pyplot as plt

    width = int(PANEL_WIDTH * n_cols * 12)  # characters per title line at fontsize 10 (~12 per inch)
    note = "\n".join(textwrap.fill(line, width) for line in note.split("\n")) if note else note
    colour = {"caution": "darkorange", "unreliable": "red"}.get(level)
    fig.suptitle(title + ("\n" + note if note else ""), fontsize=10, color=colour or "black")
    lines = 1 + (note.count("\n") + 1 if note else 0)
    top = max(0.75, 1.0 - 0.16 * lines / (PANEL_HEIGHT * n_rows))  # ~0.16 inch per title line
    fig.tight_layout(rect=(0, 0.04, 1, top))
    if colour:  # a frame and stamp a reader cannot miss
        fig.patches.append(
            plt.Rectangle(
                (0.003, 0.003), 0.994, 0.994, transform=fig.transFigure, fill=False, lw=4, ec=colour
            )
        )
        fig.text(0.01, 0.008, f"OOD: {level.upper()}", color=colour, fontsize=12, weight="bold")


def draw_cycle(
    curves: pd.DataFrame,
    *,
    bundles: Sequence[Bundle],
    side: str,
    title: str,
    note: str = "",
    level: str = "ok",
    moment_convention: str = "internal",
    moment_units: str = "Nm/kg",
    height_m: float | None = None,
):
    """The matplotlib figure of :func:`plot_cycle` (same arguments but ``out`` and ``dpi``); the caller
    closes it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    options = dict(
        side=side, moment_convention=moment_convention, moment_units=moment_units, height_m=height_m
    )
    panels = [_panel(t, b, j, **options) for b in bundles for j, t in enumerate(b.target_columns)]
    curves = _contact_in_percent_bw(curves, panels)
    n_cols, slots = _layout(panels)
    n_rows = slots[-1] // n_cols + 1
    fig, grid = plt.subplots(
        n_rows, n_cols, figsize=(PANEL_WIDTH * n_cols, PANEL_HEIGHT * n_rows), squeeze=False
    )
    axes = [grid.flat[slot] for slot in slots]
    for ax, panel in zip(axes, panels, strict=True):
        _draw_panel(ax, curves, panel)
    used = set(slots)
    for slot, ax in enumerate(grid.flat):
        if slot not in used:
            ax.axis("off")
        elif slot + n_cols not in used:  # no panel below this one
            ax.set_xlabel("% gait cycle", fontsize=7)
    _legend(fig, axes, panels)
    _title(fig, title=title, note=note, level=level, n_cols=n_cols, n_rows=n_rows)
    return fig


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
    """Save a figure of one cycle's predictions (per kg; contact force in % BW) with the training band.

    Parameters
    ----------
    curves
        One cycle's rows of :attr:`Prediction.curves` (``percent``, ``<target>_per_kg`` and, for the
        contact force, ``<target>_pct_bw``: :func:`gait2hip.predict.contact.with_contact_percent_bw`;
        computed from ``_per_kg`` when absent).
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
    import matplotlib.pyplot as plt

    fig = draw_cycle(
        curves,
        bundles=bundles,
        side=side,
        title=title,
        note=note,
        level=level,
        moment_convention=moment_convention,
        moment_units=moment_units,
        height_m=height_m,
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
