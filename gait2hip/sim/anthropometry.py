"""Sex, height and body mass of virtual adults.

Sources and assumptions
-----------------------
* **Sex**: 1:1 (the release's cohort composition is not published; a balanced design).
* **Height**: normal per sex with the US adult (≥ 20 y) means of NHANES 2015–2018 —
  men 175.4 cm, women 161.7 cm — and SDs of 7.4 / 6.9 cm derived from the reported 5th–95th
  percentiles (Fryar CD, Carroll MD, Gu Q, Afful J, Ogden CL. *Anthropometric reference data
  for children and adults: United States, 2015–2018*. Vital Health Stat 3(46), 2021),
  truncated to ±2.5 SD.
* **Body mass**: from body-mass index, normal 23.5 ± 3.0 kg/m² truncated to 18.5–30 kg/m².
  NHANES adults are heavier (mean BMI ≈ 29.6), but normative gait cohorts of healthy adults
  exclude obesity; the van der Zee et al. (2022) walking cohort, whose patterns drive the
  kinematics, averages 73.5 kg at 1.758 m (BMI 23.8). Mass = BMI × height².
* **Patients** (ONFH-like, ``patients.py``): same height model; BMI 24.5 ± 3.0 kg/m²,
  reflecting the slightly higher BMI reported in ONFH cohorts (e.g. Mont MA et al. 2020,
  J Bone Joint Surg Am 102:1084, review of non-traumatic ONFH risk factors), truncated to
  18.5–32 kg/m².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: NHANES 2015–2018 adult height, cm: (mean, SD) per sex.
HEIGHT_CM = {"male": (175.4, 7.4), "female": (161.7, 6.9)}
HEALTHY_BMI = (23.5, 3.0, 18.5, 30.0)  # mean, SD, lower, upper (kg/m²)
PATIENT_BMI = (24.5, 3.0, 18.5, 32.0)


@dataclass(frozen=True)
class Anthropometry:
    """One virtual adult."""

    sex: str
    height_m: float
    mass_kg: float

    @property
    def bmi(self) -> float:
        return self.mass_kg / self.height_m**2


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    a, b = (lo - mean) / sd, (hi - mean) / sd
    return float(stats.truncnorm.rvs(a, b, loc=mean, scale=sd, random_state=rng))


def sample_anthropometry(rng: np.random.Generator, *, patient: bool = False) -> Anthropometry:
    """Draw sex, height and mass of one adult (see the module docstring for the sources).

    Parameters
    ----------
    rng
        Random generator (the draw is reproducible from its state).
    patient
        Use the patient BMI distribution.
    """
    sex = "male" if rng.random() < 0.5 else "female"
    mean, sd = HEIGHT_CM[sex]
    height_cm = _truncated_normal(rng, mean, sd, mean - 2.5 * sd, mean + 2.5 * sd)
    bmi_mean, bmi_sd, lo, hi = PATIENT_BMI if patient else HEALTHY_BMI
    bmi = _truncated_normal(rng, bmi_mean, bmi_sd, lo, hi)
    height_m = round(height_cm / 100.0, 3)
    return Anthropometry(sex=sex, height_m=height_m, mass_kg=round(bmi * height_m**2, 1))
