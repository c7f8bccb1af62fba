"""Small synthetic data in the Gait2Hip-60 release schema, for tests.

The real release lives on Zenodo and is not redistributed; tests make their own files with
its exact keys, shapes, column names, dtypes and units (``Gait2Hip_MF60.npz``: Y in N,
14 columns; ``Gait2Hip_JM60.npz``: Y in N m, 3 columns; X in degrees, 10 columns).

The data are NOT biomechanics. Angles are gait-like curves (hip, knee and ankle shapes
of the right order of magnitude, left leg half a cycle behind the right) with per-subject,
per-cadence and per-trial variation. Targets are smooth, deterministic and LEARNABLE:

    force_k(t)  = mass · s_k · softplus(w_k · f(t) + b_k)        (N, ≥ 0)
    moment_j(t) = mass · (u_j · f(t) + 0.3 · tanh(v_j · f(t)))    (N m)

with f(t) = [angles(t)/30°, d angles/dt (per % cycle)·(1/3), 1] and weights drawn once from a
fixed generator, so the mass-normalised targets are an exact function of the angle
sequence (including its rate of change) and a model that learns shows it by a high R².
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gait2hip.data.columns import (
    INPUT_ANGLES,
    MOMENTS_L,
    MOMENTS_R,
    MUSCLE_GROUPS_L,
    MUSCLE_GROUPS_R,
    mirror_angles,
)
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset

MF_FILENAME = "Gait2Hip_MF60.npz"
JM_FILENAME = "Gait2Hip_JM60.npz"
CADENCES = ("slow", "med", "fast")
#: The mapping angles → targets is fixed (independent of the data seed).
_MAPPING_SEED = 20260530


@dataclass
class SyntheticTrials:
    """Arrays of one synthetic cohort in release units (X deg, forces N, moments N m)."""

    X: np.ndarray  # [N, T, 10] deg
    forces: np.ndarray  # [N, T, 14] N
    moments: np.ndarray  # [N, T, 3] N m
    forces_left: np.ndarray  # [N, T, 14] N, the same mapping applied to the mirrored angles
    moments_left: np.ndarray  # [N, T, 3] N m
    subject_id: np.ndarray  # [N] str
    height_m: np.ndarray
    weight_kg: np.ndarray
    speed_label: np.ndarray  # [N] str


def _bump(p: np.ndarray, centre: float, width: float) -> np.ndarray:
    # periodic Gaussian so the cycle closes smoothly
    d = (p - centre + 0.5) % 1.0 - 0.5
    return np.exp(-((d / width) ** 2))


def _angle_curves(p: np.ndarray, rng: np.random.Generator, gain: float, style: np.ndarray) -> np.ndarray:
    """One leg's 5 angles [T, 5] (hip flex, hip add, hip rot, knee, ankle), degrees."""
    two_pi = 2 * np.pi
    hip_flexion = (12 + style[0]) + 22 * gain * np.cos(two_pi * p) + 3 * np.cos(2 * two_pi * p + style[1])
    hip_adduction = style[2] + 4 * gain * np.sin(two_pi * p + 0.3) + 1.5 * np.sin(2 * two_pi * p)
    hip_rotation = (-3 + style[3]) + 4 * np.sin(two_pi * p + 1.0)
    knee = 4 + style[4] + 15 * gain * _bump(p, 0.15, 0.08) + 57 * gain * _bump(p, 0.72, 0.12)
    ankle = style[5] + 9 * _bump(p, 0.45, 0.13) - 16 * gain * _bump(p, 0.66, 0.06) + 3 * _bump(p, 0.9, 0.1)
    curves = np.stack([hip_flexion, hip_adduction, hip_rotation, knee, ankle], axis=-1)
    # smooth trial-to-trial variation: a few low-frequency harmonics per angle
    for k in (1, 2):
        curves += rng.normal(0, 0.8, size=5) * np.sin(
            k * two_pi * p[:, None] + rng.uniform(0, two_pi, size=5)
        )
    return curves


def _features(X: np.ndarray) -> np.ndarray:
    """[N, T, 10] degrees → [N, T, 21] features (angles, rates, bias)."""
    rate = np.gradient(X, axis=1) * (X.shape[1] / 100.0)  # deg per % of cycle
    bias = np.ones((*X.shape[:2], 1))
    return np.concatenate([X / 30.0, rate / 3.0, bias], axis=-1)


def _mapping(n_features: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(_MAPPING_SEED)
    n_f, n_m = len(MUSCLE_GROUPS_R), len(MOMENTS_R)
    return dict(
        w=rng.normal(0, 0.6, size=(n_features, n_f)),
        b=rng.normal(-0.5, 0.5, size=n_f),
        s=rng.uniform(0.3, 4.0, size=n_f),  # N/kg scale per muscle group
        u=rng.normal(0, 0.25, size=(n_features, n_m)),
        v=rng.normal(0, 0.8, size=(n_features, n_m)),
    )


def synthetic_trials(
    *, n_subjects: int = 10, trials_per_cadence: int = 2, n_timepoints: int = 180, seed: int = 0
) -> SyntheticTrials:
    """Generate a synthetic cohort's arrays (see the module docstring for the model)."""
    if n_subjects < 1 or trials_per_cadence < 1 or n_timepoints < 8:
        raise ValueError("need at least 1 subject, 1 trial per cadence and 8 time points")
    rng = np.random.default_rng(seed)
    p = np.linspace(0.0, 1.0, n_timepoints)
    X, subject_id, height, weight, speed = [], [], [], [], []
    gains = {"slow": 0.85, "med": 1.0, "fast": 1.12}
    for s in range(n_subjects):
        sid = f"H{s + 1:02d}"
        h = float(np.clip(rng.normal(1.70, 0.08), 1.50, 1.95))
        m = float(np.clip(22.5 * h**2 + rng.normal(0, 8), 45, 110))
        style = rng.normal(0, 2.0, size=(2, 6))
        for cadence in CADENCES:
            for _ in range(trials_per_cadence):
                gain = gains[cadence] * rng.uniform(0.95, 1.05)
                right = _angle_curves(p, rng, gain, style[0])
                left = _angle_curves((p + 0.5) % 1.0, rng, gain, style[1])
                # release order: hip r (3), hip l (3), knee r, ankle r, knee l, ankle l
                X.append(np.concatenate([right[:, :3], left[:, :3], right[:, 3:4], right[:, 4:5],
                                         left[:, 3:4], left[:, 4:5]], axis=1))  # fmt: skip
                subject_id.append(sid)
                height.append(round(h, 3))
                weight.append(round(m, 1))
                speed.append(cadence)
    X = np.stack(X)
    f = _features(X)
    k = _mapping(f.shape[-1])
    mass = np.asarray(weight)[:, None, None]
    forces = mass * k["s"] * np.logaddexp(0.0, f @ k["w"] + k["b"])
    moments = mass * (f @ k["u"] + 0.3 * np.tanh(f @ k["v"]))
    # Left hip: the same function of the angles seen from the left leg (left <-> right swapped),
    # so a mirrored left cycle is exactly as learnable as a right one.
    swap = [INPUT_ANGLES.index(c) for c in mirror_angles(INPUT_ANGLES)]
    f_left = _features(X[:, :, swap])
    forces_left = mass * k["s"] * np.logaddexp(0.0, f_left @ k["w"] + k["b"])
    moments_left = mass * (f_left @ k["u"] + 0.3 * np.tanh(f_left @ k["v"]))
    return SyntheticTrials(
        X=X.astype(np.float32),
        forces=forces.astype(np.float32),
        moments=moments.astype(np.float32),
        forces_left=forces_left.astype(np.float32),
        moments_left=moments_left.astype(np.float32),
        subject_id=np.array(subject_id),
        height_m=np.array(height, dtype=np.float64),
        weight_kg=np.array(weight, dtype=np.float64),
        speed_label=np.array(speed),
    )


def write_synthetic_release(
    folder: str | Path,
    *,
    n_subjects: int = 10,
    trials_per_cadence: int = 2,
    n_timepoints: int = 180,
    seed: int = 0,
    object_strings: bool = False,
) -> tuple[Path, Path]:
    """Write ``Gait2Hip_MF60.npz`` and ``Gait2Hip_JM60.npz`` with the release's exact schema.

    Parameters
    ----------
    folder
        Output folder (created).
    n_subjects, trials_per_cadence, n_timepoints, seed
        Size and randomness; N = n_subjects · 3 cadences · trials_per_cadence.
    object_strings
        Store the string arrays as numpy ``object`` arrays (which need ``allow_pickle`` to
        read), as some NPZ writers do; the default stores fixed-width unicode.

    Returns
    -------
    (mf_path, jm_path)
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trials = synthetic_trials(
        n_subjects=n_subjects, trials_per_cadence=trials_per_cadence, n_timepoints=n_timepoints, seed=seed
    )

    def strings(values) -> np.ndarray:
        return np.array(list(values), dtype=object if object_strings else str)

    common = dict(
        X=trials.X,
        subject_id=strings(trials.subject_id),
        height_m=trials.height_m,
        weight_kg=trials.weight_kg,
        speed_label=strings(trials.speed_label),
        in_cols=strings(INPUT_ANGLES),
    )
    mf_path, jm_path = folder / MF_FILENAME, folder / JM_FILENAME
    np.savez_compressed(mf_path, Y=trials.forces, out_cols=strings(MUSCLE_GROUPS_R), **common)
    np.savez_compressed(jm_path, Y=trials.moments, out_cols=strings(MOMENTS_R), **common)
    return mf_path, jm_path


def synthetic_dataset(
    *,
    n_subjects: int = 10,
    trials_per_cadence: int = 2,
    n_timepoints: int = 101,
    seed: int = 0,
    hips: Literal["right", "both"] = "right",
) -> GaitDataset:
    """The same synthetic cohort as a :class:`GaitDataset` (forces N, moments N m).

    ``hips='right'``: 17 targets (``MUSCLE_GROUPS_R + MOMENTS_R``); ``'both'``: 34, adding
    the left hip (``MUSCLE_GROUPS_L + MOMENTS_L``) in the simulated cohort's layout, where
    each left target is the right target's function applied to the left↔right-swapped angles.
    Marked ``attrs['simulated'] = True`` and ``attrs['synthetic'] = True``: for tests only.
    """
    trials = synthetic_trials(
        n_subjects=n_subjects, trials_per_cadence=trials_per_cadence, n_timepoints=n_timepoints, seed=seed
    )
    n = len(trials.X)
    meta = pd.DataFrame(
        dict(
            subject_id=trials.subject_id,
            cohort="synthetic",
            cadence_label=trials.speed_label,
            cadence_spm=[CADENCE_SPM[c] for c in trials.speed_label],
            trial_id=[
                f"{s}_{c}_{i}"
                for i, (s, c) in enumerate(zip(trials.subject_id, trials.speed_label, strict=True))
            ],
            side="right",
            mass_kg=trials.weight_kg,
            height_m=trials.height_m,
            source="synthetic",
            stride_time_s=[120.0 / CADENCE_SPM[c] for c in trials.speed_label],
        )
    )
    assert len(meta) == n
    if hips not in ("right", "both"):
        raise ValueError(f"hips must be 'right' or 'both', not {hips!r}")
    parts = [trials.forces, trials.moments]
    columns = MUSCLE_GROUPS_R + MOMENTS_R
    units = ("N",) * len(MUSCLE_GROUPS_R) + ("Nm",) * len(MOMENTS_R)
    if hips == "both":
        parts += [trials.forces_left, trials.moments_left]
        columns += MUSCLE_GROUPS_L + MOMENTS_L
        units *= 2
    return GaitDataset(
        X=trials.X,
        Y=np.concatenate(parts, axis=-1),
        input_columns=INPUT_ANGLES,
        target_columns=columns,
        input_units=("deg",) * len(INPUT_ANGLES),
        target_units=units,
        meta=meta,
        attrs=dict(name="synthetic", simulated=True, synthetic=True, seed=seed),
    )
