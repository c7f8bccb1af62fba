"""A lab's own OpenSim results → a GaitDataset of time-normalised gait cycles.

Folder layout: any files, plus ``manifest.csv`` with one row per trial. Paths are relative
to the folder.

==============  ========  ====================================================================
column          required  meaning
==============  ========  ====================================================================
subject         yes       subject id
mass_kg         yes       body mass, kg (> 0)
height_m        no        height, m
cohort          no        e.g. healthy / patient (default 'lab')
cadence         no        'slow' / 'med' / 'fast', or steps/min (default: measured, 120 / stride)
ik              yes       IK coordinates .mot/.sto (names or Moco state paths; deg or rad)
id              one of    inverse-dynamics .sto (``hip_flexion_r_moment`` ...): the 3 hip moments
forces          id/forces muscle forces .sto (static optimisation ``_force.sto`` or CMC
                          ``_Actuation_force.sto``): aggregated into the 14 groups
contact         no        hip joint contact force .sto (N): ``gait2hip label``'s ``_hip_contact.sto``
                          (``CONTACT_R + CONTACT_L`` columns) or OpenSim JointReaction
                          ``_ReactionLoads.sto`` with ``hip_r_on_femur_r_in_femur_r_f{x,y,z}`` and
                          ``..._in_pelvis_f{x,y,z}`` (both hips); adds the ``contact`` target group
events          no        C3D with the lab's marked gait events: heel strikes from its ``Foot Strike``
                          events (first choice; needs ezc3d)
grf             no        GRF .mot: heel strikes from the vertical force (else from kinematics)
loads           no        ExternalLoads .xml telling which GRF columns are which foot (default:
                          ``<grf stem>.xml`` beside the GRF file when present)
trial           no        trial id (default: the IK file's stem)
start, end      no        s: only cycles inside this window (both ends are heel strikes of
                          cycles found in it; not a forced window)
==============  ========  ====================================================================

Every trial must give the same targets: all rows with ``forces`` (14 groups), all with ``id``
(3 moments), or all with both (17); ``contact`` likewise all or none (7 columns per hip, after
the other targets: ``|F|``, femur-frame x/y/z, pelvis-frame x/y/z, in N).

Sides. The release's targets are the RIGHT hip. ``side='right'`` (default) keeps right-leg
cycles with the right-hip targets (``MUSCLE_GROUPS_R`` + ``MOMENTS_R``); ``side='left'`` keeps
left-leg cycles with the left-hip targets under their own left names (``MUSCLE_GROUPS_L`` +
``MOMENTS_L``, muscles grouped by the mirrored table). We never relabel left data with right
names: a dataset's column names always say which hip it is, and ``meta['side']`` says which
leg's heel strikes bound the cycle. Inputs are always the 10 ``INPUT_ANGLES`` as recorded.
``hips='both'`` gives every cycle both hips' targets, right then left
(``MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L``, the simulated cohort's layout,
from which ``gait2hip.train`` builds mirrored left-hip samples itself).

Muscle groups: the built-in tables in :mod:`gait2hip.data.columns` cover the Rajagopal
(2016 / Lai-Uhlrich 2023) and gait2392 models; the model is recognised from the force file's
columns. Put ``muscle_groups.csv`` (columns ``group,muscle``; right-side names, the left side is
mirrored) in the folder, or pass ``mapping_csv``, to use another model.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gait2hip.data.angles import read_angles
from gait2hip.data.columns import (
    CONTACT_L,
    CONTACT_R,
    INPUT_ANGLES,
    MOMENTS_L,
    MOMENTS_R,
    MUSCLE_GROUPS_L,
    MUSCLE_GROUPS_R,
)
from gait2hip.data.cycles import GaitCycle, find_cycles, grf_support_fraction, time_normalize
from gait2hip.data.dataset import GaitDataset
from gait2hip.data.lab_manifest import MANIFEST, cadence_of, read_manifest, text
from gait2hip.data.lab_qa import drop_qa_flagged
from gait2hip.data.muscle_mapping import MAPPING_CSV, aggregate_muscles, choose_mapping, read_mapping_csv
from gait2hip.errors import Gait2HipInputError, NoUsableCycleError
from gait2hip.io.opensim import read_storage

#: Cycles whose total vertical GRF drops below this fraction of body weight are dropped.
MIN_GRF_SUPPORT = 0.3


# ------------------------------------------------------------------ trials
def _span(table: pd.DataFrame) -> tuple[float, float]:
    return float(table.index[0]), float(table.index[-1])


def _moments(id_table: pd.DataFrame, hip: str, *, file: Path) -> pd.DataFrame:
    names = MOMENTS_R if hip == "right" else MOMENTS_L
    for name in names:
        if name not in id_table.columns:
            spare = [str(c) for c in id_table.columns if c not in MOMENTS_R + MOMENTS_L]
            close = difflib.get_close_matches(name, spare, n=1, cutoff=0.6)
            raise Gait2HipInputError(
                "hip moment column missing from the inverse-dynamics file.",
                file=file,
                column=name,
                fix=(f"closest column: '{close[0]}'. " if close else "")
                + "give OpenSim InverseDynamicsTool output (columns <coordinate>_moment).",
            )
    return id_table[list(names)]


def target_layout(
    *,
    side: Literal["right", "left"],
    hips: Literal["own", "both"],
    forces: bool,
    moments: bool,
    contact: bool = False,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Target columns and units of a lab dataset: per hip, the 14 groups (N) then 3 moments (N m);
    with ``contact``, then the hip contact force (N) of each hip (``CONTACT_R`` / ``CONTACT_L``).

    ``hips='own'``: the hip of ``side``; ``'both'``: right hip then left hip (the layout of
    gait2hip's simulated cohort, ``MUSCLE_GROUPS_R + MOMENTS_R + MUSCLE_GROUPS_L + MOMENTS_L``
    [``+ CONTACT_R + CONTACT_L``]). Contact columns come last so the older columns keep their
    positions.
    """
    order = (side,) if hips == "own" else ("right", "left")
    columns: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    for hip in order:
        if forces:
            columns += MUSCLE_GROUPS_R if hip == "right" else MUSCLE_GROUPS_L
            units += ("N",) * len(MUSCLE_GROUPS_R)
        if moments:
            columns += MOMENTS_R if hip == "right" else MOMENTS_L
            units += ("Nm",) * len(MOMENTS_R)
    if contact:
        for hip in order:
            columns += CONTACT_R if hip == "right" else CONTACT_L
            units += ("N",) * len(CONTACT_R)
    return columns, units


def contact_from_table(table: pd.DataFrame, hip: str, *, file: Path | None = None) -> pd.DataFrame:
    """One hip's contact columns (N) from a ``_hip_contact.sto`` or a JointReaction table.

    JointReaction columns ``<joint>_on_<femur>_in_<femur|pelvis>_f{x,y,z}`` are renamed; |F| is
    computed from the femur-frame components when the file does not give it.
    """
    names = CONTACT_R if hip == "right" else CONTACT_L
    if all(n in table.columns for n in names):
        return table[list(names)]
    s = "r" if hip == "right" else "l"
    renamed = {}
    for k, axis in enumerate("xyz"):
        for offset, frame in ((1, f"femur_{s}"), (4, "pelvis")):
            column = f"hip_{s}_on_femur_{s}_in_{frame}_f{axis}"
            if column not in table.columns:
                raise Gait2HipInputError(
                    "hip contact column missing.",
                    file=file,
                    column=names[offset + k],
                    fix=f"give gait2hip label's _hip_contact.sto, or OpenSim JointReaction output with "
                    f"'{column}' (hip_{s} on child, expressed in child and in parent).",
                )
            renamed[names[offset + k]] = table[column].to_numpy(dtype=float)
    out = pd.DataFrame(renamed, index=table.index)
    out[names[0]] = np.linalg.norm(out[list(names[1:4])].to_numpy(), axis=1)
    return out[list(names)]


def load_trial_cycles(
    *,
    ik: Path,
    side: Literal["right", "left"],
    hips: Literal["own", "both"] = "own",
    id_file: Path | None = None,
    forces_file: Path | None = None,
    contact_file: Path | None = None,
    grf_file: Path | None = None,
    loads_xml: Path | None = None,
    events_file: Path | None = None,
    window: tuple[float | None, float | None] = (None, None),
    mapping_r: Mapping | None = None,
    n_points: int = 101,
    mass_kg: float | None = None,
    min_support: float = MIN_GRF_SUPPORT,
) -> tuple[list[GaitCycle], np.ndarray, np.ndarray, list[str]]:
    """One trial → its cycles of ``side``, X [n, T, 10] degrees, Y [n, T, K], and notes.

    Y follows :func:`target_layout`: per hip, the 14 groups (N) if ``forces_file`` is given,
    then the 3 moments (N m) if ``id_file`` is given, then each hip's contact force (N) if
    ``contact_file`` is given. With a GRF file and ``mass_kg``, cycles
    during which the total vertical GRF falls below ``min_support`` × body weight (a foot off
    the force plates: see :func:`~gait2hip.data.cycles.grf_support_fraction`) are dropped, with
    a note.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        angles = read_angles(ik)
    notes.extend(str(w.message) for w in caught)
    hip_order = (side,) if hips == "own" else ("right", "left")
    targets = _target_tables(
        hip_order, id_file=id_file, forces_file=forces_file, contact_file=contact_file, mapping_r=mapping_r
    )
    spans = [_span(angles)] + [_span(table) for table, _ in targets]
    grf = None
    if grf_file is not None:
        grf = read_storage(grf_file).data
        spans.append(_span(grf))
    t_min = max([s[0] for s in spans] + ([window[0]] if window[0] is not None else []))
    t_max = min([s[1] for s in spans] + ([window[1]] if window[1] is not None else []))
    heel_strikes = None
    if events_file is not None:
        from gait2hip.io.c3d import c3d_heel_strikes

        heel_strikes = c3d_heel_strikes(events_file)
    elif grf is None:
        notes.append(f"{ik.name}: no GRF file, heel strikes estimated from kinematics (Zeni-style).")
    cycles = find_cycles(
        angles, grf=grf, sides=(side,), file=ik, grf_file=grf_file, loads_xml=loads_xml, t_min=t_min,
        t_max=t_max, heel_strikes=heel_strikes, events_file=events_file,
    )  # fmt: skip
    if grf is not None and mass_kg is not None:
        cycles = _supported_cycles(
            cycles, grf, mass_kg=mass_kg, min_support=min_support, side=side, notes=notes,
            files=(ik, grf_file, loads_xml),
        )  # fmt: skip
    time = angles.index.to_numpy(dtype=float)
    X, Y = [], []
    for cycle in cycles:
        X.append(time_normalize(time, angles.to_numpy(), cycle.start, cycle.end, n_points, file=ik))
        parts = [
            time_normalize(
                table.index.to_numpy(dtype=float),
                table.to_numpy(),
                cycle.start,
                cycle.end,
                n_points,
                file=file,
            )
            for table, file in targets
        ]
        Y.append(np.concatenate(parts, axis=1))
    return cycles, np.stack(X), np.stack(Y), notes


def _target_tables(
    hip_order: tuple[str, ...],
    *,
    id_file: Path | None,
    forces_file: Path | None,
    contact_file: Path | None,
    mapping_r: Mapping | None,
) -> list[tuple[pd.DataFrame, Path]]:
    """The target tables in column order (per hip: groups, moments; then contact), all finite."""
    id_table = read_storage(id_file).data if id_file is not None else None
    force_table = read_storage(forces_file).data if forces_file is not None else None
    targets: list[tuple[pd.DataFrame, Path]] = []  # in column order
    for hip in hip_order:
        if force_table is not None:
            mapping = choose_mapping(
                [str(c) for c in force_table.columns], side=hip, mapping_r=mapping_r, file=forces_file
            )
            used = force_table[[m for muscles in mapping.values() for m in muscles]]
            finite = np.isfinite(used.to_numpy(dtype=float))
            if not finite.all():
                raise Gait2HipInputError(
                    f"{int((~finite).sum())} NaN or infinite muscle force value(s).",
                    file=forces_file,
                    column=str(used.columns[int(finite.all(axis=0).argmin())]),
                    fix="repair the file (a failed optimisation frame?) or cut the trial.",
                )
            targets.append((aggregate_muscles(force_table, mapping), forces_file))
        if id_table is not None:
            targets.append((_moments(id_table, hip, file=id_file), id_file))
    if contact_file is not None:
        contact_table = read_storage(contact_file).data
        for hip in hip_order:
            targets.append((contact_from_table(contact_table, hip, file=contact_file), contact_file))
    for table, file in targets:
        values = table.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            column = str(table.columns[int(np.isfinite(values).all(axis=0).argmin())])
            raise Gait2HipInputError(
                "NaN or infinite values.", file=file, column=column, fix="repair the file."
            )
    return targets


def _supported_cycles(
    cycles: list[GaitCycle],
    grf: pd.DataFrame,
    *,
    mass_kg: float,
    min_support: float,
    files: tuple[Path, Path | None, Path | None],
    notes: list[str],
    side: str,
) -> list[GaitCycle]:
    """The cycles whose total vertical GRF never drops below ``min_support`` × body weight.

    ``files``: the IK file, GRF file and loads XML; each dropped cycle gets a note; none left
    is an error.
    """
    ik, grf_file, loads_xml = files
    kept = []
    for cycle in cycles:
        support = grf_support_fraction(grf, cycle, mass_kg=mass_kg, file=grf_file, loads_xml=loads_xml)
        if support < min_support:
            notes.append(
                f"{ik.name}: {cycle.side} cycle {cycle.start:.3f}-{cycle.end:.3f} s dropped: total "
                f"vertical GRF falls to {support:.2f} x body weight (a foot off the force plates)."
            )
        else:
            kept.append(cycle)
    if not kept:
        raise NoUsableCycleError(
            f"every {side} cycle has a foot off the force plates for part of it (total vertical GRF "
            f"falls below {min_support:g} x body weight), so its inverse dynamics would be wrong.",
            file=grf_file,
            fix="give trials where every foot contact of the cycle is on a force plate, or check "
            "mass_kg in the manifest.",
        )
    return kept


def load_lab_folder(
    folder: str | Path,
    *,
    side: Literal["right", "left"] = "right",
    hips: Literal["own", "both"] = "own",
    n_points: int = 101,
    mapping_csv: str | Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    respect_qa: bool = True,
) -> GaitDataset:
    """Every gait cycle of ``side`` in a lab folder (see the module docstring for the layout).

    Parameters
    ----------
    folder
        Folder holding ``manifest.csv`` and the files it names.
    side
        'right' (release-compatible right-hip targets) or 'left' (left-hip targets, left names).
    hips
        'own' (the hip of ``side``) or 'both' (right-hip then left-hip targets for every cycle,
        the layout of the simulated cohort that ``train``'s mirroring uses).
    n_points
        Points per cycle (101 = 0..100 %).
    mapping_csv
        ``group,muscle`` table overriding the built-in muscle groups (default:
        ``muscle_groups.csv`` in the folder when present).
    on_progress
        Called with (trials read, trials in the manifest) at the start and after each trial
        (the command line draws a progress bar from it).
    respect_qa
        When the folder holds ``qa.csv`` (written by ``gait2hip label``), leave out the cycles
        it flags (same trial and side, start within ``gait2hip.data.lab_qa.QA_MATCH_S``), as
        ``label`` left them out of its dataset — unless its ``qa.json`` says they were kept
        (``--keep-flagged``). ``attrs['qa_excluded']`` counts them and a note says why.

    Returns
    -------
    GaitDataset
        X in degrees (``INPUT_ANGLES``), Y in N (groups, contact) and N m (moments), one sample per
        cycle; ``attrs['notes']`` lists what was inferred (knee sign flips, kinematic events).
    """
    folder = Path(folder)
    if side not in ("right", "left"):
        raise Gait2HipInputError(f"unknown side '{side}'.", file=folder, fix="use 'right' or 'left'.")
    if hips not in ("own", "both"):
        raise Gait2HipInputError(f"unknown hips '{hips}'.", file=folder, fix="use 'own' or 'both'.")
    manifest = read_manifest(folder)
    if mapping_csv is None and (folder / MAPPING_CSV).is_file():
        mapping_csv = folder / MAPPING_CSV
    mapping_r = read_mapping_csv(mapping_csv) if mapping_csv is not None else None
    columns, units = target_layout(
        side=side,
        hips=hips,
        forces=bool(manifest["forces"].iloc[0]),
        moments=bool(manifest["id"].iloc[0]),
        contact=bool(manifest["contact"].iloc[0]),
    )
    X, Y, rows, notes, skipped = _read_trials(
        folder, manifest, side=side, hips=hips, mapping_r=mapping_r, n_points=n_points, report=on_progress
    )
    X, Y, rows, excluded = drop_qa_flagged(folder, X, Y, rows, respect_qa)
    if excluded:
        notes.append(
            f"{excluded} cycle(s) left out: flagged in qa.csv by gait2hip label (see its reasons column; "
            "load_lab_folder(respect_qa=False) keeps them)."
        )
    return GaitDataset(
        X=X, Y=Y, input_columns=INPUT_ANGLES, target_columns=columns,
        input_units=("deg",) * len(INPUT_ANGLES), target_units=units, meta=pd.DataFrame(rows),
        attrs=dict(
            name=folder.name, source="lab folder", simulated=False, side=side, hips=hips,
            notes=sorted(set(notes + skipped)), skipped_trials=skipped, path=str(folder),
            qa_excluded=excluded,
        ),
    )  # fmt: skip


def _read_trials(
    folder: Path, manifest: pd.DataFrame, *, side: str, hips: str, mapping_r, n_points: int, report
) -> tuple[np.ndarray, np.ndarray, list[dict], list[str], list[str]]:
    """Every manifest row's cycles, the notes, and one line per trial skipped for holding no usable
    cycle (unless no trial has one: then its error)."""
    X, Y, rows, notes, skipped = [], [], [], [], []
    errors: list[NoUsableCycleError] = []
    report = report or (lambda done, total: None)
    report(0, len(manifest))
    for number, row in enumerate(manifest.itertuples(index=False), start=2):
        try:
            cycles, x, y, trial_notes = load_trial_cycles(
                **_trial_files(folder, row), side=side, hips=hips, mapping_r=mapping_r, n_points=n_points,
                mass_kg=float(row.mass_kg),
            )  # fmt: skip
        except NoUsableCycleError as error:  # the other trials may still hold cycles
            errors.append(error)
            skipped.append(
                f"{MANIFEST} line {number} ({text(row.ik)}) skipped, no usable {side} cycle: {error}"
            )
        else:
            notes.extend(trial_notes)
            rows.extend(_cycle_meta(row, cycles, side=side, manifest=folder / MANIFEST, number=number))
            X.append(x)
            Y.append(y)
        report(len(X) + len(errors), len(manifest))
    if not X:
        raise errors[0]
    return np.concatenate(X), np.concatenate(Y), rows, notes, skipped


def _trial_files(folder: Path, row) -> dict:
    """A manifest row's files and window as :func:`load_trial_cycles` arguments (paths in ``folder``;
    the loads XML defaults to ``<grf stem>.xml`` beside the GRF file)."""

    def path_of(column: str) -> Path | None:
        value = text(getattr(row, column))
        return folder / value if value else None

    grf_file = path_of("grf")
    loads = path_of("loads")
    if loads is None and grf_file is not None and grf_file.with_suffix(".xml").is_file():
        loads = grf_file.with_suffix(".xml")
    return dict(
        ik=path_of("ik"), id_file=path_of("id"), forces_file=path_of("forces"),
        contact_file=path_of("contact"), grf_file=grf_file, loads_xml=loads, events_file=path_of("events"),
        window=tuple(float(v) if text(v) else None for v in (row.start, row.end)),
    )  # fmt: skip


def _cycle_meta(row, cycles: list[GaitCycle], *, side: str, manifest: Path, number: int) -> list[dict]:
    """One metadata row per cycle of a manifest row (``number``: its line in the manifest)."""
    trial = text(row.trial) or Path(text(row.ik)).stem
    rows = []
    for k, cycle in enumerate(cycles, start=1):
        label, spm = cadence_of(row.cadence, stride_s=cycle.duration, file=manifest, row=number)
        rows.append(
            dict(
                subject_id=text(row.subject),
                cohort=text(row.cohort) or "lab",
                cadence_label=label,
                cadence_spm=spm,
                trial_id=f"{trial}_{side[0].upper()}{k}",
                side=side,
                mass_kg=float(row.mass_kg),
                height_m=float(row.height_m) if text(row.height_m) else np.nan,
                source=f"{text(row.ik)} [{cycle.start:.3f}-{cycle.end:.3f} s, events: {cycle.method}]",
                stride_time_s=cycle.duration,
            )
        )
    return rows
