"""Lab angle / moment conventions (Visual3D, Plug-in Gait) → gait2hip's OpenSim names and signs.

gait2hip's inputs are the 10 OpenSim coordinates of ``INPUT_ANGLES`` in degrees (hip flexion,
adduction and internal rotation positive, knee FLEXION positive, ankle dorsiflexion positive;
the left leg with the same anatomical signs as the right), its moment targets the OpenSim
inverse-dynamics generalized forces of the hip (``MOMENTS_R``, same positive directions, Nm/kg).

Clinical software exports one 3-component (X, Y, Z) Cardan angle per joint and side
(Visual3D ``RHipAngle`` X/Y/Z, Plug-in Gait ``RHipAngles``), and the hip moment likewise.
Which component is which anatomical rotation, and its sign on each side, depends on the
lab's segment axes. A :class:`Convention` records it as data: for every gait2hip channel
and side, the source component (0 = X, 1 = Y, 2 = Z) and a sign (+1 / −1).

* :data:`FUKUCHI_VISUAL3D` was ESTABLISHED FROM DATA (Fukuchi, Fukuchi & Duarte 2018 mean
  cycles against van der Zee 2022 OpenSim IK / ID at a matching speed, and the OpenSim
  example trials; the evidence table is printed by ``gait2hip data fukuchi2018`` and kept in
  ``resources/real/DATACARD.md``). Z is the sagittal axis there; both sides are already
  expressed anatomically (the LEFT hip's X correlates +0.96…+0.98 with OpenSim adduction, so
  no left-side sign flip applies; a flip would be wrong).
* :data:`PLUGIN_GAIT` is the documented Vicon Plug-in Gait angle output (X flexion, Y
  adduction, Z internal rotation; knee X flexion; ankle X dorsiflexion; left side made
  anatomical by Plug-in Gait itself). It has NOT been checked against data in gait2hip yet:
  check it with :func:`mapping_evidence` on the first C3D trials. Its moments are left
  undefined until they are established from data the same way.

API: :func:`joint_xyz` reads a joint's X/Y/Z from a table (one column per component) or
from C3D model outputs (one 3-component point); :func:`leg_angles` and :func:`hip_moments`
apply a convention to one leg; :func:`trial_angles` gives the 10 inputs of a time series (C3D trial);
:func:`cycle_inputs` those of a per-leg mean cycle; :func:`mapping_evidence` checks a
convention against OpenSim-convention reference curves.

The contralateral leg: each side's exported curves run on that side's own cycle (its heel
strike at 0 %). gait2hip's 10 inputs of a cycle hold the OTHER leg on the SAME cycle, so the
other leg's curves are shifted by its heel strike's position in this cycle
(:func:`shift_cycle`; about 50 %, estimated by :func:`contralateral_heel_strike`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.errors import Gait2HipInputError

#: gait2hip channels of ONE leg, side-neutral names (``hip_flexion`` → ``hip_flexion_r`` / ``_l``).
LEG_ANGLES: tuple[str, ...] = ("hip_flexion", "hip_adduction", "hip_rotation", "knee_angle", "ankle_angle")
#: The hip moments, side-neutral (``hip_flexion_moment`` → ``hip_flexion_r_moment``).
HIP_MOMENTS: tuple[str, ...] = ("hip_flexion_moment", "hip_adduction_moment", "hip_rotation_moment")
#: Which joint's exported angle carries each channel.
JOINT_OF: dict[str, str] = {
    "hip_flexion": "hip",
    "hip_adduction": "hip",
    "hip_rotation": "hip",
    "knee_angle": "knee",
    "ankle_angle": "ankle",
}
SIDES = ("right", "left")
AXES = "XYZ"


@dataclass(frozen=True)
class Channel:
    """One gait2hip channel in a lab export: component ``axis`` (0 X, 1 Y, 2 Z) times ``sign``."""

    axis: int
    sign: float

    def __post_init__(self) -> None:
        if self.axis not in (0, 1, 2) or self.sign not in (1.0, -1.0):
            raise ValueError(f"invalid channel axis={self.axis} sign={self.sign}")

    def __str__(self) -> str:
        return ("+" if self.sign > 0 else "−") + AXES[self.axis]


def _same_both_sides(spec: Mapping[str, tuple[int, float]]) -> dict[str, dict[str, Channel]]:
    return {name: {side: Channel(axis, float(sign)) for side in SIDES} for name, (axis, sign) in spec.items()}


@dataclass(frozen=True)
class Convention:
    """How a lab's X/Y/Z joint angles (and hip moments) map onto gait2hip's channels.

    Attributes
    ----------
    name
        Short name ('fukuchi2018-visual3d', 'plug-in-gait').
    angles
        ``LEG_ANGLES`` name → side → :class:`Channel`.
    moments
        ``HIP_MOMENTS`` name → side → :class:`Channel`, or None when not established.
    moment_unit
        The unit of the exported moments ('Nm/kg').
    evidence
        Where the mapping comes from (data or documentation).
    """

    name: str
    angles: Mapping[str, Mapping[str, Channel]]
    moments: Mapping[str, Mapping[str, Channel]] | None = None
    moment_unit: str = "Nm/kg"
    evidence: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str, str, str]]:
        """Rows (channel, side, lab component, e.g. '+Z') of the mapping, for data cards."""
        rows = []
        for kind, table in (("angle", self.angles), ("moment", self.moments or {})):
            for name, sides in table.items():
                for side, channel in sides.items():
                    rows.append((kind, name, side, str(channel)))
        return rows


#: Fukuchi et al. (2018) Visual3D exports, established from data (see the module docstring).
FUKUCHI_VISUAL3D = Convention(
    name="fukuchi2018-visual3d",
    angles=_same_both_sides(
        {
            "hip_flexion": (2, +1),
            "hip_adduction": (0, +1),
            "hip_rotation": (1, -1),
            "knee_angle": (2, +1),
            "ankle_angle": (2, +1),
        }
    ),
    moments=_same_both_sides(
        {"hip_flexion_moment": (2, +1), "hip_adduction_moment": (0, -1), "hip_rotation_moment": (1, -1)}
    ),
    evidence="established from data: Fukuchi 2018 mean cycles vs van der Zee 2022 OpenSim IK/ID "
    "(matching speed) and the OpenSim example trials; see resources/real/DATACARD.md",
    labels={"angle": "{S}{J}Angle{A}", "moment": "{S}{J}Moment{A}"},
)

#: Vicon Plug-in Gait angle outputs as documented (NOT yet verified on data in gait2hip).
PLUGIN_GAIT = Convention(
    name="plug-in-gait",
    angles=_same_both_sides(
        {
            "hip_flexion": (0, +1),
            "hip_adduction": (1, +1),
            "hip_rotation": (2, +1),
            "knee_angle": (0, +1),
            "ankle_angle": (0, +1),
        }
    ),
    moments=None,
    evidence="Vicon Plug-in Gait reference guide (angles X flexion, Y adduction, Z internal rotation, "
    "knee X flexion, ankle X dorsiflexion; left side anatomical); not yet verified on data",
    labels={"angle": "{S}{J}Angles"},
)

_JOINT_LABEL = {"hip": "Hip", "knee": "Knee", "ankle": "Ankle"}


def _components(xyz: np.ndarray, *, what: str, source: str | None) -> np.ndarray:
    array = np.asarray(xyz, dtype=float)
    if array.ndim != 2 or array.shape[1] != 3:
        raise Gait2HipInputError(
            f"the {what} must be [time points, 3] (X, Y, Z components); got shape {array.shape}.",
            file=source,
            column=what,
            fix="give the three Cardan components of the joint angle / moment as columns X, Y, Z.",
        )
    return array


def leg_angles(
    xyz: Mapping[str, np.ndarray], *, side: str, convention: Convention, source: str | None = None
) -> dict[str, np.ndarray]:
    """One leg's 5 gait2hip angles from its exported hip, knee and ankle X/Y/Z angles.

    Parameters
    ----------
    xyz
        'hip', 'knee', 'ankle' → array [T, 3] of the X, Y, Z components in degrees.
    side
        'right' or 'left' (the leg these angles belong to).
    convention
        E.g. :data:`FUKUCHI_VISUAL3D`, :data:`PLUGIN_GAIT`.
    source
        The file, for error messages.

    Returns
    -------
    dict
        ``LEG_ANGLES`` name → [T] degrees, gait2hip sign (anatomical, same on both sides).
    """
    if side not in SIDES:
        raise Gait2HipInputError(f"unknown side '{side}'.", column="side", fix="use right or left.")
    out = {}
    for name in LEG_ANGLES:
        joint = JOINT_OF[name]
        if joint not in xyz:
            raise Gait2HipInputError(
                f"the {side} {joint} angle is missing.",
                file=source,
                column=_label(convention, "angle", side, joint),
                fix="give hip, knee and ankle X/Y/Z angles for both legs.",
            )
        channel = convention.angles[name][side]
        out[name] = (
            channel.sign
            * _components(xyz[joint], what=f"{side} {joint} angle", source=source)[:, channel.axis]
        )
    return out


def hip_moments(
    xyz: np.ndarray, *, side: str, convention: Convention, source: str | None = None
) -> dict[str, np.ndarray]:
    """One hip's 3 moments (gait2hip/OpenSim generalized-force signs) from its exported X/Y/Z moment."""
    if convention.moments is None:
        raise Gait2HipInputError(
            f"the '{convention.name}' convention has no established hip-moment mapping.",
            file=source,
            fix="establish it from data first (gait2hip.data.conventions.mapping_evidence) and give a "
            "Convention with moments.",
        )
    array = _components(xyz, what=f"{side} hip moment", source=source)
    return {
        name: convention.moments[name][side].sign * array[:, convention.moments[name][side].axis]
        for name in HIP_MOMENTS
    }


def _label(convention: Convention, kind: str, side: str, joint: str, axis: str = "") -> str:
    template = convention.labels.get(kind, "{S}{J}" + kind.title() + "{A}")
    return template.format(S=side[0].upper(), J=_JOINT_LABEL[joint], A=axis)


def joint_xyz(
    table: Mapping[str, np.ndarray],
    *,
    side: str,
    joint: str,
    convention: Convention,
    kind: str = "angle",
    source: str | None = None,
) -> np.ndarray:
    """[T, 3] X/Y/Z components of one joint, read the way ``convention.labels[kind]`` names them.

    A label with an axis (``{A}``; Fukuchi / Visual3D: ``RHipAngleX``, ``LHipMomentZ``) names one
    column per component of a table; a label without one (Plug-in Gait: ``RHipAngles``,
    ``LKneeAngles``) names a 3-component point (C3D model output) of ``table``, an array [T, 3]
    or [3, T] (ezc3d's layout). A missing column or output raises an error naming it.
    """
    template = convention.labels.get(kind, "{S}{J}" + kind.title() + "{A}")
    if "{A}" in template:
        names = [_label(convention, kind, side, joint, axis) for axis in AXES]
        missing = [n for n in names if n not in table]
        if missing:
            raise Gait2HipInputError(
                "column missing.",
                file=source,
                column=missing[0],
                fix=f"the {convention.name} export has columns {', '.join(names)} for the {side} {joint} "
                f"{kind}.",
            )
        return np.stack([np.asarray(table[n], dtype=float) for n in names], axis=1)
    label = _label(convention, kind, side, joint)
    if label not in table:
        raise Gait2HipInputError(
            "model output missing.",
            file=source,
            column=label,
            fix=f"export the {convention.name} {kind} outputs ({label} and its other-side twin) to the C3D.",
        )
    array = np.asarray(table[label], dtype=float)
    if array.ndim == 2 and array.shape[0] == 3 and array.shape[1] != 3:
        array = array.T
    return _components(array, what=label, source=source)


def trial_angles(
    xyz: Mapping[str, Mapping[str, np.ndarray]], *, convention: Convention, source: str | None = None
) -> dict[str, np.ndarray]:
    """gait2hip's 10 input angles of a TIME SERIES (e.g. a C3D trial), in ``INPUT_ANGLES`` order.

    Both legs share the trial's time base, so nothing is shifted: cut cycles afterwards
    (:func:`gait2hip.data.cycles.find_cycles`). For per-leg MEAN cycles use :func:`cycle_inputs`.

    Parameters
    ----------
    xyz
        side ('right', 'left') → joint ('hip', 'knee', 'ankle') → [T, 3] X/Y/Z degrees.
    """
    legs = {side: leg_angles(xyz[side], side=side, convention=convention, source=source) for side in SIDES}
    return {name: legs["right" if name.endswith("_r") else "left"][name[:-2]] for name in INPUT_ANGLES}


def percent_grid(n_points: int) -> np.ndarray:
    """The 0–100 % grid of an ``n_points`` cycle (both ends included)."""
    return np.linspace(0.0, 100.0, n_points)


def shift_cycle(curves: np.ndarray, shift_percent: float) -> np.ndarray:
    """Curves of one leg's own cycle expressed on a cycle that starts ``shift_percent`` earlier.

    If the other leg's heel strike falls at ``shift_percent`` % of this cycle, its curve at
    this cycle's p % is its own curve at ((p − shift_percent) mod 100) %. Linear
    interpolation on the 0–100 % grid (0 % and 100 % are both heel strikes of that leg).

    Parameters
    ----------
    curves
        [T] or [T, D] on a 0–100 % grid of T points.
    shift_percent
        The other leg's heel strike in this cycle, % (about 50 in walking).
    """
    values = np.asarray(curves, dtype=float)
    grid = percent_grid(len(values))
    where = np.mod(grid - float(shift_percent), 100.0)
    if values.ndim == 1:
        return np.interp(where, grid, values)
    return np.stack([np.interp(where, grid, values[:, j]) for j in range(values.shape[1])], axis=1)


def contralateral_heel_strike(
    own_vgrf: np.ndarray, other_vgrf: np.ndarray, *, search: tuple[float, float] = (30.0, 70.0)
) -> float:
    """Where the other foot's heel strike falls in this foot's cycle, %, from the two vertical GRFs.

    Each foot's vertical force is given on its own cycle (mean curves, 0–100 %). Shifted
    into this cycle by the right amount, the two add up to the body's vertical support,
    which changes smoothly; a wrong shift loads both feet at once (a bump towards two body
    weights) or neither (a dip towards zero). The estimate is the shift, on a 0.1 % grid
    within ``search``, that minimises the variance of the summed force over the cycle.

    Parameters
    ----------
    own_vgrf, other_vgrf
        [T] vertical GRF of this foot and of the other foot, each on its own cycle
        (any unit, same for both; finite).

    Returns
    -------
    float
        The other foot's heel strike, % of this cycle.
    """
    own = np.asarray(own_vgrf, dtype=float)
    other = np.asarray(other_vgrf, dtype=float)
    if own.shape != other.shape or own.ndim != 1 or not (np.isfinite(own).all() and np.isfinite(other).all()):
        raise ValueError("two finite vertical GRF curves of the same length are needed")
    candidates = np.arange(search[0], search[1] + 1e-9, 0.1)
    spread = [np.var(own[:-1] + shift_cycle(other, phi)[:-1]) for phi in candidates]
    return float(np.round(candidates[int(np.argmin(spread))], 1))


def cycle_inputs(
    own: Mapping[str, np.ndarray],
    other: Mapping[str, np.ndarray],
    *,
    other_heel_strike_percent: float,
) -> np.ndarray:
    """gait2hip's 10 inputs [T, 10] of one leg's cycle, in the right-leg frame.

    The cycle's own leg fills the ``_r`` slots (the model always predicts "the right hip"
    of its input; a left cycle is thereby mirrored into the right-leg frame, which needs no
    sign change because gait2hip's left channels share the right ones' anatomical signs);
    the other leg, shifted by its heel strike's position in this cycle, fills the ``_l`` slots.

    Parameters
    ----------
    own, other
        ``LEG_ANGLES`` name → [T] degrees (from :func:`leg_angles`), each on its own cycle.
    other_heel_strike_percent
        The other leg's heel strike in this cycle, % (see :func:`contralateral_heel_strike`).
    """
    columns = []
    for name in INPUT_ANGLES:
        base, suffix = name[:-2], name[-2:]
        source = own if suffix == "_r" else other
        curve = np.asarray(source[base], dtype=float)
        columns.append(curve if suffix == "_r" else shift_cycle(curve, other_heel_strike_percent))
    return np.stack(columns, axis=1)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two curves over the points where both are finite (NaN if < 10 such points)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    if both.sum() < 10 or np.std(a[both]) == 0 or np.std(b[both]) == 0:
        return float("nan")
    return float(np.corrcoef(a[both], b[both])[0, 1])


def axis_correlations(xyz: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """r of each exported component (X, Y, Z) with an OpenSim-convention reference curve."""
    array = _components(xyz, what="components", source=None)
    return tuple(correlation(array[:, j], reference) for j in range(3))  # type: ignore[return-value]


def mapping_evidence(
    xyz: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    *,
    side: str,
    convention: Convention,
    kind: str = "angle",
) -> list[dict]:
    """Check a convention on data: per gait2hip channel, r of every component and of the mapped curve.

    Parameters
    ----------
    xyz
        Joint ('hip', 'knee', 'ankle') → [T, 3] exported components (mean curves of one leg
        on its own cycle); for ``kind='moment'`` only 'hip'.
    reference
        gait2hip channel name (``LEG_ANGLES`` or ``HIP_MOMENTS``) → [T] OpenSim-convention
        reference curve on the same 0–100 % grid (e.g. van der Zee 2022 right leg).
    side, convention
        Which leg and which mapping to test.

    Returns
    -------
    list of dict
        One row per channel present in ``reference``: ``channel``, ``side``, ``mapped``
        (e.g. '+Z'), ``r`` of the mapped curve, ``r_X``/``r_Y``/``r_Z`` of the raw components, and
        ``best`` — the component and sign with the largest |r| (the mapping is supported by
        the data where ``best == mapped`` and ``r > 0``).
    """
    table = convention.angles if kind == "angle" else convention.moments
    if table is None:
        raise Gait2HipInputError(f"the '{convention.name}' convention has no {kind} mapping.")
    rows = []
    for name, curve in reference.items():
        if name not in table:
            continue
        joint = JOINT_OF.get(name, "hip")
        channel = table[name][side]
        rs = axis_correlations(xyz[joint], curve)
        best = int(np.nanargmax(np.abs(rs)))
        rows.append(
            {
                "channel": name,
                "side": side,
                "mapped": str(channel),
                "r": channel.sign * rs[channel.axis],
                "r_X": rs[0],
                "r_Y": rs[1],
                "r_Z": rs[2],
                "best": str(Channel(best, 1.0 if rs[best] >= 0 else -1.0)),
            }
        )
    return rows
