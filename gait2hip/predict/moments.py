"""The hip moments' sign convention and units, stated and converted.

gait2hip's models predict **internal** joint moments in **OpenSim's sign convention**: the net
moment the muscles and other tissues exert about each coordinate, positive in the
coordinate's positive direction (hip flexion, adduction, internal rotation) — what OpenSim's
Inverse Dynamics tool reports. Many clinical gait labs plot **external** moments (the moment
of the ground reaction and inertia about the joint: the same size, opposite sign), and
normalise by body weight × height (%BW·h = 100 · M / (m · g · h)) instead of per kg.
:func:`express_moments` converts a :class:`~gait2hip.predict.predictor.Prediction`.
"""

from __future__ import annotations

import copy

import numpy as np

from gait2hip.data.dataset import GRAVITY
from gait2hip.errors import Gait2HipInputError

MOMENT_CONVENTIONS = ("internal", "external")
MOMENT_UNITS = ("Nm/kg", "%BWh")
#: Plausible body heights (m) for %BW·h.
HEIGHT_RANGE_M = (0.8, 2.5)


def convention_text(convention: str = "internal") -> str:
    """One line stating the moment convention, for file headers, figures and metadata."""
    if convention == "external":
        return (
            "EXTERNAL joint moments (= minus the internal moment; positive = external flexion, adduction, "
            "internal rotation moment), hip coordinates of OpenSim's gait models"
        )
    return (
        "INTERNAL joint moments, OpenSim inverse-dynamics sign convention (positive = moment in the "
        "coordinate's positive direction: hip flexion, adduction, internal rotation)"
    )


def normalised_suffix(units: str) -> str:
    """The suffix of the normalised moment columns: '_per_kg' (Nm/kg) or '_pct_bwh' (%BWh)."""
    return "_pct_bwh" if units == "%BWh" else "_per_kg"


def moment_scale(units: str, height_m) -> float:
    """Factor from Nm/kg to ``units`` (1 for Nm/kg; 100 / (g · h) for %BWh)."""
    return 100.0 / (GRAVITY * float(height_m)) if units == "%BWh" else 1.0


def moment_columns(prediction) -> list[str]:
    """The Nm columns of a prediction's curves (their bands, ``_lo`` / ``_hi``, excluded)."""
    units = prediction.curves.attrs["units"]
    return [
        c
        for c, u in units.items()
        if u == "Nm" and c in prediction.curves.columns and not c.endswith(("_lo", "_hi"))  # bands follow
    ]


def express_moments(prediction, *, convention: str = "internal", units: str = "Nm/kg", height_m=None):
    """A copy of ``prediction`` with its moments in ``convention`` and normalised by ``units``.

    Parameters
    ----------
    prediction
        From :meth:`gait2hip.predict.Predictor.predict_trial` (internal moments, Nm and Nm/kg).
    convention
        'internal' (as predicted) or 'external' (sign flipped).
    units
        'Nm/kg' (``<moment>_per_kg`` columns) or '%BWh' (``<moment>_pct_bwh`` columns,
        100 · M / (m · g · h); needs ``height_m``).
    height_m
        Body height (m), for %BWh.
    """
    if convention not in MOMENT_CONVENTIONS:
        raise Gait2HipInputError(
            f"unknown moment convention '{convention}'.", fix=f"use {' or '.join(MOMENT_CONVENTIONS)}."
        )
    if units not in MOMENT_UNITS:
        raise Gait2HipInputError(f"unknown moment units '{units}'.", fix=f"use {' or '.join(MOMENT_UNITS)}.")
    if units == "%BWh":
        if height_m is None or not np.isfinite(height_m):
            raise Gait2HipInputError(
                "moments in %BW·height need the subject's height.",
                column="height_m",
                fix="add --height METRES (or a height_m column in --masses), or use --moment-units Nm/kg.",
            )
        if not (HEIGHT_RANGE_M[0] <= float(height_m) <= HEIGHT_RANGE_M[1]):
            raise Gait2HipInputError(
                f"height {height_m:g} m is outside {HEIGHT_RANGE_M[0]:g}–{HEIGHT_RANGE_M[1]:g} m.",
                column="height_m",
                fix="give the height in metres (e.g. 1.75).",
            )
    result = copy.copy(prediction)
    curves = prediction.curves.copy()
    attrs = copy.deepcopy(prediction.curves.attrs)
    sign = -1.0 if convention == "external" else 1.0
    renames = {}
    scale = moment_scale(units, height_m) if units == "%BWh" else 1.0
    for column in moment_columns(prediction):
        curves[column] = sign * curves[column]
        curves[column + "_per_kg"] = sign * scale * curves[column + "_per_kg"]
        for stem in (column, column + "_per_kg"):  # a band: flipping the sign swaps its limits
            if stem + "_lo" in curves:
                lo, hi = curves[stem + "_lo"].copy(), curves[stem + "_hi"].copy()
                factor = sign * (scale if stem.endswith("_per_kg") else 1.0)
                curves[stem + "_lo"], curves[stem + "_hi"] = (
                    (factor * lo, factor * hi)
                    if sign > 0
                    else (
                        factor * hi,
                        factor * lo,
                    )
                )
        if units == "%BWh":
            for suffix in ("", "_lo", "_hi"):
                renames[column + "_per_kg" + suffix] = column + "_pct_bwh" + suffix
                if attrs["units"].pop(column + "_per_kg" + suffix, None) is not None or not suffix:
                    attrs["units"][column + "_pct_bwh" + suffix] = "%BWh"
    curves = curves.rename(columns=renames)
    attrs["moment_convention"] = convention
    attrs["moment_units"] = units
    attrs["height_m"] = None if height_m is None else float(height_m)
    curves.attrs = attrs
    result.curves = curves
    return result
