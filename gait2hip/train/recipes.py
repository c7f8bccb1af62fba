"""Training recipes: the Gait2Hip-60 paper's, gait2hip's, and the data preparation they imply.

A :class:`Recipe` is a set of flags; every departure of gait2hip's recipe from the paper's is
one flag, so the benchmark's ablation table can switch each off in turn and show what it buys.

============================  =========  ========  ==========================================
flag                          paper      gait2hip  what it does
============================  =========  ========  ==========================================
``standardize_targets``       no         yes       z-score every target channel (train stats)
                                                   so large muscles do not dominate the MSE
``joint_targets``             no         yes       one model predicts 14 forces + 3 moments
``mirror``                    no         yes       add the left hip as extra training cycles
                                                   (angles swapped left↔right, phase-aligned)
``subject_inputs``            no         yes       stride time, body mass, height as inputs
``bidirectional``             no         yes       LSTM / Mamba read the cycle both ways
``lr`` / ``schedule``         1e-4 flat  1e-3 cos  higher peak LR, warm-up + cosine decay
``epoch_selection``           cv         fixed     paper: GroupKFold early stopping → median
                                                   best epoch → retrain; ours: a fixed budget
                                                   with cosine decay to 0 (no test data used)
``nonnegative_forces``        no         (real)    muscle forces ≥ 0 by a softplus inside the
                                                   model, in N/kg (models.constraints)
``angle_augment``             no         (real)    random per-angle offsets and amplitudes
                                                   sized from between-lab differences
``offset_free``               no         (real)    the network sees de-meaned angles + the
                                                   cycle means as separate inputs
``time_warp``                 no         (real)    smooth re-timing of inputs and targets
``domain_balanced``           no         (real)    each source (simulated, real lab) fills an
                                                   equal share of every batch
``mean_curve_prior``          no         (real)    the model adds the training targets' mean
                                                   curve (each source weighted equally) to its
                                                   output: it starts AT the mean curve
``batch_size``                64         64        cycles per mini-batch
============================  =========  ========  ==========================================

The last five flags are the domain-robustness and physical-plausibility options of the
cross-lab experiment (:mod:`gait2hip.bench.crosslab`); "(real)" marks the ones the default
bundles trained on simulated + real data use when that experiment keeps them. With
``joint_targets`` and a dataset that has hip contact forces (cohort 2.0), the joint model also
predicts the ``contact`` group (:data:`gait2hip.data.columns.CONTACT_R`).

Mirroring and sign conventions: in OpenSim's gait models the left hip's coordinate axes are
mirrored, so ``hip_adduction_l`` / ``hip_rotation_l`` and their moments are positive in the
same anatomical direction as the right side; the left hip's variables therefore map onto the
right-named columns without sign changes. A default-dataset cycle runs from RIGHT heel strike
to right heel strike, so the left leg's cycle starts part-way through it; each mirrored cycle
is rotated (circularly, over the periodic 0–99 % samples) by the phase lag that best aligns
the left leg's sagittal angles with the right leg's, which puts it at left heel strike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from gait2hip.data.columns import (
    CONTACT_R,
    INPUT_ANGLES,
    MOMENTS_R,
    MUSCLE_GROUPS_R,
    left_sign,
    mirror_angles,
    to_left,
)
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset
from gait2hip.errors import Gait2HipInputError

#: Target sets the benchmark knows, by name ('contact': the right-hip contact force, datasets
#: labelled since cohort 2.0).
TARGETS: dict[str, tuple[str, ...]] = {"forces": MUSCLE_GROUPS_R, "moments": MOMENTS_R, "contact": CONTACT_R}
#: Extra per-cycle inputs of ``subject_inputs`` (constant over the cycle) and their units.
SUBJECT_INPUTS: tuple[tuple[str, str], ...] = (("stride_time_s", "s"), ("mass_kg", "kg"), ("height_m", "m"))
#: Sagittal angles used to estimate the left leg's phase lag.
_PHASE_CHANNELS = (
    ("hip_flexion_r", "hip_flexion_l"),
    ("knee_angle_r", "knee_angle_l"),
    ("ankle_angle_r", "ankle_angle_l"),
)


@dataclass(frozen=True)
class Recipe:
    """How a model is trained. See the module docstring for what each flag means."""

    name: str
    standardize_targets: bool = False
    joint_targets: bool = False
    mirror: bool = False
    subject_inputs: bool = False
    bidirectional: bool = False
    lr: float = 1e-4
    schedule: str = "constant"
    warmup_fraction: float = 0.0
    epoch_selection: str = "cv"
    nonnegative_forces: bool = False
    angle_augment: bool = False
    offset_free: bool = False
    time_warp: bool = False
    domain_balanced: bool = False
    mean_curve_prior: bool = False
    batch_size: int = 64

    def __post_init__(self) -> None:
        if self.epoch_selection not in ("cv", "fixed"):
            raise ValueError(f"epoch_selection must be 'cv' or 'fixed', got {self.epoch_selection!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def without(self, flag: str) -> Recipe:
        """This recipe with one of :data:`ABLATION_FLAGS` reverted to the paper's choice."""
        if flag not in ABLATION_FLAGS:
            raise ValueError(f"unknown ablation flag {flag!r}; choose from {list(ABLATION_FLAGS)}")
        changes = {name: getattr(PAPER_RECIPE, name) for name in ABLATION_FLAGS[flag]}
        return replace(self, name=f"{self.name} − {flag}", **changes)


PAPER_RECIPE = Recipe(name="paper")
GAIT2HIP_RECIPE = Recipe(
    name="gait2hip",
    standardize_targets=True,
    joint_targets=True,
    mirror=True,
    subject_inputs=True,
    bidirectional=True,
    lr=1e-3,
    schedule="cosine",
    warmup_fraction=0.05,
    epoch_selection="fixed",
)

#: Ablation flag → the recipe fields it reverts to the paper's values.
ABLATION_FLAGS: dict[str, tuple[str, ...]] = {
    "standardize_targets": ("standardize_targets",),
    "joint_targets": ("joint_targets",),
    "mirror": ("mirror",),
    "subject_inputs": ("subject_inputs",),
    "bidirectional": ("bidirectional",),
    "lr_schedule": ("lr", "schedule", "warmup_fraction"),
    "nonnegative_forces": ("nonnegative_forces",),
    "angle_augment": ("angle_augment",),
    "offset_free": ("offset_free",),
    "time_warp": ("time_warp",),
    "domain_balanced": ("domain_balanced",),
    "mean_curve_prior": ("mean_curve_prior",),
}
#: The domain-robustness flags (cross-lab ablation), in the order the experiment adds them.
ROBUSTNESS_FLAGS: tuple[str, ...] = ("angle_augment", "offset_free", "time_warp", "domain_balanced")

RECIPE_FIELDS = tuple(f.name for f in fields(Recipe))


def recipe_targets(
    recipe: Recipe, target: str, *, available: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """Target columns one model of ``recipe`` learns for the benchmark target ``target``.

    A joint model learns forces and moments, plus the right-hip contact force when
    ``available`` (the dataset's target columns) has all of :data:`CONTACT_R`.
    """
    if target not in TARGETS:
        raise Gait2HipInputError(f"unknown target {target!r}.", fix=f"use one of {', '.join(TARGETS)}.")
    if recipe.joint_targets:
        contact = CONTACT_R if available is not None and all(c in available for c in CONTACT_R) else ()
        return MUSCLE_GROUPS_R + MOMENTS_R + contact
    return TARGETS[target]


#: Targets that are physically ≥ 0: muscle forces and the contact-force magnitude.
NONNEGATIVE_TARGETS: tuple[str, ...] = (*MUSCLE_GROUPS_R, "hip_r_contact_mag")


def model_overrides(recipe: Recipe, architecture: str) -> dict:
    """Architecture hyper-parameters a recipe changes (bidirectional variants, offset-free inputs)."""
    overrides: dict = {}
    if recipe.bidirectional and architecture in ("lstm", "mamba"):
        overrides["bidirectional"] = True
    if recipe.offset_free:
        overrides["offset_free"] = True
    return overrides


def output_overrides(recipe: Recipe, targets: tuple[str, ...], *, mean, scale, prior=None) -> dict:
    """Model options of a recipe's outputs (:mod:`gait2hip.models.constraints`): force outputs ≥ 0
    (``nonnegative_forces``, given the run's target normalisation ``mean`` / ``scale``) and the
    mean-curve start (``mean_curve_prior``: ``prior`` [T, C] in standardised units)."""
    overrides: dict = {}
    if recipe.mean_curve_prior and prior is not None:
        overrides["output_prior"] = tuple(tuple(float(v) for v in row) for row in np.asarray(prior))
    channels = tuple(j for j, c in enumerate(targets) if c in NONNEGATIVE_TARGETS)
    if recipe.nonnegative_forces and channels:
        overrides.update(
            nonnegative=channels,
            output_mean=tuple(float(v) for v in mean),
            output_scale=tuple(float(v) for v in scale),
        )
    return overrides


def mean_curve(Y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The mean target curve [T, C] over cycles, over labelled (finite) entries only; ``weights``
    per cycle (e.g. each source equally). A channel never labelled at a time point gets 0."""
    Y = np.asarray(Y, dtype=np.float64)
    w = np.ones(len(Y)) if weights is None else np.asarray(weights, dtype=np.float64)
    labelled = np.isfinite(Y)
    total = np.where(labelled, Y, 0.0) * w[:, None, None]
    count = labelled * w[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        curve = total.sum(axis=0) / count.sum(axis=0)
    return np.nan_to_num(curve, nan=0.0)


def per_kg(dataset: GaitDataset) -> GaitDataset:
    """Targets in N/kg and Nm/kg (the unit the models are trained and scored in)."""
    return dataset if dataset.mass_normalized else dataset.normalized_by_mass()


def stride_times(dataset: GaitDataset) -> np.ndarray:
    """Stride time of every cycle in s; from the cadence (120 / steps·min⁻¹) where it is missing."""
    meta = dataset.meta
    stride = meta["stride_time_s"].to_numpy(dtype=float).copy()
    cadence = meta["cadence_spm"].to_numpy(dtype=float)
    labelled = meta["cadence_label"].map(CADENCE_SPM).to_numpy(dtype=float)
    cadence = np.where(np.isfinite(cadence), cadence, labelled)
    stride = np.where(np.isfinite(stride), stride, 120.0 / cadence)
    return stride


def input_features(
    dataset: GaitDataset, *, recipe: Recipe
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """Model inputs of ``dataset`` under ``recipe``: the 10 angles in degrees (+ subject inputs).

    Returns
    -------
    X, columns, units
        X [N, T, 10 or 13] float32, the column names and their units.
    """
    angles = dataset.inputs_in_degrees().select_inputs(INPUT_ANGLES)
    X = angles.X
    columns, units = INPUT_ANGLES, tuple("deg" for _ in INPUT_ANGLES)
    if recipe.subject_inputs:
        meta = dataset.meta
        extra = np.stack(
            [stride_times(dataset), meta["mass_kg"].to_numpy(float), meta["height_m"].to_numpy(float)], axis=1
        )
        bad = ~np.isfinite(extra)
        if bad.any():
            column = SUBJECT_INPUTS[int(np.argwhere(bad)[0, 1])][0]
            raise Gait2HipInputError(
                f"{int(bad.any(axis=1).sum())} cycle(s) have no {column}, which this recipe uses as "
                "an input.",
                file=dataset.attrs.get("path"),
                column=column,
                fix="fill it in the metadata, or train without subject inputs (--protocol paper).",
            )
        X = np.concatenate([X, np.repeat(extra[:, None, :], X.shape[1], axis=1).astype(np.float32)], axis=2)
        columns = columns + tuple(name for name, _ in SUBJECT_INPUTS)
        units = units + tuple(unit for _, unit in SUBJECT_INPUTS)
    return X.astype(np.float32), columns, units


def has_left_targets(dataset: GaitDataset, targets: tuple[str, ...]) -> bool:
    """True when every target has its left-hip twin in ``dataset``."""
    return all(to_left(c) in dataset.target_columns for c in targets)


def left_phase_lag(dataset: GaitDataset) -> np.ndarray:
    """Samples by which the left leg's cycle lags the right one, per cycle (≈ T/2 in symmetric gait).

    Circular cross-correlation over the periodic samples (the last sample of a 0–100 % cycle
    repeats the first): the lag maximising the summed correlation of the left hip, knee and
    ankle sagittal angles with the right ones.
    """
    angles = dataset.inputs_in_degrees()
    period = dataset.n_timepoints - 1
    total = np.zeros((len(dataset), period))
    for right, left in _PHASE_CHANNELS:
        r = angles.X[:, :period, angles.input_columns.index(right)].astype(np.float64)
        s = angles.X[:, :period, angles.input_columns.index(left)].astype(np.float64)
        r = r - r.mean(axis=1, keepdims=True)
        s = s - s.mean(axis=1, keepdims=True)
        # correlation[k] = Σ_t r[t] · s[t + k]
        total += np.real(np.fft.ifft(np.conj(np.fft.fft(r, axis=1)) * np.fft.fft(s, axis=1), axis=1))
    return np.argmax(total, axis=1)


def mirrored(dataset: GaitDataset, targets: tuple[str, ...]) -> GaitDataset:
    """The left hip as right-named cycles: angles swapped left↔right, left targets, phase-aligned.

    Only the 10 angles and ``targets`` are kept. See the module docstring for the sign
    conventions and the phase alignment.
    """
    if not has_left_targets(dataset, targets):
        raise Gait2HipInputError(
            "mirroring needs the left-hip twin of every target column.",
            file=dataset.attrs.get("path"),
            column=to_left(targets[0]),
            fix="use a dataset with both hips (the default does) or turn mirroring off.",
        )
    source = dataset.inputs_in_degrees()
    X = source.select_inputs(mirror_angles(INPUT_ANGLES)).X
    # the left hip's contact z is medial where the right hip's is lateral: flip it to the right's sense
    Y = source.select_targets([to_left(c) for c in targets]).Y
    Y = Y * np.array([left_sign(c) for c in targets], dtype=Y.dtype)
    lag = left_phase_lag(dataset)
    period = dataset.n_timepoints - 1
    idx = (np.arange(period)[None, :] + lag[:, None]) % period
    idx = np.concatenate([idx, idx[:, :1]], axis=1)  # close the cycle: 100 % = 0 % of the next
    X = np.take_along_axis(X, idx[:, :, None], axis=1)
    Y = np.take_along_axis(Y, idx[:, :, None], axis=1)
    meta = dataset.meta.copy()
    meta["side"] = "left"
    meta["trial_id"] = meta["trial_id"].astype(str) + ":mirrored"
    target_units = source.select_targets([to_left(c) for c in targets]).target_units
    return GaitDataset(
        X=X,
        Y=Y,
        input_columns=INPUT_ANGLES,
        target_columns=targets,
        input_units=tuple("deg" for _ in INPUT_ANGLES),
        target_units=target_units,
        meta=meta,
        attrs=dict(dataset.attrs),
    )


def training_set(dataset: GaitDataset, *, recipe: Recipe, targets: tuple[str, ...]) -> GaitDataset:
    """The cycles a model of ``recipe`` trains on: the right hip, plus the mirrored left hip."""
    right = dataset.inputs_in_degrees().select_inputs(INPUT_ANGLES).select_targets(targets)
    if not recipe.mirror:
        return right
    if not has_left_targets(dataset, targets):
        return right
    left = mirrored(dataset, targets)
    # in a mixed dataset (gait2hip.data.mixing) a source without left-hip labels (NaN) adds nothing
    labelled = np.isfinite(left.Y).any(axis=(1, 2))
    return GaitDataset.concat([right, left.take(labelled).select_targets(targets)])


def left_targets_available(dataset: GaitDataset) -> bool:
    """Whether ``mirror`` can do anything on this dataset."""
    return has_left_targets(dataset, MUSCLE_GROUPS_R) or has_left_targets(dataset, MOMENTS_R)


def subject_inputs_available(dataset: GaitDataset) -> bool:
    """Whether ``subject_inputs`` can be fed: body mass, height and a stride time for every cycle
    (fukuchi2018, for one, has none of them)."""
    meta = dataset.meta
    mass = meta["mass_kg"].to_numpy(float)
    height = meta["height_m"].to_numpy(float)
    return bool(
        np.isfinite(mass).all() and np.isfinite(height).all() and np.isfinite(stride_times(dataset)).all()
    )
