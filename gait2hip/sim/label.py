"""Label a lab's walking trials with OpenSim: hip moments (inverse dynamics) and hip muscle
forces (static optimisation), per gait cycle, as a :class:`~gait2hip.data.dataset.GaitDataset`.

One trial = a scaled model (.osim), IK kinematics (.mot/.sto), force-plate GRF (.mot) and
the ExternalLoads .xml that applies them. :func:`label_trial`:

1. reads the kinematics and the 10 input angles (degrees, gait2hip sign conventions, as
   recorded — the predictor sees raw IK too);
2. finds every complete gait cycle of both feet from the vertical GRF (heel strike to heel
   strike, 20 N threshold; :func:`gait2hip.data.cycles.find_cycles`);
3. runs inverse dynamics (measured loads) and static optimisation over the span of those
   cycles — once per trial, not per cycle, since both are frame-by-frame;
4. sums muscle forces into the release's 14 groups per hip (model recognised from its
   muscle names: Rajagopal or gait2392) and computes each hip's joint contact force from the
   SO solution (:mod:`gait2hip.sim.joint_reaction`, = OpenSim's JointReaction);
   time-normalises inputs and targets to 101 points;
5. writes a quality record per cycle (:mod:`gait2hip.sim.quality`) and keeps the cycles that
   pass.

Targets are both hips, in N and N m: ``MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L +
MOMENTS_L + CONTACT_R + CONTACT_L`` (the simulated cohort's layout), with body mass in the
metadata.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.angles import angles_from_table
from gait2hip.data.columns import MOMENTS_L, MOMENTS_R
from gait2hip.data.cycles import GaitCycle, find_cycles, grf_support_fraction, time_normalize
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset
from gait2hip.data.lab import target_layout
from gait2hip.data.muscle_mapping import aggregate_muscles, choose_mapping
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage, write_storage
from gait2hip.sim.quality import QualityThresholds, cycle_quality, quality_summary, thresholds_dict
from gait2hip.sim.so_model import SOLVERS, ReserveConfig, SOResult

N_POINTS = 101
#: Samples of kinematics kept on each side of the labelled span (spline end effects).
MARGIN_S = 0.05


@dataclass(frozen=True)
class LabelConfig:
    """How trials are labelled.

    Parameters
    ----------
    solver
        Static optimisation: 'default' (= 'fast'), 'fast' or 'opensim'.
    lowpass_hz
        Low-pass cut-off for the kinematics in ID and SO (OpenSim's examples use 6 Hz).
    grf_threshold_n
        Vertical-force threshold for contact (heel strikes).
    sides
        Feet whose cycles are labelled.
    thresholds
        QA limits; failing cycles are flagged in the QA record.
    exclude_flagged
        Leave flagged cycles out of the dataset (default). False keeps them (their flags stay
        in the QA record): raw IK + force plates without residual reduction often exceed the
        residual-moment limit, and a lab may prefer to judge for itself.
    reserves
        Optimal forces of the reserve / residual actuators.
    """

    solver: str = "default"
    lowpass_hz: float | None = 6.0
    grf_threshold_n: float = 20.0
    sides: tuple[str, ...] = ("right", "left")
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    exclude_flagged: bool = True
    reserves: ReserveConfig = field(default_factory=ReserveConfig)

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise Gait2HipInputError(
                f"unknown static-optimisation solver '{self.solver}'.",
                fix=f"use one of {', '.join(SOLVERS)}.",
            )


@dataclass
class TrialLabels:
    """Everything :func:`label_trial` computed for one trial.

    Attributes
    ----------
    dataset
        Kept cycles (None when every cycle was flagged).
    quality
        One QA row per cycle found (kept or not), with ``trial_id`` and ``side``.
    moments
        Inverse dynamics with the measured loads over the labelled span (time × force).
    so
        Static-optimisation result over the same span.
    groups
        Muscle-group forces of both hips over the span (time × 28 groups), N.
    contact
        Hip joint contact force of both hips over the span (time × ``CONTACT_R + CONTACT_L``), N.
    """

    dataset: GaitDataset | None
    quality: pd.DataFrame
    moments: pd.DataFrame
    so: SOResult
    groups: pd.DataFrame
    contact: pd.DataFrame | None = None


def _grf_file(loads: Path, grf: Path | None) -> Path:
    if grf is not None:
        return Path(grf)
    import xml.etree.ElementTree as ET

    try:
        datafile = (ET.parse(loads).getroot().findtext(".//datafile") or "").strip()
    except (ET.ParseError, OSError) as exc:
        raise Gait2HipInputError(f"cannot read the external loads XML ({exc}).", file=loads) from None
    if not datafile:
        raise Gait2HipInputError(
            "the external loads XML names no <datafile> and no GRF file was given.",
            file=loads,
            fix="pass --grf.",
        )
    path = Path(datafile)
    return path if path.is_absolute() else loads.parent / path


def _cadence(label: str | float | None, stride_s: float) -> tuple[str, float]:
    if label is None or (isinstance(label, float) and np.isnan(label)) or str(label).strip() == "":
        return "", 120.0 / stride_s
    text = str(label).strip().lower()
    if text in CADENCE_SPM:
        return text, CADENCE_SPM[text]
    try:
        return "", float(text)
    except ValueError:
        raise Gait2HipInputError(
            f"cadence '{label}' is neither slow/med/fast nor a number of steps/min.",
            column="cadence",
            fix="use slow, med, fast, a number, or leave it empty (measured from the stride).",
        ) from None


def trial_name(ik: str | Path) -> str:
    """Default trial id: the IK file's stem without a trailing ``_ik``."""
    return re.sub(r"_ik$", "", Path(ik).stem)


def label_trial(
    *,
    model: str | Path,
    ik: str | Path,
    loads: str | Path,
    grf: str | Path | None = None,
    mass_kg: float | None = None,
    height_m: float | None = None,
    subject_id: str | None = None,
    trial_id: str | None = None,
    cohort: str = "lab",
    cadence: str | float | None = None,
    window: tuple[float, float] | None = None,
    config: LabelConfig = LabelConfig(),
) -> TrialLabels:
    """Label one trial: per-cycle inputs, hip moments and hip muscle-group forces, plus QA.

    Parameters
    ----------
    model
        Scaled OpenSim model (.osim).
    ik
        IK coordinates (.mot/.sto).
    loads
        ExternalLoads .xml applying the GRF to the feet.
    grf
        GRF .mot (default: the loads file's ``<datafile>``).
    mass_kg
        Body mass (default: the model's total mass).
    height_m
        Height (default: estimated from the model's leg length; used for QA only).
    subject_id, trial_id
        Labels (defaults: the model file's stem, the IK file's stem).
    cohort
        Metadata cohort label.
    cadence
        'slow' / 'med' / 'fast' or steps/min; default: measured (120 / stride time).
    window
        Only cycles inside (start, end) s.
    config
        Solver, filter, QA thresholds.

    Returns
    -------
    TrialLabels
    """
    from gait2hip.sim.opensim_env import model_height_m, model_mass_kg

    model, ik, loads = Path(model), Path(ik), Path(loads)
    grf_path = _check_files(model, ik, loads, grf)
    mass = float(mass_kg) if mass_kg is not None else model_mass_kg(model)
    if not mass > 0:
        raise Gait2HipInputError(f"body mass {mass} kg must be > 0.", column="mass_kg")
    height = float(height_m) if height_m is not None and np.isfinite(height_m) else model_height_m(model)
    subject = subject_id or model.stem
    trial = trial_id or trial_name(ik)
    angles, notes = _read_angles(ik)
    grf_table = read_storage(grf_path).data
    files = dict(file=ik, grf_file=grf_path, loads_xml=loads)
    cycles, span = _trial_cycles(angles, grf_table, files=files, window=window, config=config)
    common = dict(
        model=model, coordinates=ik, external_loads=loads, grf=grf_path, lowpass_hz=config.lowpass_hz
    )
    moments, so, contact = _run_opensim(common, span=span, config=config, notes=notes)
    groups, hip_muscles = _muscle_groups(so.muscle_forces, model=model)
    target_columns, target_units = target_layout(
        side="right", hips="both", forces=True, moments=True, contact=contact is not None
    )
    labels = TrialLabels(
        dataset=None, quality=pd.DataFrame(), moments=moments, so=so, groups=groups, contact=contact
    )
    person = dict(subject_id=subject, cohort=cohort, mass_kg=mass, height_m=height, source=str(ik))
    xs, ys, metas, records = _label_cycles(
        cycles, angles, labels, person=person, trial=trial, cadence=cadence, columns=target_columns,
        qa=dict(grf=grf_table, files=files, hip_muscles=hip_muscles), config=config,
    )  # fmt: skip
    labels.quality = pd.DataFrame(records)
    if xs:
        labels.dataset = GaitDataset(
            X=np.stack(xs), Y=np.stack(ys), input_columns=tuple(angles.columns),
            target_columns=target_columns, input_units=("deg",) * len(angles.columns),
            target_units=target_units, meta=pd.DataFrame(metas),
            attrs=dict(
                name=f"gait2hip labels: {trial}", generator="gait2hip.sim.label", simulated=False,
                solver=so.solver, lowpass_hz=config.lowpass_hz, notes=notes,
            ),
        )  # fmt: skip
    return labels


def _label_cycles(
    cycles: list[GaitCycle],
    angles: pd.DataFrame,
    labels: TrialLabels,
    *,
    person: dict,
    trial: str,
    cadence: str | float | None,
    columns: tuple[str, ...],
    qa: dict,
    config: LabelConfig,
) -> tuple[list, list, list, list]:
    """Inputs, targets, metadata of the kept cycles and every cycle's QA record.

    ``person``: subject_id, cohort, mass_kg, height_m, source of the metadata; ``qa``: the GRF
    table, its ``files`` (``file``, ``grf_file``, ``loads_xml``) and the hip muscles.
    """
    so, moments = labels.so, labels.moments
    reserves = so.reserve_by_coordinate()
    mass, height, files = person["mass_kg"], person["height_m"], qa["files"]
    xs, ys, metas, records = [], [], [], []
    counters = {"right": 0, "left": 0}
    for cycle in cycles:
        counters[cycle.side] += 1
        cycle_id = f"{trial}_{cycle.side[0].upper()}{counters[cycle.side]}"
        support = grf_support_fraction(
            qa["grf"], cycle, mass_kg=mass, file=files["grf_file"], loads_xml=files["loads_xml"]
        )
        record = cycle_quality(
            moments=moments, start=cycle.start, end=cycle.end, mass_kg=mass, height_m=height,
            reserves=reserves, activations=so.activations, hip_muscles=qa["hip_muscles"],
            grf_support_bw=support, thresholds=config.thresholds,
        )  # fmt: skip
        record = {"subject_id": person["subject_id"], "trial_id": cycle_id, "side": cycle.side, **record}
        x = time_normalize(
            angles.index.to_numpy(), angles.to_numpy(), cycle.start, cycle.end, N_POINTS, file=files["file"]
        )
        y = _cycle_targets(
            cycle, groups=labels.groups, moments=moments, contact=labels.contact, columns=columns
        )
        if not (np.isfinite(x).all() and np.isfinite(y).all()) and not record["flagged"]:
            record.update(flagged=True, flags="non_finite", reasons="non-finite labels")
        records.append(record)
        if record["flagged"] and config.exclude_flagged:
            continue
        label, spm = _cadence(cadence, cycle.duration)
        xs.append(x)
        ys.append(y)
        metas.append(
            dict(
                subject_id=person["subject_id"], cohort=person["cohort"], cadence_label=label,
                cadence_spm=spm, trial_id=cycle_id, side=cycle.side, mass_kg=mass, height_m=height,
                source=person["source"], stride_time_s=cycle.duration,
            )
        )  # fmt: skip
    return xs, ys, metas, records


def _check_files(model: Path, ik: Path, loads: Path, grf: str | Path | None) -> Path:
    """Every input file exists; returns the GRF file (given, or the loads file's ``<datafile>``)."""
    for path, what in ((model, "model"), (ik, "IK kinematics"), (loads, "external loads")):
        if not path.is_file():
            raise Gait2HipInputError(f"{what} file not found.", file=path, fix="check the path.")
    grf_path = _grf_file(loads, None if grf is None else Path(grf))
    if not grf_path.is_file():
        raise Gait2HipInputError("GRF file not found.", file=grf_path, fix="check the path (--grf).")
    return grf_path


def _trial_cycles(
    angles: pd.DataFrame, grf: pd.DataFrame, *, files: dict, window: tuple | None, config: LabelConfig
) -> tuple[list[GaitCycle], tuple[float, float]]:
    """The complete cycles inside both recordings (and ``window``), and the span to label.

    ``files`` names the IK file, the GRF file and the loads XML (``file``, ``grf_file``,
    ``loads_xml`` of :func:`~gait2hip.data.cycles.find_cycles`).
    """
    t_min = max(float(angles.index[0]), float(grf.index[0]))
    t_max = min(float(angles.index[-1]), float(grf.index[-1]))
    if window is not None:
        t_min, t_max = max(t_min, float(window[0])), min(t_max, float(window[1]))
    cycles: list[GaitCycle] = [
        c
        for c in find_cycles(
            angles, grf=grf, sides=tuple(config.sides), t_min=t_min, t_max=t_max,
            threshold=config.grf_threshold_n, **files,
        )
    ]  # fmt: skip
    # Both kinematics and GRF must cover the span (ID beyond the GRF data would be wrong).
    span = (
        max(t_min, min(c.start for c in cycles) - MARGIN_S),
        min(t_max, max(c.end for c in cycles) + MARGIN_S),
    )
    return cycles, span


def _read_angles(ik: Path) -> tuple[pd.DataFrame, list[str]]:
    """The 10 input angles of the IK file and the notes its conversion raised (knee sign, units)."""
    storage = read_storage(ik)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        angles = angles_from_table(storage.data, in_degrees=storage.header.in_degrees, file=ik)
    return angles, [str(w.message) for w in caught]


def _run_opensim(
    common: dict, *, span: tuple[float, float], config: LabelConfig, notes: list[str]
) -> tuple[pd.DataFrame, SOResult, pd.DataFrame | None]:
    """Inverse dynamics, static optimisation and the hip contact force over ``span``.

    ``common`` holds the model, coordinates, loads, GRF file and filter. A model without the
    hip joints gets no contact force (None), with a note appended to ``notes``.
    """
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.joint_reaction import MissingHipJointError, hip_contact_forces
    from gait2hip.sim.static_optimization import run_static_optimization

    moments = run_inverse_dynamics(time_range=span, **common)
    so = run_static_optimization(time_range=span, solver=config.solver, reserves=config.reserves, **common)
    try:
        contact = hip_contact_forces(
            forces=so.forces, reserves=config.reserves, kinematics=so.info.get("kinematics"), **common
        )
    except MissingHipJointError as exc:  # another model: label forces and moments only
        contact = None
        notes.append(f"no hip contact force: {exc.problem}")
    return moments, so, contact


def _muscle_groups(forces: pd.DataFrame, *, model: Path) -> tuple[pd.DataFrame, list[str]]:
    """Both hips' muscle-group forces (right groups, then left) and the hip muscles behind them."""
    mapping_r = choose_mapping(list(forces.columns), side="right", file=model)
    mapping_l = choose_mapping(list(forces.columns), side="left", file=model)
    groups = pd.concat([aggregate_muscles(forces, mapping_r), aggregate_muscles(forces, mapping_l)], axis=1)
    hip_muscles = [m for table in (mapping_r, mapping_l) for muscles in table.values() for m in muscles]
    return groups, hip_muscles


def _cycle_targets(
    cycle: GaitCycle,
    *,
    groups: pd.DataFrame,
    moments: pd.DataFrame,
    contact: pd.DataFrame | None,
    columns: tuple[str, ...],
) -> np.ndarray:
    """One cycle's targets [N_POINTS, len(columns)]: group forces, moments, contact, time-normalised."""
    group_values = time_normalize(
        groups.index.to_numpy(), groups.to_numpy(), cycle.start, cycle.end, N_POINTS
    )
    # Muscles only pull; the cubic resampling can undershoot by ~1 N next to a near-zero force.
    group_values = np.maximum(group_values, 0.0)
    moment_values = time_normalize(
        moments.index.to_numpy(), moments[list(MOMENTS_R + MOMENTS_L)].to_numpy(), cycle.start, cycle.end,
        N_POINTS,
    )  # fmt: skip
    by_name = dict(zip(groups.columns, group_values.T, strict=True))
    by_name.update(zip(MOMENTS_R + MOMENTS_L, moment_values.T, strict=True))
    if contact is not None:
        contact_values = time_normalize(
            contact.index.to_numpy(), contact.to_numpy(), cycle.start, cycle.end, N_POINTS
        )
        by_name.update(zip(contact.columns, contact_values.T, strict=True))
    return np.column_stack([by_name[c] for c in columns])


def write_trial_outputs(labels: TrialLabels, folder: str | Path, *, trial: str) -> list[Path]:
    """OpenSim-format .sto files of one trial: ID moments, SO forces/activations, group forces and
    the hip contact force (``_hip_contact.sto``, N; the lab-folder ``contact`` file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [
        write_storage(folder / f"{trial}_id.sto", labels.moments, name="Inverse Dynamics Generalized Forces"),
        write_storage(folder / f"{trial}_so_force.sto", labels.so.forces, name="Static Optimization Forces"),
        write_storage(
            folder / f"{trial}_so_activation.sto",
            labels.so.activations,
            name="Static Optimization Activations",
        ),
        write_storage(folder / f"{trial}_hip_forces.sto", labels.groups, name="Hip muscle-group forces (N)"),
    ]
    if labels.contact is not None:
        written.append(
            write_storage(
                folder / f"{trial}_hip_contact.sto",
                labels.contact,
                name="Hip joint contact force on femur (N)",
            )
        )
    return written


def lab_manifest_row(
    *, labels: TrialLabels, folder: Path, out: Path, trial: str, ik: Path, grf: Path | None, loads: Path
) -> dict:
    """One row of OUT/manifest.csv in :mod:`gait2hip.data.lab` format (paths relative to OUT)."""
    meta = labels.quality.iloc[0] if len(labels.quality) else {}

    def relative(path: Path) -> str:
        return os.path.relpath(Path(path).resolve(), Path(out).resolve())

    return {
        "subject": meta.get("subject_id", ""),
        "mass_kg": meta.get("mass_kg", ""),
        "height_m": meta.get("height_m", ""),
        "trial": trial,
        "ik": relative(ik),
        "id": relative(folder / f"{trial}_id.sto"),
        "forces": relative(folder / f"{trial}_so_force.sto"),
        "contact": relative(folder / f"{trial}_hip_contact.sto") if labels.contact is not None else "",
        "grf": relative(grf) if grf is not None else "",
        "loads": relative(loads),
    }


def write_lab_manifest(rows: list[dict], out: Path) -> Path:
    """OUT/manifest.csv: the labelled trials as a lab folder (``gait2hip data inspect OUT``)."""
    path = Path(out) / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def write_quality(
    records: pd.DataFrame, folder: str | Path, *, thresholds: QualityThresholds, exclude_flagged: bool = True
) -> tuple[Path, Path]:
    """``qa.csv`` (one row per cycle) and ``qa.json`` (thresholds, counts, records, and whether
    flagged cycles were left out of the dataset — lab-folder loading follows the same rule)."""
    folder = Path(folder)
    csv = folder / "qa.csv"
    records.to_csv(csv, index=False, float_format="%.6g")
    payload = {
        "thresholds": thresholds_dict(thresholds),
        "exclude_flagged": bool(exclude_flagged),
        "summary": quality_summary(records),
        "reference": "Hicks et al. 2015, J Biomech Eng 137(2):020905 (see gait2hip.sim.quality)",
        "cycles": json.loads(records.to_json(orient="records")),
    }
    path = folder / "qa.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True))
    return csv, path
