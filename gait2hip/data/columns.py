"""Column names of the Gait2Hip-60 release and the muscle-group mapping table.

The release's names are the project's names: 10 input angles (degrees), 14 right-hip
muscle groups (N) and 3 right-hip moments (Nm). Left-side columns use the same names
with ``_l``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: The release's 10 input channels, exact order.
INPUT_ANGLES: tuple[str, ...] = (
    "hip_flexion_r",
    "hip_adduction_r",
    "hip_rotation_r",
    "hip_flexion_l",
    "hip_adduction_l",
    "hip_rotation_l",
    "knee_angle_r",
    "ankle_angle_r",
    "knee_angle_l",
    "ankle_angle_l",
)

#: The release's 14 muscle-force targets (MF60), exact order.
MUSCLE_GROUPS_R: tuple[str, ...] = (
    "addbrev_r",
    "addlong_r",
    "addmag_r",
    "grac_r",
    "iliopsoas_r",
    "recfem_r",
    "sart_r",
    "glmax_r",
    "bflh_r",
    "hamstring_r",
    "glmed_r",
    "glmin_r",
    "tfl_r",
    "piri_r",
)

#: The release's 3 joint-moment targets (JM60), exact order.
MOMENTS_R: tuple[str, ...] = (
    "hip_flexion_r_moment",
    "hip_adduction_r_moment",
    "hip_rotation_r_moment",
)


#: Right-hip joint contact force (N): the force the pelvis applies to the femur at the hip joint
#: centre, as OpenSim's JointReaction analysis reports it (``hip_r`` on child ``femur_r``):
#: every muscle force's line of action, reserve actuators, external loads, gravity and inertia.
#: ``_mag`` is |F| (the same in every frame); ``_x/_y/_z`` are its components in the femur
#: frame, ``_pelvis_x/_y/_z`` in the pelvis frame (OpenSim body frames: x anterior, y superior,
#: z to the right of the body; in walking the femur-frame y component is the large negative one).
#: :mod:`gait2hip.sim.joint_reaction` computes it; ``GaitDataset.contact_in_percent_bw`` gives %BW.
CONTACT_R: tuple[str, ...] = (
    "hip_r_contact_mag",
    "hip_r_contact_x",
    "hip_r_contact_y",
    "hip_r_contact_z",
    "hip_r_contact_pelvis_x",
    "hip_r_contact_pelvis_y",
    "hip_r_contact_pelvis_z",
)


def to_left(name: str) -> str:
    """Right-side column name → the left-side one (``glmax_r`` → ``glmax_l``, ``hip_r_contact_x`` →
    ``hip_l_contact_x``)."""
    if name.startswith("hip_r_contact"):
        return "hip_l_contact" + name[len("hip_r_contact") :]
    if name.endswith("_r"):
        return name[:-2] + "_l"
    if name.endswith("_r_moment"):
        return name[: -len("_r_moment")] + "_l_moment"
    raise ValueError(f"'{name}' is not a right-side column name")


def mirror_angles(columns: Sequence[str]) -> list[str]:
    """Column names with right and left swapped (``hip_flexion_r`` ↔ ``hip_flexion_l``)."""
    swapped = []
    for name in columns:
        if name.endswith("_r"):
            swapped.append(name[:-2] + "_l")
        elif name.endswith("_l"):
            swapped.append(name[:-2] + "_r")
        else:
            swapped.append(name)
    return swapped


def left_sign(name: str) -> float:
    """Sign that turns a left-hip value into its right-hip twin's anatomical sense, and back.

    −1 for the contact force's medio-lateral component (``*_contact_z``, ``*_contact_pelvis_z``):
    OpenSim's femur and pelvis frames point z to the RIGHT on both sides, so z is lateral for the
    right hip and medial for the left one (cohort 2.0: right z mean +352 N, left z −329 N).
    +1 for every other column: the left hip's angles, moments and muscle forces already have the
    right hip's anatomical sign in OpenSim models.
    """
    return -1.0 if name.endswith(("_contact_z", "_contact_pelvis_z")) else 1.0


MUSCLE_GROUPS_L: tuple[str, ...] = tuple(to_left(n) for n in MUSCLE_GROUPS_R)
MOMENTS_L: tuple[str, ...] = tuple(to_left(n) for n in MOMENTS_R)
CONTACT_L: tuple[str, ...] = tuple(to_left(n) for n in CONTACT_R)
#: Readable names, by the column name without its side (``hip_contact_mag`` for ``hip_r_contact_mag``).
CONTACT_LABELS: dict[str, str] = {
    "hip_contact_mag": "hip contact force |F|",
    "hip_contact_x": "hip contact force x, femur frame (+ anterior)",
    "hip_contact_y": "hip contact force y, femur frame (+ superior)",
    "hip_contact_z": "hip contact force z, femur frame (+ to the right)",
    "hip_contact_pelvis_x": "hip contact force x, pelvis frame (+ anterior)",
    "hip_contact_pelvis_y": "hip contact force y, pelvis frame (+ superior)",
    "hip_contact_pelvis_z": "hip contact force z, pelvis frame (+ to the right)",
}

#: Suffix of the % body-weight columns of the contact force.
PCT_BW = "_pct_bw"


def contact_stem(column: str) -> str | None:
    """'hip_contact_mag' for 'hip_r_contact_mag' / 'hip_l_contact_mag_per_kg'; None for other columns."""
    for code in ("hip_r_contact", "hip_l_contact"):
        if column.startswith(code):
            stem = "hip_contact" + column[len(code) :]
            for suffix in ("_lo", "_hi"):
                stem = stem.removesuffix(suffix)
            for suffix in ("_per_kg", PCT_BW):
                stem = stem.removesuffix(suffix)
            return stem if stem in CONTACT_LABELS else None
    return None


def contact_label(column: str) -> str | None:
    """The readable name of a contact-force column (any side or suffix); None for other columns."""
    stem = contact_stem(column)
    return None if stem is None else CONTACT_LABELS[stem]


#: Every hip-contact column, right then left.
CONTACT_COLUMNS: tuple[str, ...] = CONTACT_R + CONTACT_L

#: Rajagopal (2016 / Lai-Uhlrich 2023) muscles → Gait2Hip group, right side.
RAJAGOPAL_GROUPS_R: Mapping[str, tuple[str, ...]] = {
    "addbrev_r": ("addbrev_r",),
    "addlong_r": ("addlong_r",),
    "addmag_r": ("addmagDist_r", "addmagIsch_r", "addmagMid_r", "addmagProx_r"),
    "grac_r": ("grac_r",),
    "iliopsoas_r": ("iliacus_r", "psoas_r"),
    "recfem_r": ("recfem_r",),
    "sart_r": ("sart_r",),
    "glmax_r": ("glmax1_r", "glmax2_r", "glmax3_r"),
    "bflh_r": ("bflh_r",),
    "hamstring_r": ("semimem_r", "semiten_r"),
    "glmed_r": ("glmed1_r", "glmed2_r", "glmed3_r"),
    "glmin_r": ("glmin1_r", "glmin2_r", "glmin3_r"),
    "tfl_r": ("tfl_r",),
    "piri_r": ("piri_r",),
}

#: gait2392 muscles → Gait2Hip group, right side (for the OpenSim gait2392 example).
GAIT2392_GROUPS_R: Mapping[str, tuple[str, ...]] = {
    "addbrev_r": ("add_brev_r",),
    "addlong_r": ("add_long_r",),
    "addmag_r": ("add_mag1_r", "add_mag2_r", "add_mag3_r"),
    "grac_r": ("grac_r",),
    "iliopsoas_r": ("iliacus_r", "psoas_r"),
    "recfem_r": ("rect_fem_r",),
    "sart_r": ("sar_r",),
    "glmax_r": ("glut_max1_r", "glut_max2_r", "glut_max3_r"),
    "bflh_r": ("bifemlh_r",),
    "hamstring_r": ("semimem_r", "semiten_r"),
    "glmed_r": ("glut_med1_r", "glut_med2_r", "glut_med3_r"),
    "glmin_r": ("glut_min1_r", "glut_min2_r", "glut_min3_r"),
    "tfl_r": ("tfl_r",),
    "piri_r": ("peri_r",),
}


def mirror_mapping(mapping_r: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The left-side twin of a right-side group mapping."""
    return {to_left(group): tuple(to_left(m) for m in muscles) for group, muscles in mapping_r.items()}
