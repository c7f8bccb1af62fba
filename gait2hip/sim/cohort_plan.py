"""Who is in a virtual cohort: identities, anthropometry, cadences and patient gait, per subject.

Every subject draws from its own random stream (:func:`subject_seed`: ``SeedSequence(seed)``
spawned by the subject's index), so a plan does not depend on the order or the number of
processes that simulate it, and adding subjects leaves the earlier ones unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from gait2hip.data.dataset import CADENCE_SPM
from gait2hip.errors import Gait2HipInputError


@dataclass(frozen=True)
class SubjectPlan:
    """Everything needed to simulate one subject, reproducibly (JSON-serialisable)."""

    subject_id: str
    cohort: str  # 'healthy' | 'patient'
    index: int
    sex: str
    height_m: float
    mass_kg: float
    cadences: tuple[tuple[str, float], ...]  # (label, steps/min)
    alteration: dict = field(default_factory=dict)
    walk_ratio_factor: float = 1.0


def subject_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The root of subject ``index``'s random streams (spawned children: 0 body, 1 style, 2 input offsets)."""
    return np.random.SeedSequence(seed, spawn_key=(index,))


def plan_cohort(*, n_subjects: int, n_patients: int, seed: int) -> list[SubjectPlan]:
    """The subjects of a cohort: identities, anthropometry, cadences, patient severities."""
    from gait2hip.sim.anthropometry import sample_anthropometry
    from gait2hip.sim.patients import sample_patient_gait

    if n_subjects < 0 or n_patients < 0 or n_subjects + n_patients == 0:
        raise Gait2HipInputError(
            f"{n_subjects} healthy subjects and {n_patients} patients is an empty cohort.",
            fix="ask for at least one subject (--subjects / --patients).",
        )
    plans = []
    for i in range(n_subjects + n_patients):
        patient = i >= n_subjects
        rng = np.random.default_rng(subject_seed(seed, i).spawn(1)[0])
        body = sample_anthropometry(rng, patient=patient)
        common = dict(index=i, sex=body.sex, height_m=body.height_m, mass_kg=body.mass_kg)
        if patient:
            gait = sample_patient_gait(rng)
            label = min(CADENCE_SPM, key=lambda k: abs(CADENCE_SPM[k] - gait.cadence_spm))
            plan = SubjectPlan(
                subject_id=f"P{i - n_subjects + 1:02d}",
                cohort="patient",
                cadences=((label, gait.cadence_spm),),
                alteration=asdict(gait.alteration),
                walk_ratio_factor=gait.walk_ratio_factor,
                **common,
            )
        else:
            cadences = tuple((k, float(v)) for k, v in CADENCE_SPM.items())
            plan = SubjectPlan(subject_id=f"H{i + 1:02d}", cohort="healthy", cadences=cadences, **common)
        plans.append(plan)
    return plans
