"""`GaitDataset`: the one in-memory form every dataset takes in gait2hip.

X [N, T, D_in] joint angles, Y [N, T, D_out] hip forces / moments, the column names, the
unit of every column, and one metadata row per sample. Units travel with the data, so a
body-mass normalisation is recorded and can never be applied twice.

The NPZ file layout (``save`` / ``load``, a superset of the Gait2Hip-60 release keys) is
documented in :mod:`gait2hip.data.dataset_npz`.

Target groups (:data:`TARGET_GROUPS`, found by column name in ``out_cols``): ``forces`` (the
14 muscle groups per hip, N), ``moments`` (3 per hip, N m) and, in datasets labelled since
the contact force was added, ``contact`` (hip joint contact force per hip, N:
``hip_r_contact_mag`` = |F|, ``hip_r_contact_{x,y,z}`` in the femur frame,
``hip_r_contact_pelvis_{x,y,z}`` in the pelvis frame, the same with ``hip_l_``; see
:data:`gait2hip.data.columns.CONTACT_R`). Stored in N like the muscle forces;
:meth:`GaitDataset.contact_in_percent_bw` gives % body weight (unit ``'%BW'``). Files without
contact columns load as before; :meth:`GaitDataset.target_group` returns an empty tuple.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import CONTACT_COLUMNS, MOMENTS_L, MOMENTS_R, MUSCLE_GROUPS_L, MUSCLE_GROUPS_R
from gait2hip.errors import Gait2HipInputError

#: Release cadence labels → metronome cadence in steps/min.
CADENCE_SPM: dict[str, float] = {"slow": 78.0, "med": 115.0, "fast": 135.0}

#: Metadata columns, one row per sample, and their dtypes.
META_COLUMNS: dict[str, str] = {
    "subject_id": "str",
    "cohort": "str",
    "cadence_label": "str",
    "cadence_spm": "float",
    "trial_id": "str",
    "side": "str",
    "mass_kg": "float",
    "height_m": "float",
    "source": "str",
    "stride_time_s": "float",
}

ANGLE_UNITS = ("deg", "rad")
#: Raw unit → its body-mass-normalised counterpart.
MASS_NORMALISED: dict[str, str] = {"N": "N/kg", "Nm": "Nm/kg"}
TARGET_UNITS = ("N", "N/kg", "Nm", "Nm/kg", "%BW")
#: Standard gravity used for % body weight (N / (m · g) × 100).
GRAVITY = 9.81
#: Target groups → their column names (both hips); a dataset holds any subset.
TARGET_GROUPS: dict[str, tuple[str, ...]] = {
    "forces": MUSCLE_GROUPS_R + MUSCLE_GROUPS_L,
    "moments": MOMENTS_R + MOMENTS_L,
    "contact": CONTACT_COLUMNS,
}


def _meta_frame(meta: pd.DataFrame | dict, n: int, *, file: str | None) -> pd.DataFrame:
    frame = pd.DataFrame(meta).reset_index(drop=True)
    if len(frame) != n:
        raise Gait2HipInputError(
            f"metadata has {len(frame)} rows but there are {n} samples.",
            file=file,
            fix="give one metadata row per sample.",
        )
    for column, kind in META_COLUMNS.items():
        if column not in frame:
            if column in ("subject_id", "mass_kg"):
                raise Gait2HipInputError(
                    "required metadata is missing.",
                    file=file,
                    column=column,
                    fix=f"provide '{column}' for every sample.",
                )
            frame[column] = np.nan if kind == "float" else ""
        if kind == "float":
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        else:
            frame[column] = frame[column].fillna("").astype(str)
    return frame[list(META_COLUMNS) + [c for c in frame.columns if c not in META_COLUMNS]]


@dataclass
class GaitDataset:
    """Gait cycles with their inputs, targets, units and metadata.

    Parameters
    ----------
    X
        Input angles, shape [N, T, D_in].
    Y
        Targets, shape [N, T, D_out].
    input_columns, target_columns
        Column names, in order.
    input_units, target_units
        One unit per column: inputs 'deg' or 'rad'; targets 'N', 'N/kg', 'Nm' or 'Nm/kg'.
    meta
        One row per sample with (at least) ``subject_id`` and ``mass_kg``; the other
        ``META_COLUMNS`` are filled with blanks when absent. ``mass_kg`` must be > 0; it may
        be NaN (unknown) only when every target is already per kg (e.g. published per-kg
        moments), and then :meth:`denormalized_by_mass` refuses.
    attrs
        Dataset-level attributes (name, description, ``simulated`` flag, generator, ...).
    """

    X: np.ndarray
    Y: np.ndarray
    input_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    input_units: tuple[str, ...]
    target_units: tuple[str, ...]
    meta: pd.DataFrame
    attrs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        origin = self.attrs.get("path")
        self.X = np.asarray(self.X, dtype=np.float32)
        self.Y = np.asarray(self.Y, dtype=np.float32)
        self.input_columns = tuple(str(c) for c in self.input_columns)
        self.target_columns = tuple(str(c) for c in self.target_columns)
        self.input_units = tuple(str(u) for u in self.input_units)
        self.target_units = tuple(str(u) for u in self.target_units)
        if self.X.ndim != 3 or self.Y.ndim != 3:
            raise Gait2HipInputError(
                f"X and Y must be 3-D [N, T, D]; got X {self.X.shape} and Y {self.Y.shape}.",
                file=origin,
                fix="stack gait cycles as samples × time points × channels.",
            )
        if self.X.shape[:2] != self.Y.shape[:2]:
            raise Gait2HipInputError(
                f"X {self.X.shape} and Y {self.Y.shape} disagree on samples or time points.",
                file=origin,
                fix="inputs and targets must describe the same cycles.",
            )
        for name, cols, units, width in (
            ("input", self.input_columns, self.input_units, self.X.shape[2]),
            ("target", self.target_columns, self.target_units, self.Y.shape[2]),
        ):
            if len(cols) != width or len(units) != width:
                raise Gait2HipInputError(
                    f"{len(cols)} {name} names and {len(units)} units for {width} channels.",
                    file=origin,
                    fix=f"give one name and one unit per {name} channel.",
                )
            if len(set(cols)) != len(cols):
                raise Gait2HipInputError(f"duplicate {name} column names {cols}.", file=origin)
        for col, unit in zip(self.input_columns, self.input_units, strict=True):
            if unit not in ANGLE_UNITS:
                raise Gait2HipInputError(
                    f"unknown angle unit '{unit}'.", file=origin, column=col, fix="use 'deg' or 'rad'."
                )
        for col, unit in zip(self.target_columns, self.target_units, strict=True):
            if unit not in TARGET_UNITS:
                raise Gait2HipInputError(
                    f"unknown target unit '{unit}'.",
                    file=origin,
                    column=col,
                    fix=f"use one of {', '.join(TARGET_UNITS)}.",
                )
        self.meta = _meta_frame(self.meta, len(self.X), file=origin)
        mass = self.meta["mass_kg"].to_numpy(dtype=float)
        # a dataset whose targets are all per kg may leave body mass unknown (NaN), never ≤ 0 or inf
        unknown_ok = self.mass_normalized and len(self.target_columns) > 0
        bad_mass = ~(mass > 0) | np.isinf(mass)
        if unknown_ok:
            bad_mass &= ~np.isnan(mass)
        if bad_mass.any():
            first = self.meta.loc[bad_mass, "subject_id"].iloc[0]
            raise Gait2HipInputError(
                f"body mass is missing or ≤ 0 for {int(bad_mass.sum())} sample(s) (first: subject {first}).",
                file=origin,
                column="mass_kg",
                fix="give every subject a body mass in kg (> 0)"
                + ("; NaN marks an unknown mass (targets are per kg)." if unknown_ok else "."),
            )

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_timepoints(self) -> int:
        return int(self.X.shape[1])

    @property
    def subjects(self) -> list[str]:
        """Unique subject ids in order of first appearance."""
        return list(dict.fromkeys(self.meta["subject_id"]))

    @property
    def mass_normalized(self) -> bool:
        """True when every force / moment target is per kg of body mass (or in % body weight)."""
        return all(u.endswith("/kg") or u == "%BW" for u in self.target_units)

    def target_group(self, group: str) -> tuple[str, ...]:
        """The dataset's columns of a target group ('forces', 'moments', 'contact'), in its order.

        Empty when the dataset has none (e.g. a file written before the contact force existed).
        """
        if group not in TARGET_GROUPS:
            raise Gait2HipInputError(
                f"unknown target group '{group}'.", fix=f"use one of {', '.join(TARGET_GROUPS)}."
            )
        members = set(TARGET_GROUPS[group])
        return tuple(c for c in self.target_columns if c in members)

    def __repr__(self) -> str:
        return (
            f"GaitDataset(n={len(self)}, T={self.n_timepoints}, inputs={len(self.input_columns)}, "
            f"targets={len(self.target_columns)} [{', '.join(sorted(set(self.target_units)))}], "
            f"subjects={len(self.subjects)})"
        )

    # ------------------------------------------------------------------ units
    def normalized_by_mass(self) -> GaitDataset:
        """Targets divided by body mass (N → N/kg, Nm → Nm/kg); already-normalised columns stay.

        Raises if every target column is already per kg, so a second call cannot go unnoticed.
        """
        if self.mass_normalized:
            raise Gait2HipInputError(
                "targets are already normalised by body mass (units "
                f"{sorted(set(self.target_units))}); normalising twice would divide by mass again.",
                file=self.attrs.get("path"),
                fix="use the dataset as it is.",
            )
        scale = np.array([u in MASS_NORMALISED for u in self.target_units], dtype=bool)
        mass = self.meta["mass_kg"].to_numpy(dtype=np.float32)[:, None, None]
        Y = np.where(scale[None, None, :], self.Y / mass, self.Y)
        units = tuple(MASS_NORMALISED.get(u, u) for u in self.target_units)
        return self._replace(Y=Y, target_units=units)

    def denormalized_by_mass(self) -> GaitDataset:
        """Inverse of :meth:`normalized_by_mass` (N/kg → N, Nm/kg → Nm)."""
        raw = {v: k for k, v in MASS_NORMALISED.items()}
        scale = np.array([u in raw for u in self.target_units], dtype=bool)
        if not scale.any():
            raise Gait2HipInputError("targets are not normalised by body mass.", file=self.attrs.get("path"))
        if self.meta["mass_kg"].isna().any():
            raise Gait2HipInputError(
                f"body mass is unknown (NaN) for {int(self.meta['mass_kg'].isna().sum())} sample(s): per-kg "
                "targets cannot be turned into N / N m.",
                file=self.attrs.get("path"),
                column="mass_kg",
                fix="keep the targets per kg, or give the body masses.",
            )
        mass = self.meta["mass_kg"].to_numpy(dtype=np.float32)[:, None, None]
        Y = np.where(scale[None, None, :], self.Y * mass, self.Y)
        return self._replace(Y=Y, target_units=tuple(raw.get(u, u) for u in self.target_units))

    def contact_in_percent_bw(self) -> GaitDataset:
        """Hip contact columns in % body weight (from N or N/kg); other columns unchanged.

        Raises when the dataset has no contact columns (labelled before they existed).
        """
        contact = self.target_group("contact")
        if not contact:
            raise Gait2HipInputError(
                "this dataset has no hip contact-force columns.",
                file=self.attrs.get("path"),
                fix="relabel it (gait2hip label, or regenerate the cohort) to add the 'contact' group.",
            )
        mass = self.meta["mass_kg"].to_numpy(dtype=np.float64)[:, None, None]
        factor = np.ones((len(self), 1, len(self.target_columns)))
        units = list(self.target_units)
        for name in contact:
            j = self.target_columns.index(name)
            per_kg = {"N": 1.0 / mass[:, 0, 0], "N/kg": np.ones(len(self)), "%BW": None}[units[j]]
            if per_kg is not None:
                factor[:, 0, j] = per_kg * 100.0 / GRAVITY
                units[j] = "%BW"
        return self._replace(Y=(self.Y * factor).astype(np.float32), target_units=tuple(units))

    def inputs_in_degrees(self) -> GaitDataset:
        """Inputs converted to degrees (no-op for columns already in degrees)."""
        rad = np.array([u == "rad" for u in self.input_units], dtype=bool)
        if not rad.any():
            return self
        X = np.where(rad[None, None, :], np.degrees(self.X), self.X)
        return self._replace(X=X, input_units=tuple("deg" for _ in self.input_units))

    # ------------------------------------------------------------------ selection
    def take(self, indices: Sequence[int] | np.ndarray) -> GaitDataset:
        """The samples at ``indices`` (int positions or a boolean mask), in that order."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        elif idx.size == 0:  # np.asarray([]) is float64, which numpy refuses as an index
            idx = idx.astype(np.intp)
        return self._replace(X=self.X[idx], Y=self.Y[idx], meta=self.meta.iloc[idx].reset_index(drop=True))

    def select(
        self,
        *,
        subjects: Iterable[str] | None = None,
        cadences: Iterable[str] | None = None,
        cohorts: Iterable[str] | None = None,
        sides: Iterable[str] | None = None,
    ) -> GaitDataset:
        """Samples matching every given filter (subject ids, cadence labels, cohorts, sides)."""
        mask = np.ones(len(self), dtype=bool)
        for column, wanted in (
            ("subject_id", subjects),
            ("cadence_label", cadences),
            ("cohort", cohorts),
            ("side", sides),
        ):
            if wanted is None:
                continue
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            mask &= self.meta[column].isin(wanted).to_numpy()
        return self.take(mask)

    def select_targets(self, columns: Sequence[str]) -> GaitDataset:
        """Only the named target columns, in the given order."""
        missing = [c for c in columns if c not in self.target_columns]
        if missing:
            raise Gait2HipInputError(
                f"target column(s) {missing} are not in this dataset.",
                file=self.attrs.get("path"),
                column=missing[0],
                fix=f"choose from {list(self.target_columns)}.",
            )
        idx = [self.target_columns.index(c) for c in columns]
        return self._replace(
            Y=self.Y[:, :, idx],
            target_columns=tuple(columns),
            target_units=tuple(self.target_units[i] for i in idx),
        )

    def select_inputs(self, columns: Sequence[str]) -> GaitDataset:
        """Only the named input columns, in the given order."""
        missing = [c for c in columns if c not in self.input_columns]
        if missing:
            raise Gait2HipInputError(
                f"input column(s) {missing} are not in this dataset.",
                file=self.attrs.get("path"),
                column=missing[0],
                fix=f"choose from {list(self.input_columns)}.",
            )
        idx = [self.input_columns.index(c) for c in columns]
        return self._replace(
            X=self.X[:, :, idx],
            input_columns=tuple(columns),
            input_units=tuple(self.input_units[i] for i in idx),
        )

    @staticmethod
    def concat(datasets: Sequence[GaitDataset]) -> GaitDataset:
        """Stack datasets with identical columns, units and time points."""
        if not datasets:
            raise ValueError("nothing to concatenate")
        first = datasets[0]
        for other in datasets[1:]:
            for what in ("input_columns", "target_columns", "input_units", "target_units"):
                if getattr(other, what) != getattr(first, what):
                    raise Gait2HipInputError(
                        f"cannot concatenate: {what} differ ({getattr(first, what)} vs "
                        f"{getattr(other, what)}).",
                        file=other.attrs.get("path"),
                        fix="select the same columns and normalise both the same way first.",
                    )
            if other.n_timepoints != first.n_timepoints:
                raise Gait2HipInputError(
                    f"cannot concatenate {first.n_timepoints}- and {other.n_timepoints}-point cycles.",
                    file=other.attrs.get("path"),
                    fix="resample to the same number of points.",
                )
        attrs = dict(first.attrs)
        attrs.pop("path", None)
        return GaitDataset(
            X=np.concatenate([d.X for d in datasets]),
            Y=np.concatenate([d.Y for d in datasets]),
            input_columns=first.input_columns,
            target_columns=first.target_columns,
            input_units=first.input_units,
            target_units=first.target_units,
            meta=pd.concat([d.meta for d in datasets], ignore_index=True),
            attrs=attrs,
        )

    def _replace(self, **changes) -> GaitDataset:
        fields = dict(
            X=self.X,
            Y=self.Y,
            input_columns=self.input_columns,
            target_columns=self.target_columns,
            input_units=self.input_units,
            target_units=self.target_units,
            meta=self.meta,
            attrs=dict(self.attrs),
        )
        fields.update(changes)
        return GaitDataset(**fields)

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the NPZ layout of :mod:`gait2hip.data.dataset_npz` (compressed, no pickled objects)."""
        from gait2hip.data.dataset_npz import write_dataset

        return write_dataset(self, path)

    @classmethod
    def load(cls, path: str | Path) -> GaitDataset:
        """Read a file written by :meth:`save` (for the bare release files use ``gait2hip.data.release``)."""
        from gait2hip.data.dataset_npz import read_dataset_fields

        return cls(**read_dataset_fields(path))
