"""A lab's labelled cycles for fine-tuning: reading them, and refusing what cannot support it.

:func:`load_lab_data` reads 'fukuchi2018', a gait2hip NPZ or a lab folder (``gait2hip label``);
:func:`lab_arrays` turns a dataset into a bundle's inputs (degrees) and per-kg targets, or refuses
(:class:`~gait2hip.errors.Gait2HipInputError`) with one clear message: an input angle missing,
cycles of another length, none of the bundle's targets, raw N / N·m without body mass, radians
labelled as degrees, or target values whose size is not that of the parent's training targets.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import Bundle

#: A lab target's RMS (per kg) must lie within this factor of the parent's training targets'.
UNIT_RATIO_LIMIT = 5.0


# ---------------------------------------------------------------------- lab data
def load_lab_data(spec: str | Path, *, on_progress: Any = None) -> GaitDataset:
    """Labelled cycles for :func:`finetune`: 'fukuchi2018', a gait2hip NPZ, or a lab folder.

    A lab folder (``manifest.csv``, e.g. the output of ``gait2hip label``) gives its right-leg
    cycles with the right hip's targets and its left-leg cycles mirrored into the right-leg frame
    (angle columns swapped left↔right, left-hip targets under the right names), as the Predictor
    feeds a left cycle.
    """
    from gait2hip.data import load_dataset
    from gait2hip.data.columns import (
        CONTACT_R,
        MOMENTS_R,
        MUSCLE_GROUPS_R,
        left_sign,
        mirror_angles,
        to_left,
    )

    path = Path(str(spec))
    if not (path.is_dir() and (path / "manifest.csv").is_file()):
        return load_dataset(spec)
    right = load_dataset(path, side="right", on_progress=on_progress)
    try:
        left = load_dataset(path, side="left")
    except Gait2HipInputError:  # no left cycle found: the right ones alone
        return right
    to_right = {to_left(c): c for c in MUSCLE_GROUPS_R + MOMENTS_R + CONTACT_R}
    keep = [c for c in left.target_columns if c in to_right]
    left = left.select_targets(keep)
    swapped = left.select_inputs(mirror_angles(INPUT_ANGLES))
    mirrored = GaitDataset(
        X=swapped.X,
        # the contact force's z turns to the right hip's (lateral) sense, as in mirrored training
        Y=left.Y * np.array([left_sign(c) for c in keep], dtype=left.Y.dtype),
        input_columns=INPUT_ANGLES,
        target_columns=tuple(to_right[c] for c in keep),
        input_units=swapped.input_units,
        target_units=left.target_units,
        meta=left.meta,
        attrs=dict(left.attrs),
    )
    common = [c for c in right.target_columns if c in mirrored.target_columns]
    return GaitDataset.concat([right.select_targets(common), mirrored.select_targets(common)])


# ---------------------------------------------------------------------- data checks
def lab_arrays(bundle: Bundle, dataset: GaitDataset) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The lab's inputs [N, T, D_in] (degrees) and per-kg targets [N, T, D_out] in the bundle's
    column order (NaN where the lab has no label), and the bundle targets it has; or a clear refusal."""
    source = dataset.attrs.get("path") or dataset.attrs.get("name")
    if bad := [c for c in bundle.input_columns if c not in INPUT_ANGLES]:
        raise Gait2HipInputError(
            f"bundle {bundle.name} takes inputs other than the 10 angles ({', '.join(bad)}); "
            "fine-tuning supports angle-only bundles.",
            file=bundle.path,
        )
    if missing := [c for c in bundle.input_columns if c not in dataset.input_columns]:
        raise Gait2HipInputError(
            f"the lab data lacks input angle(s) {', '.join(missing)}.",
            file=source,
            column=missing[0],
            fix="give all 10 angles (IK coordinates) for every cycle.",
        )
    if dataset.n_timepoints != bundle.seq_len:
        raise Gait2HipInputError(
            f"cycles have {dataset.n_timepoints} points; the bundle expects {bundle.seq_len}.",
            file=source,
            fix=f"resample the cycles to {bundle.seq_len} points (0–100 %).",
        )
    present = tuple(c for c in bundle.target_columns if c in dataset.target_columns)
    if not present:
        raise Gait2HipInputError(
            f"the lab data has none of bundle {bundle.name}'s targets ({', '.join(bundle.target_columns)}).",
            file=source,
            column=bundle.target_columns[0],
            fix="label the trials (gait2hip label) or fine-tune the bundle whose targets the lab has "
            "(moments-only data: the moments bundle).",
        )
    data = dataset.select_targets(present)
    if not data.mass_normalized:
        masses = data.meta["mass_kg"].to_numpy(dtype=float)
        if not np.isfinite(masses).all():
            raise Gait2HipInputError(
                f"targets are in {'/'.join(sorted(set(data.target_units)))} but body mass is missing.",
                file=source,
                column="mass_kg",
                fix="give every subject's mass (kg), or targets already per kg (N/kg, Nm/kg).",
            )
        data = data.normalized_by_mass()
    X = dataset.inputs_in_degrees().select_inputs(bundle.input_columns).X.astype(np.float32)
    flexion = (
        X[:, :, bundle.input_columns.index("hip_flexion_r")] if "hip_flexion_r" in bundle.input_columns else X
    )
    if np.nanmedian(np.ptp(flexion, axis=1)) < 5.0:
        raise Gait2HipInputError(
            "the hip flexion angle moves less than 5° over a median cycle: radians labelled as degrees?",
            file=source,
            column="hip_flexion_r",
            fix="give the angles in degrees (or mark their unit as 'rad').",
        )
    Y = np.full((len(data), bundle.seq_len, len(bundle.target_columns)), np.nan, dtype=np.float32)
    for column in present:
        Y[:, :, bundle.target_columns.index(column)] = data.Y[:, :, data.target_columns.index(column)]
    _check_sizes(bundle, Y, present, source)
    return X, Y, present


def _check_sizes(bundle: Bundle, Y: np.ndarray, present: tuple[str, ...], source: Any) -> None:
    """Refuse targets whose size is not the parent's training targets' (a unit mix-up).

    Checked per unit (all the lab's N/kg columns together, all its Nm/kg columns together): a unit
    mix-up scales every column of a unit alike (×9.81, ×mass, ×1000), while one muscle group of
    another musculoskeletal model may legitimately be 5× smaller or larger than the parent's."""
    reference = bundle.reference
    if "target_mean_curve" not in reference:
        return
    for unit in dict.fromkeys(bundle.target_units[bundle.target_columns.index(c)] for c in present):
        columns = [c for c in present if bundle.target_units[bundle.target_columns.index(c)] == unit]
        index = [bundle.target_columns.index(c) for c in columns]
        mean, sd = reference["target_mean_curve"][:, index], reference["target_sd_curve"][:, index]
        expected = math.sqrt(float(np.mean(mean**2 + sd**2)))
        got = math.sqrt(float(np.nanmean(Y[:, :, index] ** 2)))
        ratio = got / max(expected, 1e-9)
        if not (1.0 / UNIT_RATIO_LIMIT <= ratio <= UNIT_RATIO_LIMIT):
            raise Gait2HipInputError(
                f"the lab's {unit} targets ({', '.join(columns[:3])}{', …' if len(columns) > 3 else ''}) "
                f"have an RMS of {got:.3g} {unit}, {ratio:.2g}× the parent's training targets "
                f"({expected:.3g}): wrong units?",
                file=source,
                column=columns[0],
                fix=f"give {unit} (e.g. N·m/kg, not N·m or N·mm/kg) with OpenSim signs.",
            )
