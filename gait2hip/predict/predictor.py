"""`Predictor`: joint angles in, hip muscle forces and hip moments out, per gait cycle.

A Predictor holds one or more model bundles (typically a forces bundle and a moments
bundle) and does what a bundle alone cannot: find the gait cycles in a trial, resample
each one to the points the model expects, mirror the left leg, scale per-kg outputs by
body mass, and say when a cycle lies outside the training cohort.

Left hip (``side='left'``): the models predict the RIGHT hip from the release's 10 angles.
A left-leg cycle (left heel strike → left heel strike) is fed with the left and right
angle columns swapped (``hip_flexion_l`` in the ``hip_flexion_r`` slot and so on), so the
model sees the left leg as if it were the right one, and its outputs are the left hip's,
reported under the ``_l`` column names. This needs no sign change for the angles, moments
and muscle forces: OpenSim models (gait2392, Rajagopal) define the left hip's adduction and
internal rotation, and the left knee and ankle, with the same anatomical sign as the right
ones, and the hip moments follow the coordinates' signs. The contact force's z component is
the exception (:func:`gait2hip.data.columns.left_sign`): its frames point z to the right on
both sides, so the left hip's z is turned back to OpenSim's sense (+ to the right = medial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gait2hip.data.checks import convention_problems
from gait2hip.data.columns import INPUT_ANGLES, left_sign, mirror_angles, to_left
from gait2hip.data.cycles import time_normalize
from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import Bundle, load_bundle
from gait2hip.models.discovery import resolve_bundle_paths
from gait2hip.models.ood import ood_distance, ood_level, ood_outside_fraction, ood_reasons
from gait2hip.models.uncertainty import band_limits, band_scale, member_stats, ood_inflation
from gait2hip.predict.cycles import (
    SIDES,
    CycleJob,
    angle_table,
    check_sides,
    cycle_span,
    pre_cut_jobs,
    timed_jobs,
)

#: Body masses outside this range are refused as typing errors (kg).
MASS_RANGE_KG = (20.0, 300.0)
_PER_KG = {"N": "N/kg", "Nm": "Nm/kg"}


def output_name(target: str, side: str) -> str:
    """The output column of a right-hip target for the predicted ``side``."""
    return target if side == "right" else to_left(target)


@dataclass
class Prediction:
    """Per-cycle predictions of a trial.

    Attributes
    ----------
    curves
        Long table, one row per cycle × time point: ``cycle`` (1-based), ``side``,
        ``percent`` (0–100 % of the gait cycle), ``time`` (s in the trial), then every
        target twice: ``<name>`` in N or Nm, and ``<name>_per_kg`` in N/kg or Nm/kg; for a
        bundle with a calibrated band, each also has its central 90 % interval ``<name>_lo`` /
        ``<name>_hi`` and ``<name>_per_kg_lo`` / ``<name>_per_kg_hi``
        (:mod:`gait2hip.models.uncertainty`; widened for out-of-distribution cycles; a muscle
        force's lower limit is clipped at 0 N).
        ``curves.attrs['units']`` maps each column to its unit.
    cycles
        One row per cycle: side, start/end/stride (s), how it was found, and the
        out-of-distribution measures (``ood_distance``, ``ood_threshold``,
        ``ood_outside_fraction``, ``ood`` flag (level not 'ok'), ``ood_level`` ('ok', 'caution',
        'unreliable'; see :func:`gait2hip.models.ood.ood_level`), ``convention`` (the likely
        input convention errors, :func:`gait2hip.data.checks.convention_problems`; any makes the
        cycle 'unreliable'), ``ood_reason``) and ``band_inflation``, the factor its band was
        widened by (max(1, distance / threshold)).
    inputs
        Cycle number → the resampled input angles [T, 10] in degrees (the leg's own order:
        right-named columns for a right cycle, left-named for a left cycle, already swapped
        so they are what the model saw).
    """

    curves: pd.DataFrame
    cycles: pd.DataFrame
    inputs: dict[int, pd.DataFrame] = field(default_factory=dict)
    mass_kg: float = float("nan")
    bundles: tuple[str, ...] = ()
    simulated: bool = False
    training_data: str = ""

    def cycle(self, number: int) -> pd.DataFrame:
        """The curves of one cycle (columns of its side only)."""
        rows = self.curves[self.curves["cycle"] == number]
        keep = [c for c in rows.columns if c in ("cycle", "side", "percent", "time") or rows[c].notna().any()]
        return rows[keep]


def _check_mass(mass_kg: float) -> float:
    try:
        mass = float(mass_kg)
    except (TypeError, ValueError):
        raise Gait2HipInputError(f"body mass '{mass_kg}' is not a number.", column="mass") from None
    if not (MASS_RANGE_KG[0] <= mass <= MASS_RANGE_KG[1]):
        raise Gait2HipInputError(
            f"body mass {mass:g} kg is outside {MASS_RANGE_KG[0]:g}–{MASS_RANGE_KG[1]:g} kg.",
            column="mass",
            fix="give the subject's body mass in kilograms (e.g. --mass 72.6).",
        )
    return mass


class Predictor:
    """Hip muscle forces and moments from joint angles, with one or more model bundles.

    Parameters
    ----------
    bundles
        Loaded bundles; their targets must not overlap (e.g. one forces bundle and one
        moments bundle).

    Examples
    --------
    >>> from gait2hip.data.angles import read_angles
    >>> from gait2hip.paths import shared_file
    >>> from gait2hip.predict import Predictor
    >>> predictor = Predictor.from_bundle("default")               # forces + moments
    >>> ik = shared_file("opensim-examples/gait2392-subject01/subject01_walk1_ik.mot")
    >>> prediction = predictor.predict_trial(read_angles(ik), mass_kg=72.6, side="both")
    >>> print(prediction.cycles[["cycle", "side", "start_s", "end_s"]].round(3).to_string(index=False))
     cycle  side  start_s  end_s
         1 right    0.605  1.831
         2  left    1.219  2.439
         3 right    1.831  3.051
         4  left    2.439  3.656
    >>> units = prediction.curves.attrs["units"]
    >>> units["glmed_r"], units["glmed_r_per_kg"], units["hip_flexion_l_moment_per_kg"]
    ('N', 'N/kg', 'Nm/kg')
    """

    def __init__(self, bundles: Sequence[Bundle]) -> None:
        if not bundles:
            raise ValueError("a Predictor needs at least one bundle")
        seen: dict[str, str] = {}
        for bundle in bundles:
            for column in bundle.target_columns:
                if column in seen:
                    raise Gait2HipInputError(
                        f"target '{column}' is predicted by both {seen[column]} and {bundle.name}.",
                        fix="combine bundles with different targets (one forces, one moments).",
                    )
                seen[column] = bundle.name
            for column, unit in zip(bundle.input_columns, bundle.input_units, strict=True):
                if column in INPUT_ANGLES and unit != "deg":
                    raise Gait2HipInputError(
                        f"bundle {bundle.name} takes '{column}' in {unit}; gait2hip feeds degrees.",
                        file=bundle.path,
                    )
        self.bundles = list(bundles)

    @classmethod
    def from_bundle(
        cls,
        path_or_name: str | Path | Sequence[str | Path] = "default",
        *,
        search_dirs: Sequence[Path] | None = None,
    ) -> Predictor:
        """Load bundles by folder, installed name, 'default' (forces + moments) or a comma list.

        ``search_dirs``: folders holding installed bundles, searched before the shipped ones
        (the command line passes ``GAIT2HIP_BUNDLE_PATH``'s folders).
        """
        specs = [path_or_name] if isinstance(path_or_name, str | Path) else list(path_or_name)
        paths: list[Path] = []
        for spec in specs:
            paths.extend(resolve_bundle_paths(spec, search_dirs=search_dirs))
        return cls([load_bundle(p) for p in dict.fromkeys(paths)])

    # ------------------------------------------------------------------ description
    @property
    def target_columns(self) -> list[str]:
        """The right-hip targets predicted, in bundle order."""
        return [c for b in self.bundles for c in b.target_columns]

    @property
    def simulated(self) -> bool:
        """True when any bundle was trained on simulated data."""
        return any(b.simulated for b in self.bundles)

    @property
    def real_sources(self) -> list[str]:
        """The real datasets the bundles trained on, from their data cards (e.g. ['fukuchi2018'])."""
        cards = [b.manifest.get("data_card", {}) for b in self.bundles]
        return sorted({source for card in cards for source in card.get("real_sources", [])})

    @property
    def training_data(self) -> str:
        """What the bundles learned from, in a few words ('' when no bundle was simulated): e.g.
        'SIMULATED data (+ REAL fukuchi2018 hip moments)' for the joint default."""
        if not self.simulated:
            return ""
        real = self.real_sources
        return "SIMULATED data" + (f" (+ REAL {', '.join(real)} hip moments)" if real else "")

    def __repr__(self) -> str:
        return f"Predictor({', '.join(b.name for b in self.bundles)})"

    # ------------------------------------------------------------------ core
    def _bundle_inputs(
        self,
        bundle: Bundle,
        angles: np.ndarray,
        *,
        stride_s: float,
        mass_kg: float,
        height_m: float | None,
    ) -> np.ndarray:
        """One cycle's model input [T, D] from its angles [T, 10] (release order, degrees)."""
        channels = []
        for column in bundle.input_columns:
            if column in INPUT_ANGLES:
                channels.append(angles[:, INPUT_ANGLES.index(column)])
                continue
            if column == "stride_time_s":
                value = stride_s
            elif column == "cadence_spm":
                value = 120.0 / stride_s
            elif column == "mass_kg":
                value = mass_kg
            elif column == "height_m":
                if height_m is None:
                    raise Gait2HipInputError(
                        f"bundle {bundle.name} needs the subject's height.",
                        column="height_m",
                        fix="pass height_m= (metres).",
                    )
                value = height_m
            else:
                raise Gait2HipInputError(
                    f"bundle {bundle.name} needs input '{column}', which gait2hip cannot derive.",
                    file=bundle.path,
                    column=column,
                )
            channels.append(np.full(len(angles), float(value)))
        return np.stack(channels, axis=1)

    def _ood(self, bundle: Bundle, x: np.ndarray) -> tuple[float, float, float]:
        """(distance, threshold, outside fraction) of one model input [T, D] against ``bundle``."""
        distance = float(ood_distance(x[None], bundle.reference)[0])
        threshold = float(bundle.manifest["ood"]["threshold"])
        return distance, threshold, float(ood_outside_fraction(x[None], bundle.reference)[0])

    def _predict_cycle(
        self, number: int, job: CycleJob, *, mass: float, height_m: float | None, pre_cut: bool, file
    ) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
        """One cycle through every bundle: its curves, its summary row and the angles the model saw."""
        window = job.window
        order = mirror_angles(INPUT_ANGLES) if window.side == "left" else list(INPUT_ANGLES)
        own = job.samples[:, [INPUT_ANGLES.index(c) for c in order]]  # the model's right = this leg
        start, end, stride = cycle_span(job, pre_cut=pre_cut, file=file)
        frame: dict[str, Any] = {}
        inputs = pd.DataFrame()
        problems: list[str] = []
        worst = (np.nan, np.nan, -1.0)  # distance, threshold, distance / threshold
        outside = 0.0
        for bundle in self.bundles:
            T = bundle.seq_len
            cycle_angles = time_normalize(job.stamps, own, start, end, T)
            if bundle is self.bundles[0]:
                inputs = pd.DataFrame(cycle_angles, columns=order)
                problems = convention_problems(dict(zip(order, cycle_angles.T, strict=True)))
                frame["percent"] = np.linspace(0.0, 100.0, T)
                frame["time"] = np.linspace(start, end, T) if not pre_cut else np.full(T, np.nan)
            x = self._bundle_inputs(bundle, cycle_angles, stride_s=stride, mass_kg=mass, height_m=height_m)
            distance = threshold = np.nan
            if bundle.has_ood:
                distance, threshold, fraction = self._ood(bundle, x)
                if distance / threshold > worst[2]:
                    worst = (distance, threshold, distance / threshold)
                outside = max(outside, fraction)
            curves_kg = self._with_band(bundle, x, distance=distance, threshold=threshold)
            if len(frame["percent"]) != T:  # bundles with different T: the first bundle's grid
                grid = np.linspace(0, 100, T)
                curves_kg = {
                    k: time_normalize(grid, y, 0.0, 100.0, len(frame["percent"]))
                    for k, y in curves_kg.items()
                }
            for j, (target, unit) in enumerate(zip(bundle.target_columns, bundle.target_units, strict=True)):
                name = output_name(target, window.side)
                to_raw, to_kg = (mass, 1.0) if unit.endswith("/kg") else (1.0, 1.0 / mass)
                sign = left_sign(target) if window.side == "left" else 1.0
                for suffix, factor in (("", to_raw), ("_per_kg", to_kg)):
                    for key in curves_kg:  # '', '_lo', '_hi'
                        # a flipped sign swaps the band's ends: the left's lo is −(right-sense hi)
                        source_key = {"_lo": "_hi", "_hi": "_lo"}.get(key, key) if sign < 0 else key
                        frame[name + suffix + key] = curves_kg[source_key][:, j] * factor * sign
        curves = pd.DataFrame(frame)
        curves.insert(0, "side", window.side)
        curves.insert(0, "cycle", number)
        reasons = ood_reasons(distance=worst[0], threshold=worst[1], outside=outside)
        level = (
            "unreliable" if problems else ood_level(distance=worst[0], threshold=worst[1], outside=outside)
        )
        summary = {
            "cycle": number,
            "side": window.side,
            "start_s": window.start_s,
            "end_s": window.end_s,
            "stride_s": stride,
            "method": window.method,
            "ood_distance": worst[0],
            "ood_threshold": worst[1],
            "ood_outside_fraction": outside if any(b.has_ood for b in self.bundles) else np.nan,
            "ood": level != "ok",
            "ood_level": level,
            "convention": "; ".join(problems),
            "ood_reason": "; ".join(problems + reasons),
            "band_inflation": float(ood_inflation(worst[0], worst[1])),
        }
        return curves, summary, inputs

    @staticmethod
    def _with_band(
        bundle: Bundle, x: np.ndarray, *, distance: float, threshold: float
    ) -> dict[str, np.ndarray]:
        """One cycle's prediction [T, D] (bundle units) under '' and, with a band, '_lo' / '_hi'."""
        members = bundle.predict_members(x[None])  # [M, 1, T, D]
        mean, spread = member_stats(members)
        curves = {"": mean[0].astype(np.float32)}
        if bundle.has_band:
            band = bundle.band
            scale = band_scale(
                spread=spread,
                band_spread=band["band_spread"],
                inflation=ood_inflation(distance, threshold).reshape(1),
                shape=mean.shape,
            )
            lower, upper = band_limits(mean, band, scale)
            forces = np.array([not unit.startswith("Nm") for unit in bundle.target_units])  # ≥ 0 N
            floor = np.minimum(mean[0], 0.0)  # a force's band stops at 0 N (or at a negative prediction)
            curves["_lo"] = np.where(forces, np.maximum(lower[0], floor), lower[0])
            curves["_hi"] = upper[0]
        return curves

    def _units(self) -> dict[str, str]:
        """Unit of every possible output column (both sides, raw and per kg)."""
        units: dict[str, str] = {"cycle": "1", "side": "", "percent": "%", "time": "s"}
        for bundle in self.bundles:
            for target, unit in zip(bundle.target_columns, bundle.target_units, strict=True):
                raw = unit.removesuffix("/kg")
                for side in SIDES:
                    for key in ("", "_lo", "_hi"):
                        units[output_name(target, side) + key] = raw
                        units[output_name(target, side) + "_per_kg" + key] = _PER_KG[raw]
        return units

    def predict_trial(
        self,
        angles: pd.DataFrame,
        *,
        mass_kg: float,
        side: str = "right",
        cycles: Sequence[tuple[float, float]] | None = None,
        height_m: float | None = None,
        in_degrees: bool | None = True,
        file: str | Path | None = None,
        heel_strikes: dict[str, Sequence[float]] | None = None,
        lowpass_hz: float | None = None,
    ) -> Prediction:
        """Find the cycles of a trial, predict each, check it against the training cohort.

        Parameters
        ----------
        angles
            The 10 input angles (IK coordinate names or Moco state paths) indexed by time in
            seconds — e.g. :func:`gait2hip.data.angles.read_angles` — or already-cut cycles
            indexed by a ``(cycle, point)`` MultiIndex (each cycle taken whole).
        mass_kg
            Body mass (kg): per-kg outputs are multiplied by it.
        side
            'right', 'left' or 'both'.
        cycles
            Explicit ``(start, end)`` windows in seconds, each used as one cycle of
            ``side`` (instead of finding heel strikes).
        height_m
            Only for bundles that take height as an input.
        in_degrees
            The unit of ``angles`` (checked against the values); None to let the values decide.
        file
            The source file, for messages.
        heel_strikes
            The lab's heel-strike times per side (``{'right': [...], 'left': [...]}``, s), e.g.
            a C3D's Foot Strike events: cycles run from one to the next of the same side (not
            with ``cycles``). Checked against the kinematics: events whose sides are swapped
            relative to the angles are refused.
        lowpass_hz
            Low-pass the angles first (zero-lag Butterworth, :mod:`gait2hip.data.filtering`);
            None (default): unfiltered, as the models were trained.
        """
        mass = _check_mass(mass_kg)
        sides = check_sides(side)
        table = angle_table(angles, in_degrees=in_degrees, file=file)
        if lowpass_hz is not None and not isinstance(table.index, pd.MultiIndex):
            from gait2hip.data.filtering import lowpass_angles

            table = lowpass_angles(table, cutoff_hz=float(lowpass_hz), file=file)
        values = table[list(INPUT_ANGLES)].to_numpy(dtype=float)
        pre_cut = isinstance(angles.index, pd.MultiIndex)
        if pre_cut and cycles is not None:
            raise Gait2HipInputError(
                "the input holds already-cut cycles; --cycle windows do not apply.", file=file
            )
        if pre_cut:
            jobs = pre_cut_jobs(table, values, sides)
        else:
            if cycles is not None and heel_strikes is not None:
                raise Gait2HipInputError(
                    "give either cycle windows or heel-strike events, not both.", file=file
                )
            strikes = (
                None if heel_strikes is None else {s: np.asarray(t, float) for s, t in heel_strikes.items()}
            )
            jobs = timed_jobs(table, values, sides, cycles, file, heel_strikes=strikes)
        rows, summaries, inputs = [], [], {}
        for number, job in enumerate(jobs, start=1):
            curves, summary, inputs[number] = self._predict_cycle(
                number, job, mass=mass, height_m=height_m, pre_cut=pre_cut, file=file
            )
            rows.append(curves)
            summaries.append(summary)
        curves = pd.concat(rows, ignore_index=True)
        units = self._units()
        curves.attrs["units"] = {c: units[c] for c in curves.columns}
        curves.attrs["cycles"] = [dict(record) for record in summaries]
        curves.attrs["mass_kg"] = mass
        curves.attrs["bundles"] = [b.name for b in self.bundles]
        curves.attrs["simulated"] = self.simulated
        curves.attrs["lowpass_hz"] = lowpass_hz
        return Prediction(
            curves=curves,
            cycles=pd.DataFrame(summaries),
            inputs=inputs,
            mass_kg=mass,
            bundles=tuple(b.name for b in self.bundles),
            simulated=self.simulated,
            training_data=self.training_data,
        )

    def predict(self, angles: pd.DataFrame, **options: Any) -> pd.DataFrame:
        """Predicted curves per cycle and per % of cycle (see :attr:`Prediction.curves`).

        ``attrs['units']`` gives every column's unit (N, N/kg, Nm, Nm/kg, s, %), and
        ``attrs['cycles']`` one record per cycle with its window and out-of-distribution check.
        Keyword options (``mass_kg``, ``side``, ``cycles``, ``height_m``, ``in_degrees``,
        ``file``) as in :meth:`predict_trial`.
        """
        return self.predict_trial(angles, **options).curves
