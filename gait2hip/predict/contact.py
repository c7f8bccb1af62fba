"""The hip joint contact force of a prediction: % body weight, readable names, its peaks, in-vivo reference.

A joint bundle trained on a cohort labelled with the contact force (cohort 2.0, e.g. the shipped
default) predicts the right hip's contact force per kg (``hip_r_contact_mag`` = |F|,
``hip_r_contact_{x,y,z}`` in the femur frame, ``hip_r_contact_pelvis_{x,y,z}`` in the pelvis frame;
:data:`gait2hip.data.columns.CONTACT_R`). The clinical and implant literature states it in % body
weight: ``%BW = F / (m · g) · 100 = (N/kg) / g · 100`` with g = 9.81 m/s².
:func:`with_contact_percent_bw` adds ``<name>_pct_bw`` columns (unit ``'%BW'``, bands too) beside
the N and N/kg ones; :func:`gait_peaks` finds the first and second peak of |F| in a cycle.

The in-vivo reference (:data:`IN_VIVO_PEAK_PBW`): instrumented hip implants, level walking, peak
|F| 247 ± 20 %BW over 10 patients — Bergmann G, Bender A, Dymke J, Duda G, Damm P (2016)
"Standardized loads acting in hip implants", PLoS ONE 11(5):e0155612 (OrthoLoad; the mean over
each patient's peak-force phases, as in ``shared/reference/orthoload/level_walking_peak_hjf.csv``).
Elderly implant patients walking slowly: a plausibility anchor, not a norm for young adults.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from gait2hip.data.columns import PCT_BW, contact_stem, to_left
from gait2hip.data.dataset import GRAVITY

#: OrthoLoad level walking, peak |F| (% body weight): mean and SD over 10 patients (Bergmann 2016).
IN_VIVO_PEAK_PBW: tuple[float, float] = (247.0, 20.0)
IN_VIVO_CITATION = "OrthoLoad in vivo, Bergmann et al. 2016 (PLoS ONE 11:e0155612), level walking, n = 10"
#: Peaks lower than this fraction of the cycle's maximum are not load peaks (e.g. swing bumps).
PEAK_MIN_FRACTION = 0.5
#: A peak must stand out of the curve by this fraction of its range (scipy's ``prominence``).
PEAK_MIN_PROMINENCE = 0.10
#: Two peaks closer than this (% of the cycle) are one hump (the lower one is dropped).
PEAK_MIN_DISTANCE_PCT = 15.0


def contact_column(stem: str, side: str) -> str:
    """'hip_contact_mag', 'left' → 'hip_l_contact_mag'."""
    name = "hip_r_contact" + stem[len("hip_contact") :]
    return name if side == "right" else to_left(name)


def percent_bw(per_kg: np.ndarray | float) -> np.ndarray:
    """N/kg → % body weight (÷ g × 100)."""
    return np.asarray(per_kg, dtype=float) * (100.0 / GRAVITY)


def with_contact_percent_bw(prediction):
    """A copy of ``prediction`` with ``<name>_pct_bw`` (and ``_lo`` / ``_hi``) beside every contact
    column in N/kg, unit ``'%BW'``; the prediction itself when it has none or already has them."""
    units = prediction.curves.attrs.get("units", {})
    sources = [
        c
        for c, u in units.items()
        if u == "N/kg" and c.endswith("_per_kg") and contact_stem(c) and c in prediction.curves
    ]
    new = {c.removesuffix("_per_kg") + PCT_BW: c for c in sources}
    for c, u in units.items():  # the bands, after their central column
        if (
            u == "N/kg"
            and c.endswith(("_per_kg_lo", "_per_kg_hi"))
            and contact_stem(c)
            and c in prediction.curves
        ):
            new[c.replace("_per_kg", PCT_BW)] = c
    new = {k: v for k, v in new.items() if k not in prediction.curves}
    if not new:
        return prediction
    curves = prediction.curves.copy()
    attrs = copy.deepcopy(prediction.curves.attrs)
    for name, source in new.items():
        curves[name] = percent_bw(curves[source].to_numpy(dtype=float))
        attrs["units"][name] = "%BW"
    curves.attrs = attrs
    result = copy.copy(prediction)
    result.curves = curves
    return result


@dataclass(frozen=True)
class Peak:
    """One peak of a curve: its value and where it is (% of the gait cycle)."""

    value: float
    percent: float


def gait_peaks(values: np.ndarray, percent: np.ndarray) -> tuple[Peak, Peak | None, Peak]:
    """The first and second load peak of a walking |F| curve, and its maximum.

    Peaks are local maxima standing out of the curve by ≥ 10 % of its range (prominence), at
    least 15 % of the cycle from a higher peak (ripples on one hump are one peak), and reaching
    ≥ 50 % of its maximum (which leaves out swing-phase bumps); the two highest such peaks, in
    time order, are the first and the second. With fewer than two, the first is the maximum and
    the second is None (no double hump to report).

    Returns
    -------
    first, second, maximum
    """
    from scipy.signal import find_peaks

    values = np.asarray(values, dtype=float)
    percent = np.asarray(percent, dtype=float)
    top = int(np.nanargmax(values))
    maximum = Peak(float(values[top]), float(percent[top]))
    span = float(np.nanmax(values) - np.nanmin(values))
    if not np.isfinite(span) or span <= 0:
        return maximum, None, maximum
    step = float(np.nanmedian(np.diff(percent))) if len(percent) > 1 else 1.0
    distance = max(1, round(PEAK_MIN_DISTANCE_PCT / step)) if step > 0 else 1
    found, _ = find_peaks(values, prominence=PEAK_MIN_PROMINENCE * span, distance=distance)
    found = [int(i) for i in found if values[i] >= PEAK_MIN_FRACTION * maximum.value]
    if len(found) < 2:
        return maximum, None, maximum
    two = sorted(sorted(found, key=lambda i: values[i])[-2:])
    first, second = (Peak(float(values[i]), float(percent[i])) for i in two)
    return first, second, maximum
