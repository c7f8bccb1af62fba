"""The embedded REAL dataset ``fukuchi2018``: conversion from the shared extract, and loading.

Source: Fukuchi, C. A., Fukuchi, R. K., & Duarte, M. (2018). A public dataset of overground and
treadmill walking kinematics and kinetics in healthy individuals. PeerJ 6:e4640,
doi:10.7717/peerj.4640; data CC BY 4.0. The shared folder ``real/fukuchi2018`` holds verbatim
column extracts: per subject (WBDS01–30) and overground condition (S slow, C comfortable,
F fast), ONE MEAN gait cycle at 101 points — joint angles (deg, Visual3D X/Y/Z) and hip
moments (Nm/kg, X/Y/Z) plus vertical GRF (N/kg), each side on its own cycle.

What :func:`convert` makes of them (see ``resources/real/DATACARD.md``):

* two samples per file pair, one per leg: the leg's own cycle, its 5 angles in the ``_r``
  input slots, the other leg's 5 angles shifted into this cycle (by that leg's heel strike,
  estimated per file from the two vertical GRFs, :func:`~gait2hip.data.conventions.contralateral_heel_strike`)
  in the ``_l`` slots — the right-leg frame the models expect;
* targets: that leg's 3 hip moments in Nm/kg with OpenSim signs (``MOMENTS_R`` names). No
  muscle forces exist for these people: the force columns are ABSENT;
* mapping :data:`~gait2hip.data.conventions.FUKUCHI_VISUAL3D` (established from data);
* missing values: one missing sample is filled (an inner one linearly; the first or last
  from its twin at the other end, 0 % and 100 % being the same event of successive strides)
  and the repair is recorded in ``attrs['notes']``; a channel missing more is not passed on:
  the cycles needing it are dropped, with the reason in ``attrs['notes']``;
* body mass and height are not in the extract (the moments are already per kg):
  ``mass_kg`` and ``height_m`` are NaN, targets stay in Nm/kg.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R
from gait2hip.data.conventions import (
    FUKUCHI_VISUAL3D,
    HIP_MOMENTS,
    LEG_ANGLES,
    contralateral_heel_strike,
    cycle_inputs,
    hip_moments,
    joint_xyz,
    leg_angles,
)
from gait2hip.data.dataset import GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import RESOURCES

NAME = "fukuchi2018"
#: Where the embedded dataset is installed.
EMBEDDED_PATH = RESOURCES / "real" / "fukuchi2018.npz"
N_POINTS = 101
CONDITIONS: dict[str, str] = {"S": "slow", "C": "comfortable", "F": "fast"}
#: Condition → gait2hip cadence label (nominal: the extract carries no speed or cadence).
CADENCE_LABEL: dict[str, str] = {"S": "slow", "C": "med", "F": "fast"}
SIDE_LETTER = {"right": "R", "left": "L"}
FILE_PATTERN = re.compile(r"^WBDS(?P<subject>\d{2})walkO(?P<condition>[SCF])(?P<kind>ang|knt)\.tsv$")
ANG_COLUMNS = ("Time", *(f"{s}{j}Angle{a}" for j in ("Hip", "Knee", "Ankle") for s in "RL" for a in "XYZ"))
KNT_COLUMNS = ("Time", *(f"{s}HipMoment{a}" for s in "RL" for a in "XYZ"), "RGRFY", "LGRFY")
CITATION = (
    "Fukuchi, C. A., Fukuchi, R. K., & Duarte, M. (2018). A public dataset of overground and treadmill "
    "walking kinematics and kinetics in healthy individuals. PeerJ 6:e4640. doi:10.7717/peerj.4640"
)
LICENSE = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"


@dataclass(frozen=True)
class FilePair:
    """The angle and kinetics files of one subject and condition."""

    subject: str
    condition: str
    ang: Path
    knt: Path

    @property
    def trial(self) -> str:
        return f"WBDS{self.subject}walkO{self.condition}"


def find_files(folder: str | Path) -> list[FilePair]:
    """Every ``WBDS<SS>walkO<C>{ang,knt}.tsv`` pair in ``folder``, sorted by subject and condition."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Gait2HipInputError(
            "the Fukuchi 2018 folder was not found.",
            file=folder,
            fix="pass --shared DIR (the folder holding real/fukuchi2018) or set GAIT2HIP_SHARED.",
        )
    found: dict[tuple[str, str], dict[str, Path]] = {}
    for path in folder.iterdir():
        match = FILE_PATTERN.match(path.name)
        if match:
            found.setdefault((match["subject"], match["condition"]), {})[match["kind"]] = path
    if not found:
        raise Gait2HipInputError(
            "no WBDS<subject>walkO<S|C|F>{ang,knt}.tsv files here.",
            file=folder,
            fix="point at shared/real/fukuchi2018 (see its README.txt).",
        )
    pairs = []
    order = list(CONDITIONS)
    for (subject, condition), kinds in sorted(
        found.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))
    ):
        for kind in ("ang", "knt"):
            if kind not in kinds:
                other = next(iter(kinds.values()))
                raise Gait2HipInputError(
                    f"the {kind} file of this subject and condition is missing.",
                    file=other.with_name(f"WBDS{subject}walkO{condition}{kind}.tsv"),
                    fix=f"restore it beside {other.name}, or remove {other.name} to leave the condition out.",
                )
        pairs.append(FilePair(subject, condition, kinds["ang"], kinds["knt"]))
    return pairs


def read_table(path: str | Path, *, columns: tuple[str, ...], n_points: int = N_POINTS) -> pd.DataFrame:
    """One extract file, checked: the named columns, ``n_points`` rows, Time 0..100 %, numbers or NaN."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", comment="#")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise Gait2HipInputError(
            f"cannot read the table ({str(exc).splitlines()[0]}).",
            file=path,
            fix="give the tab-separated extract file unmodified (a '# source:' line, then a header row).",
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    for column in columns:
        if column not in table.columns:
            raise Gait2HipInputError(
                "column missing.",
                file=path,
                column=column,
                fix=f"the extract's {'angle' if 'Angle' in columns[1] else 'kinetics'} files have the "
                f"columns {' '.join(columns)}.",
            )
    table = table[list(columns)]
    if len(table) != n_points:
        raise Gait2HipInputError(
            f"{len(table)} rows; a mean gait cycle of the extract has {n_points} (0..100 %).",
            file=path,
            column="Time",
            fix="give the complete file.",
        )
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce")
        text = pd.Series([str(v).strip().lower() for v in table[column]], index=table.index)
        bad = values.isna() & ~text.isin(("nan", "", "none"))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise Gait2HipInputError(
                f"'{table[column].iloc[row]}' in row {row} is not a number.",
                file=path,
                column=column,
                fix="numbers (any format, e.g. 5.78241e-19) or NaN only.",
            )
        table[column] = values.astype(float)
    expected = np.linspace(0.0, 100.0, n_points)
    if not np.allclose(table["Time"].to_numpy(), expected, atol=1e-6):
        raise Gait2HipInputError(
            "Time must run 0, 1, ..., 100 (% of the gait cycle).",
            file=path,
            column="Time",
            fix="give the time-normalised extract, not a time series in seconds.",
        )
    return table


def repair(values: np.ndarray, *, label: str, notes: list[str]) -> np.ndarray | None:
    """Fill ONE missing sample (inner: linear; first/last: its twin at the other end), or None.

    A channel with more than one missing sample, or whose missing end has no finite twin,
    returns None (the caller drops what needs it). Every fill or refusal is appended to
    ``notes`` naming ``label`` (file and column).
    """
    values = np.asarray(values, dtype=float).copy()
    missing = np.flatnonzero(~np.isfinite(values))
    if missing.size == 0:
        return values
    last = len(values) - 1
    if missing.size > 1:
        notes.append(f"{label}: {missing.size} of {len(values)} samples missing — not usable")
        return None
    i = int(missing[0])
    if i in (0, last):
        twin = last - i
        values[i] = values[twin]
        notes.append(
            f"{label}: sample {i} % missing — filled with the {twin} % value (same heel-strike event)"
        )
    else:
        values[i] = 0.5 * (values[i - 1] + values[i + 1])
        notes.append(f"{label}: sample {i} % missing — filled by linear interpolation")
    return values


def _side_data(
    pair: FilePair, ang: pd.DataFrame, knt: pd.DataFrame, side: str, notes: list[str]
) -> dict[str, dict[str, np.ndarray] | np.ndarray | None]:
    """One leg of one file pair: its mapped angles, moments and vertical GRF (None where unusable)."""
    letter = SIDE_LETTER[side]

    def channels(table: pd.DataFrame, path: Path, names: list[str]) -> dict[str, np.ndarray] | None:
        out = {}
        for name in names:
            fixed = repair(table[name].to_numpy(), label=f"{path.name} {name}", notes=notes)
            if fixed is None:
                return None
            out[name] = fixed
        return out

    angle_cols = [f"{letter}{j}Angle{a}" for j in ("Hip", "Knee", "Ankle") for a in "XYZ"]
    moment_cols = [f"{letter}HipMoment{a}" for a in "XYZ"]
    raw_angles = channels(ang, pair.ang, angle_cols)
    raw_moments = channels(knt, pair.knt, moment_cols)
    grf = channels(knt, pair.knt, [f"{letter}GRFY"])
    angles = moments = None
    if raw_angles is not None:
        xyz = {
            joint: joint_xyz(
                raw_angles, side=side, joint=joint, convention=FUKUCHI_VISUAL3D, source=str(pair.ang)
            )
            for joint in ("hip", "knee", "ankle")
        }
        angles = leg_angles(xyz, side=side, convention=FUKUCHI_VISUAL3D, source=str(pair.ang))
    if raw_moments is not None:
        xyz = joint_xyz(
            raw_moments,
            side=side,
            joint="hip",
            convention=FUKUCHI_VISUAL3D,
            kind="moment",
            source=str(pair.knt),
        )
        moments = hip_moments(xyz, side=side, convention=FUKUCHI_VISUAL3D, source=str(pair.knt))
    return {"angles": angles, "moments": moments, "grf": None if grf is None else grf[f"{letter}GRFY"]}


def convert(folder: str | Path) -> GaitDataset:
    """The ``fukuchi2018`` dataset from the shared extract folder (see the module docstring)."""
    folder = Path(folder)
    pairs = find_files(folder)
    X, Y, rows = [], [], []
    notes: list[str] = []
    shifts: dict[str, float] = {}
    for pair in pairs:
        ang = read_table(pair.ang, columns=ANG_COLUMNS)
        knt = read_table(pair.knt, columns=KNT_COLUMNS)
        legs = {side: _side_data(pair, ang, knt, side, notes) for side in ("right", "left")}
        for side, other in (("right", "left"), ("left", "right")):
            own, opposite = legs[side], legs[other]
            trial = f"{pair.trial}_{side}"
            lacking = [
                what
                for what, value in (
                    (f"{side} angles", own["angles"]),
                    (f"{side} hip moments", own["moments"]),
                    (f"{other} angles", opposite["angles"]),
                    (f"{side} vertical GRF", own["grf"]),
                    (f"{other} vertical GRF", opposite["grf"]),
                )
                if value is None
            ]
            if lacking:
                notes.append(f"{trial}: cycle dropped — {', '.join(lacking)} not usable")
                continue
            shift = contralateral_heel_strike(own["grf"], opposite["grf"])
            shifts[trial] = shift
            X.append(cycle_inputs(own["angles"], opposite["angles"], other_heel_strike_percent=shift))
            Y.append(np.stack([own["moments"][m] for m in HIP_MOMENTS], axis=1))
            rows.append(
                dict(
                    subject_id=f"WBDS{pair.subject}",
                    cohort="healthy",
                    cadence_label=CADENCE_LABEL[pair.condition],
                    cadence_spm=np.nan,
                    trial_id=trial,
                    side=side,
                    mass_kg=np.nan,
                    height_m=np.nan,
                    source=f"{pair.ang.name}+{pair.knt.name}",
                    stride_time_s=np.nan,
                )
            )
    if not X:
        raise Gait2HipInputError("no usable cycle in the folder.", file=folder, fix="check the files.")
    values = np.array(list(shifts.values()))
    attrs = dict(
        name=NAME,
        description="REAL walking: one mean gait cycle per subject, overground condition and leg "
        "(Fukuchi, Fukuchi & Duarte 2018), hip moments only (no muscle forces exist)",
        simulated=False,
        citation=CITATION,
        license=LICENSE,
        source="shared/real/fukuchi2018 (verbatim column extracts; see its README.txt)",
        conditions={
            c: f"overground {name}, cadence label '{CADENCE_LABEL[c]}'" for c, name in CONDITIONS.items()
        },
        convention=FUKUCHI_VISUAL3D.name,
        convention_mapping=[list(r) for r in FUKUCHI_VISUAL3D.describe()],
        contralateral_heel_strike_percent=shifts,
        contralateral_heel_strike_summary=dict(
            mean=float(values.mean()),
            sd=float(values.std(ddof=1)),
            min=float(values.min()),
            max=float(values.max()),
        ),
        targets_note="hip moments only, Nm/kg, OpenSim generalized-force signs; muscle-force columns absent",
        mass_note="body mass and height are not in the extract (moments are already per kg): NaN",
        notes=notes,
        regenerate="gait2hip data fukuchi2018 --shared SHARED --out gait2hip/resources/real/fukuchi2018.npz",
    )
    return GaitDataset(
        X=np.stack(X),
        Y=np.stack(Y),
        input_columns=INPUT_ANGLES,
        target_columns=MOMENTS_R,
        input_units=("deg",) * len(INPUT_ANGLES),
        target_units=("Nm/kg",) * len(MOMENTS_R),
        meta=pd.DataFrame(rows),
        attrs=attrs,
    )


def embedded_path(*, required: bool = True) -> Path:
    """The embedded ``fukuchi2018.npz``; a clear error when it is missing and ``required``."""
    if required and not EMBEDDED_PATH.is_file():
        raise Gait2HipInputError(
            "the embedded fukuchi2018 dataset is missing.",
            file=EMBEDDED_PATH,
            fix="regenerate it: gait2hip data fukuchi2018 --shared SHARED --out "
            "gait2hip/resources/real/fukuchi2018.npz",
        )
    return EMBEDDED_PATH


def load_fukuchi2018() -> GaitDataset:
    """The embedded real dataset (moments only, both legs, 3 conditions)."""
    return GaitDataset.load(embedded_path())


__all__ = [
    "CITATION",
    "EMBEDDED_PATH",
    "LEG_ANGLES",
    "LICENSE",
    "FilePair",
    "convert",
    "embedded_path",
    "find_files",
    "load_fukuchi2018",
    "read_table",
    "repair",
]
