"""Real walking trials from the OpenSim examples, as a zero-shot sim-to-real check.

Two measured trials (../shared/opensim-examples, see their README.txt files):

``gait2392-subject01`` (72.6 kg, 1.803 m)
    Right gait cycle 0.618 → 1.853 s (right heel strikes from the force plates, 20 N).
    Inputs: the IK .mot (degrees; gait2392's knee is flexion-negative and is flipped).
    Reference hip moments: inverse dynamics recomputed with OpenSim over the cycle (the
    shipped ID output covers only 0.40–1.60 s), with the example's own setup: its scaled
    model, external loads and 6 Hz coordinate low-pass. Reference hip muscle forces: the
    example's CMC actuator forces (0.53–1.989 s) summed into the 14 groups with
    :data:`~gait2hip.data.columns.GAIT2392_GROUPS_R`.
``moco-3d-walking`` (85.27 kg, 1.829 m)
    The coordinates (0.45–1.799 s, radians) hold no complete heel-strike-to-heel-strike
    cycle (right heel strikes 0.2675 and 1.4115 s). One stride-long window, 0.45 s → 0.45 s
    + stride, is re-assembled into a right cycle by periodicity: every sample gets its phase
    ``((t − HS) / stride) mod 1`` and the phases are sorted (the seam at 0.45 s is the only
    approximation). Reference hip moments: the example's id_walk.sto. No muscle forces.

Reference hip contact force (both trials, right hip): labelled by gait2hip's own pipeline — fast
static optimisation, then :func:`gait2hip.sim.joint_reaction.hip_contact_forces` (OpenSim's
JointReaction to < 0.02 % of peak), on the example's own model, kinematics (6 Hz low-pass) and
loads. It is a model estimate, not a measurement (no example has implant data).

Targets are divided by the body mass (N/kg, Nm/kg). Without OpenSim the gait2392 moments and
the contact forces are not computed and are marked unavailable; the masses then come from the
READMEs.

Building the trials runs OpenSim (inverse dynamics), so it lives with the experiments; scoring
a model on them is :func:`gait2hip.evaluate.realtrials.real_trial_rows`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.columns import CONTACT_R, GAIT2392_GROUPS_R, INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset
from gait2hip.evaluate.realtrials import RealTrial

#: Body masses and heights stated in the examples' READMEs (used when OpenSim is absent).
README_MASS_KG = {"gait2392-subject01": 72.6, "moco-3d-walking": 85.27}
README_HEIGHT_M = {"gait2392-subject01": 1.8034, "moco-3d-walking": 1.829}
TARGETS = MUSCLE_GROUPS_R + MOMENTS_R + CONTACT_R
_MOMENTS = slice(len(MUSCLE_GROUPS_R), len(MUSCLE_GROUPS_R + MOMENTS_R))
_CONTACT = slice(len(MUSCLE_GROUPS_R + MOMENTS_R), len(TARGETS))


def _nearest_cadence(spm: float) -> str:
    return min(CADENCE_SPM, key=lambda label: abs(CADENCE_SPM[label] - spm))


def _model_mass(path: Path, name: str, notes: list[str]) -> float:
    try:
        from gait2hip.sim.opensim_env import model_mass_kg

        mass = model_mass_kg(path)
        notes.append(f"mass {mass:.2f} kg read from {path.name}")
        return mass
    except Exception as exc:  # opensim absent or the model unreadable: the README's value
        mass = README_MASS_KG[name]
        notes.append(f"mass {mass} kg from README.txt (model not read: {type(exc).__name__})")
        return mass


def _one_cycle(
    name: str,
    angles: np.ndarray,
    targets: np.ndarray,
    *,
    mass: float,
    stride: float,
    available: tuple[str, ...],
    notes: list[str],
) -> RealTrial:
    spm = 120.0 / stride
    meta = pd.DataFrame(
        {
            "subject_id": [name],
            "cohort": ["real"],
            "cadence_label": [_nearest_cadence(spm)],
            "cadence_spm": [spm],
            "trial_id": [name],
            "side": ["right"],
            "mass_kg": [mass],
            "height_m": [README_HEIGHT_M[name]],
            "source": ["opensim-examples/" + name],
            "stride_time_s": [stride],
        }
    )
    dataset = GaitDataset(
        X=angles[None],
        Y=targets[None],
        input_columns=INPUT_ANGLES,
        target_columns=TARGETS,
        input_units=("deg",) * len(INPUT_ANGLES),
        target_units=("N/kg",) * len(MUSCLE_GROUPS_R)
        + ("Nm/kg",) * len(MOMENTS_R)
        + ("N/kg",) * len(CONTACT_R),
        meta=meta,
        attrs={"name": name, "simulated": False, "available": list(available)},
    )
    return RealTrial(name=name, dataset=dataset, available=available, notes=notes)


def _contact_forces(notes: list[str], **setup) -> pd.DataFrame | None:
    """The right hip's contact force (N, time index) labelled by gait2hip's pipeline (fast SO, then
    the JointReaction equivalent) with the example's ``setup``; None (and a note) without OpenSim."""
    try:
        from gait2hip.sim.joint_reaction import hip_contact_forces
        from gait2hip.sim.static_optimization import run_static_optimization

        so = run_static_optimization(solver="fast", lowpass_hz=6.0, **setup)
        whole = {k: v for k, v in setup.items() if k != "time_range"}
        contact = hip_contact_forces(
            forces=so.forces, kinematics=so.info["kinematics"], lowpass_hz=6.0, **whole
        )
    except Exception as exc:  # no OpenSim, or the example cannot be solved: no contact reference
        notes.append(f"contact force unavailable: labelling could not run ({type(exc).__name__}: {exc})")
        return None
    notes.append(
        "contact force: labelled by gait2hip's pipeline (fast static optimisation + JointReaction "
        "equivalent, 6 Hz low-pass, the example's model and loads): a model estimate, not a measurement"
    )
    return contact[list(CONTACT_R)]


def gait2392_trial(folder: Path, *, n_points: int = 101) -> RealTrial:
    """The gait2392 subject01 right cycle (see the module docstring)."""
    from gait2hip.data.cycles import find_cycles, time_normalize
    from gait2hip.data.references import gait2392_angles
    from gait2hip.io.opensim import read_storage

    name = "gait2392-subject01"
    notes: list[str] = []
    angles = gait2392_angles(folder)
    grf = read_storage(folder / "subject01_walk1_grf.mot")
    cmc = read_storage(folder / "OutputReference/ResultsCMC/subject01_walk1_Actuation_force.sto")
    cycles = find_cycles(
        angles,
        grf=grf.data,
        sides=("right",),
        grf_file=grf.path,
        loads_xml=folder / "subject01_walk1_grf.xml",
        t_min=float(cmc.time[0]),
        t_max=float(cmc.time[-1]),
    )
    cycle = cycles[0]
    notes.append(f"right cycle {cycle.start:.3f}–{cycle.end:.3f} s (heel strikes from GRF > 20 N)")
    mass = _model_mass(folder / "subject01_simbody.osim", name, notes)
    X = time_normalize(angles.index.to_numpy(), angles.to_numpy(), cycle.start, cycle.end, n_points)
    Y = np.full((n_points, len(TARGETS)), np.nan)
    available: list[str] = []
    forces = np.stack(
        [cmc.data[list(muscles)].sum(axis=1).to_numpy() for muscles in GAIT2392_GROUPS_R.values()], axis=1
    )
    Y[:, : len(MUSCLE_GROUPS_R)] = time_normalize(cmc.time, forces, cycle.start, cycle.end, n_points) / mass
    available += list(MUSCLE_GROUPS_R)
    notes.append("forces: reference CMC actuator forces summed into the 14 groups (GAIT2392_GROUPS_R)")
    try:
        from gait2hip.sim.inverse_dynamics import run_inverse_dynamics

        moments = run_inverse_dynamics(
            model=folder / "subject01_simbody.osim",
            coordinates=folder / "subject01_walk1_ik.mot",
            external_loads=folder / "subject01_walk1_grf.xml",
            grf=folder / "subject01_walk1_grf.mot",
            time_range=(max(float(angles.index[0]), cycle.start - 0.1), cycle.end + 0.1),
            lowpass_hz=6.0,
        )
        Y[:, _MOMENTS] = (
            time_normalize(
                moments.index.to_numpy(),
                moments[list(MOMENTS_R)].to_numpy(),
                cycle.start,
                cycle.end,
                n_points,
            )
            / mass
        )
        available += list(MOMENTS_R)
        notes.append(
            "moments: OpenSim inverse dynamics recomputed over the cycle (6 Hz low-pass, measured GRF)"
        )
    except Exception as exc:  # no OpenSim: keep the forces, say why the moments are missing
        notes.append(f"moments unavailable: inverse dynamics could not run ({type(exc).__name__}: {exc})")
    contact = _contact_forces(
        notes,
        model=folder / "subject01_simbody.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=folder / "subject01_walk1_grf.xml",
        time_range=(max(float(angles.index[0]), cycle.start - 0.05), cycle.end + 0.05),
    )
    if contact is not None:
        Y[:, _CONTACT] = (
            time_normalize(contact.index.to_numpy(), contact.to_numpy(), cycle.start, cycle.end, n_points)
            / mass
        )
        available += list(CONTACT_R)
    return _one_cycle(name, X, Y, mass=mass, stride=cycle.duration, available=tuple(available), notes=notes)


def _periodic_cycle(
    time: np.ndarray,
    values: np.ndarray,
    *,
    heel_strike: float,
    stride: float,
    window_start: float,
    n_points: int,
) -> np.ndarray:
    inside = (time >= window_start) & (time < window_start + stride)
    phase = np.mod((time[inside] - heel_strike) / stride, 1.0)
    order = np.argsort(phase)
    phase, samples = phase[order], values[inside][order]
    phase = np.concatenate([phase[-1:] - 1.0, phase, phase[:1] + 1.0])
    samples = np.concatenate([samples[-1:], samples, samples[:1]])
    grid = np.linspace(0.0, 1.0, n_points)
    return np.stack([np.interp(grid, phase, samples[:, j]) for j in range(samples.shape[1])], axis=1)


def _moco_coordinates(folder: Path) -> pd.DataFrame | Path:
    """The Moco walk's coordinates as OpenSim reads them, at 100 Hz (plenty for static optimisation;
    the file is at 1 kHz), as :func:`gait2hip.sim.contact_realism.agreement_trials` uses them."""
    try:
        from gait2hip.sim.opensim_env import read_coordinates
    except ImportError:
        return folder / "coordinates.sto"  # the labelling step then says why it cannot run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Moco's header miscounts its columns (see README.txt)
        frame, _, _ = read_coordinates(folder / "coordinates.sto")
    frame = frame.iloc[::10]
    frame.attrs["inDegrees"] = False
    return frame


def moco_trial(folder: Path, *, n_points: int = 101) -> RealTrial:
    """The Moco 3-D walking trial, re-assembled into one right cycle (see the module docstring)."""
    from gait2hip.data.angles import angles_from_table
    from gait2hip.data.cycles import heel_strikes_from_grf
    from gait2hip.io.opensim import read_storage

    name = "moco-3d-walking"
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Moco's header miscounts its columns (see README.txt)
        coords = read_storage(folder / "coordinates.sto")
        angles = angles_from_table(coords.data, in_degrees=coords.header.in_degrees, file=coords.path)
    grf = read_storage(folder / "grf_walk.mot")
    strikes = heel_strikes_from_grf(grf.data, file=grf.path, loads_xml=folder / "grf_walk.xml")["right"]
    if len(strikes) < 2:
        raise ValueError(f"expected two right heel strikes in {grf.path}, found {strikes}")
    heel_strike, stride = float(strikes[0]), float(strikes[1] - strikes[0])
    start = float(coords.time[0])
    notes.append(
        f"right heel strikes {strikes[0]:.4f}, {strikes[1]:.4f} s (GRF > 20 N); one stride window "
        f"{start:.3f}–{start + stride:.3f} s re-assembled by phase into a right cycle"
    )
    mass = _model_mass(folder / "subject_walk_scaled.osim", name, notes)
    X = _periodic_cycle(
        coords.time,
        angles.to_numpy(),
        heel_strike=heel_strike,
        stride=stride,
        window_start=start,
        n_points=n_points,
    )
    ident = read_storage(folder / "id_walk.sto")
    Y = np.full((n_points, len(TARGETS)), np.nan)
    Y[:, _MOMENTS] = (
        _periodic_cycle(
            ident.time,
            ident.data[list(MOMENTS_R)].to_numpy(),
            heel_strike=heel_strike,
            stride=stride,
            window_start=start,
            n_points=n_points,
        )
        / mass
    )
    notes.append("moments: the example's id_walk.sto; no muscle forces in this example")
    available = MOMENTS_R
    contact = _contact_forces(
        notes,
        model=folder / "subject_walk_scaled.osim",
        coordinates=_moco_coordinates(folder),
        external_loads=folder / "grf_walk.xml",
    )
    if contact is not None:
        Y[:, _CONTACT] = (
            _periodic_cycle(
                contact.index.to_numpy(),
                contact.to_numpy(),
                heel_strike=heel_strike,
                stride=stride,
                window_start=start,
                n_points=n_points,
            )
            / mass
        )
        available = MOMENTS_R + CONTACT_R
    return _one_cycle(name, X, Y, mass=mass, stride=stride, available=available, notes=notes)


def load_real_trials(shared: Path | None, *, n_points: int = 101) -> tuple[list[RealTrial], list[str]]:
    """Every real trial that can be built here, and a note for each one that cannot."""
    problems: list[str] = []
    if shared is None:
        return [], ["shared folder not found: no real-trial check (set GAIT2HIP_SHARED)"]
    examples = Path(shared) / "opensim-examples"
    trials: list[RealTrial] = []
    for name, builder in (("gait2392-subject01", gait2392_trial), ("moco-3d-walking", moco_trial)):
        folder = examples / name
        if not folder.is_dir():
            problems.append(f"{name}: {folder} not found")
            continue
        try:
            trials.append(builder(folder, n_points=n_points))
        except Exception as exc:  # a broken example must not sink the benchmark: report it
            problems.append(f"{name}: skipped ({type(exc).__name__}: {exc})")
    return trials, problems
