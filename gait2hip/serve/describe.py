"""The service's description of one analysed trial: per-cycle timing, curves and peaks, the
training cohort's normative band, the prediction band, left / right symmetry, and the
out-of-distribution verdict in plain words for clinicians (:func:`describe`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gait2hip.data.columns import contact_label, contact_stem, left_sign
from gait2hip.data.dataset import GRAVITY
from gait2hip.models.ood import distance_rule, level_rules, outside_rule
from gait2hip.models.uncertainty import LEVEL, ood_rule
from gait2hip.predict import Predictor

OOD_IN_WORDS = (
    "This walking pattern is unlike the walking the model learned from (the training cohort). "
    "The predicted muscle forces and moments for this stride may be inaccurate: interpret them with "
    "caution and do not base a clinical decision on them alone."
)
OK_IN_WORDS = "This walking pattern lies within the range of the walking the model learned from."
UNRELIABLE_IN_WORDS = (
    "This stride is far outside the walking the model learned from, or its joint angles break a sign or "
    "side convention: its curves are not drawn and must not be used."
)
#: What a stride's OOD level means, in words for clinicians (levels from gait2hip.models.ood).
LEVEL_IN_WORDS = {"ok": OK_IN_WORDS, "caution": OOD_IN_WORDS, "unreliable": UNRELIABLE_IN_WORDS}
#: The cycles table's short wording of each level.
LEVEL_SHORT = {
    "ok": "within training range",
    "caution": "outside training range (caution)",
    "unreliable": "unreliable: not drawn",
}
SIMULATED_IN_WORDS = (
    "The model was trained on SIMULATED walking (a computer-generated cohort), not on forces measured in "
    "patients: its values are estimates for research and education, not a validated clinical measurement."
)
MIXED_IN_WORDS = (
    "The muscle forces and the hip contact force were learned from SIMULATED walking (a computer-generated "
    "cohort); the hip moments also from REAL gait-lab walking ({real}). No output was measured in patients: "
    "the values are estimates for research and education, not a validated clinical measurement."
)
#: Chart titles of the contact force (the page's panels are narrow). The z component is shown in the
#: right hip's anatomical sense on both sides (+ lateral) so the two hips overlay on one band; the
#: files keep OpenSim's sense (+ to the right, :func:`gait2hip.data.columns.left_sign`).
CONTACT_SHORT = {
    "hip_contact_mag": "Contact force |F|",
    "hip_contact_x": "Contact x, femur (+ anterior)",
    "hip_contact_y": "Contact y, femur (+ superior)",
    "hip_contact_z": "Contact z, femur (+ lateral)",
    "hip_contact_pelvis_x": "Contact x, pelvis (+ anterior)",
    "hip_contact_pelvis_y": "Contact y, pelvis (+ superior)",
    "hip_contact_pelvis_z": "Contact z, pelvis (+ lateral)",
}
#: % body weight per N/kg (the contact force is shown in %BW, as the in-vivo implant literature does).
PCT_BW_PER_N_PER_KG = 100.0 / GRAVITY


# ------------------------------------------------------------------------ derived measures
def toe_off(
    angles: pd.DataFrame, *, side: str, start: float, end: float, events: dict | None = None
) -> tuple[float, str]:
    """Toe-off time inside one cycle, and how it was found.

    The lab's ``Foot Off`` event when a C3D gave one inside the cycle; otherwise, after Zeni et
    al. (2008), the instant the foot is furthest BEHIND the pelvis, using the same two-segment
    foot position as the heel strikes (:func:`gait2hip.data.cycles.foot_forward_position`).
    On the OpenSim gait2392 example this comes ~40 ms (≈3.5 % of the cycle) BEFORE the force
    plates' toe-off in all 4 cycles (tests/test_serve_app.py), so stance % reads a few points
    low; not corrected (one trial is no basis for a correction).
    """
    offs = np.asarray((events or {}).get(side, {}).get("toe_off", []), dtype=float)
    inside = offs[(offs > start) & (offs < end)]
    if len(inside):
        return float(inside[0]), "lab event (Foot Off)"
    from gait2hip.data.cycles import foot_forward_position

    time = angles.index.to_numpy(dtype=float)
    x = foot_forward_position(angles, side=side)
    keep = np.flatnonzero((time > start) & (time < end))
    if len(keep) < 3:
        return float("nan"), "not enough samples"
    i = int(keep[np.argmin(x[keep])])
    t = float(time[i])
    if 0 < i < len(x) - 1:  # parabolic refinement, as for the heel strikes
        y0, y1, y2 = x[i - 1], x[i], x[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom != 0:
            t += float(np.clip(0.5 * (y0 - y2) / denom, -1, 1)) * float(time[i + 1] - time[i])
    return t, "kinematics (foot furthest behind the hip, Zeni et al. 2008)"


def symmetry_index(right: float, left: float) -> float:
    """Robinson et al. (1987) symmetry index, %: 100·(R − L) / (½·(R + L)); 0 = symmetric."""
    mean = 0.5 * (right + left)
    return float(100.0 * (right - left) / mean) if mean > 0 else float("nan")


def _stem(target: str) -> str:
    return target.removesuffix("_r") if target.endswith("_r") else target.replace("_r_moment", "_moment")


def _label(target: str) -> str:
    from gait2hip.predict.plots import TARGET_LABELS

    stem = _stem(target)
    contact = contact_stem(target)
    if contact is not None:
        return CONTACT_SHORT[contact]
    return TARGET_LABELS.get(stem.removesuffix("_moment"), stem)


def _kind(target: str, raw_unit: str) -> str:
    if contact_label(target):
        return "contact"
    return "force" if raw_unit == "N" else "moment"


def _model_note(predictor: Predictor, simulated: bool) -> str:
    """Which data the model learned from, in words: simulated only, or simulated + real moments."""
    if predictor.real_sources:
        return MIXED_IN_WORDS.format(real=", ".join(predictor.real_sources))
    return SIMULATED_IN_WORDS if simulated else ""


def target_table(predictor: Predictor) -> list[dict[str, Any]]:
    """One entry per predicted hip output: names, units, and the training cohort's band (per kg).

    The contact force is shown per body weight (%BW) instead of per kg: its ``per_kg`` values,
    band and peaks are multiplied by ``per_kg_factor`` and ``display_to_raw`` turns them back
    into N per kg of mass.
    """
    from gait2hip.predict.predictor import output_name

    rows = []
    for bundle in predictor.bundles:
        reference = bundle.reference
        for j, (target, unit) in enumerate(zip(bundle.target_columns, bundle.target_units, strict=True)):
            raw = unit.removesuffix("/kg")
            kind = _kind(target, raw)
            factor = PCT_BW_PER_N_PER_KG if kind == "contact" else 1.0
            band = None
            if "target_mean_curve" in reference and unit.endswith("/kg"):
                band = {
                    "mean": _rounded(reference["target_mean_curve"][:, j] * factor),
                    "sd": _rounded(reference["target_sd_curve"][:, j] * factor),
                    "unit": "%BW" if kind == "contact" else unit,
                    "percent": _rounded(np.linspace(0.0, 100.0, bundle.seq_len)),
                }
            rows.append(
                {
                    "key": _stem(target),
                    "label": _label(target),
                    "kind": kind,
                    "unit": raw,
                    "unit_per_kg": "%BW" if kind == "contact" else raw + "/kg",
                    "per_kg_factor": factor,
                    # the left hip's values are multiplied by this to share the right hip's band
                    "left_display_sign": left_sign(target),
                    "display_to_raw": 1.0 / factor,
                    "columns": {"right": output_name(target, "right"), "left": output_name(target, "left")},
                    "bundle": bundle.name,
                    "normative": band,
                }
            )
    return rows


def _display_sign(target: dict[str, Any], side: str) -> float:
    """−1 where a left-hip output is shown turned to the right hip's sense (contact z), else 1."""
    return target["left_display_sign"] if side == "left" else 1.0


def _rounded(values: Any, digits: int = 4) -> list[float | None]:
    array = np.round(np.asarray(values, dtype=float), digits)
    return [None if not np.isfinite(v) else float(v) for v in array]


def _number(value: Any, digits: int = 4) -> float | None:
    value = float(value)
    return round(value, digits) if np.isfinite(value) else None


def _cycle_record(
    row: pd.Series, prediction: Any, targets: list[dict[str, Any]], angles: pd.DataFrame, events: dict
) -> dict[str, Any]:
    number, side = int(row["cycle"]), str(row["side"])
    curves = prediction.cycle(number)
    start, end, stride = float(row["start_s"]), float(row["end_s"]), float(row["stride_s"])
    off, off_method = toe_off(angles, side=side, start=start, end=end, events=events)
    stance = (off - start) / stride if np.isfinite(off) else float("nan")
    level = str(row.get("ood_level", "caution" if row["ood"] else "ok"))
    record: dict[str, Any] = {
        "cycle": number,
        "side": side,
        "start_s": _number(start),
        "end_s": _number(end),
        "stride_s": _number(stride),
        "cadence_steps_per_min": _number(120.0 / stride, 1),
        "heel_strikes": str(row["method"]),
        "timing": {
            "toe_off_s": _number(off),
            "stance_s": _number(off - start),
            "swing_s": _number(end - off),
            "stance_percent": _number(100.0 * stance, 1),
            "swing_percent": _number(100.0 * (1.0 - stance), 1),
            "toe_off_method": off_method,
        },
        "ood": {
            "flag": bool(row["ood"]),
            "level": level,
            "level_words": LEVEL_SHORT[level],
            "distance": _number(row["ood_distance"], 3),
            "threshold": _number(row["ood_threshold"], 3),
            "outside_fraction": _number(row["ood_outside_fraction"], 3),
            "reason": str(row["ood_reason"]),
            "message": LEVEL_IN_WORDS[level],
        },
        "uncertainty": _cycle_band(curves, targets, side, row),
        "curves": {},
        "peaks": {},
    }
    for target in targets:
        column = target["columns"][side]
        sign = _display_sign(target, side)
        value = curves[column].to_numpy(dtype=float) * sign
        per_kg = curves[column + "_per_kg"].to_numpy(dtype=float) * target["per_kg_factor"] * sign
        record["curves"][target["key"]] = {"value": _rounded(value, 3), "per_kg": _rounded(per_kg)}
        i = int(np.argmax(np.abs(per_kg)))
        record["peaks"][target["key"]] = {
            "value": _number(value[i], 2),
            "per_kg": _number(per_kg[i]),
            "percent": _number(curves["percent"].iloc[i], 1),
        }
    return record


def _cycle_band(
    curves: pd.DataFrame, targets: list[dict[str, Any]], side: str, row: pd.Series
) -> dict[str, Any] | None:
    """A cycle's 90 % band per target (per kg), or None when its bundles carry no band."""
    lower, upper = {}, {}
    for target in targets:
        column = target["columns"][side] + "_per_kg"
        if column + "_lo" in curves:
            factor = target["per_kg_factor"] * _display_sign(target, side)
            ends = (column + "_lo", column + "_hi") if factor > 0 else (column + "_hi", column + "_lo")
            lower[target["key"]] = _rounded(curves[ends[0]] * factor)
            upper[target["key"]] = _rounded(curves[ends[1]] * factor)
    if not lower:
        return None
    inflation = float(row.get("band_inflation", 1.0))
    return {
        "level": LEVEL,
        "widened_by": _number(inflation, 2),
        "message": (
            f"band widened ×{inflation:.2f}: this stride lies outside the training range"
            if inflation > 1.0
            else "band as calibrated on held-out subjects"
        ),
        "lower": lower,
        "upper": upper,
    }


def _uncertainty_summary(predictor: Any) -> dict[str, Any]:
    """What the bands are and what each bundle's band was calibrated on."""
    banded = [b for b in predictor.bundles if b.has_band]
    if not banded:
        return {
            "available": False,
            "reason": "the installed model bundles carry no uncertainty estimate.",
            "format": "when available, each cycle's 'uncertainty' holds {level, widened_by, lower: {key: "
            "[per_kg]}, upper: {key: [per_kg]}} on the same 0–100 % grid; today it is null.",
        }
    return {
        "available": True,
        "level": LEVEL,
        "method": banded[0].manifest["uncertainty"]["method"],
        "ood_rule": ood_rule(),
        "calibration": {b.name: b.manifest["uncertainty"].get("calibration", {}) for b in banded},
        "format": "each cycle's 'uncertainty' holds {level, widened_by, message, lower: {key: [per_kg]}, "
        "upper: {key: [per_kg]}} on the same 0–100 % grid (null for targets without a band).",
    }


def symmetry(cycles: list[dict[str, Any]], targets: list[dict[str, Any]]) -> dict[str, Any]:
    """Left / right symmetry of the peak magnitudes (per kg), averaged over each side's cycles."""
    method = (
        "SI = 100·(R − L) / (½·(R + L)) % (Robinson et al. 1987) of the peak magnitude per kg over the "
        "cycle, each side's peaks averaged over its cycles; 0 % = symmetric, positive = right larger."
    )
    sides = {c["side"] for c in cycles}
    if sides != {"right", "left"}:
        return {
            "available": False,
            "reason": "needs at least one right and one left cycle (choose side = both).",
            "method": method,
            "indices": {},
        }
    indices = {}
    for target in targets:
        key = target["key"]
        if target["kind"] == "contact" and not key.endswith("contact_mag"):
            continue  # the contact force's symmetry is its magnitude's; components add rows, not meaning
        peak = {
            s: float(np.mean([abs(c["peaks"][key]["per_kg"]) for c in cycles if c["side"] == s]))
            for s in ("right", "left")
        }
        indices[key] = {
            "label": target["label"],
            "unit": target["unit_per_kg"],
            "right_peak": _number(peak["right"]),
            "left_peak": _number(peak["left"]),
            "si_percent": _number(symmetry_index(peak["right"], peak["left"]), 1),
        }
    return {"available": True, "reason": "", "method": method, "indices": indices}


def describe(
    prediction: Any,
    predictor: Predictor,
    *,
    angles: pd.DataFrame,
    events: dict,
    notes: list[str],
    filename: str,
    height_m: float | None,
    side: str,
) -> dict[str, Any]:
    """The JSON answer of one analysis: per-cycle records, OOD summary, bands, symmetry."""
    targets = target_table(predictor)
    cycles = [
        _cycle_record(row, prediction, targets, angles, events) for _, row in prediction.cycles.iterrows()
    ]
    n_ood = sum(c["ood"]["flag"] for c in cycles)
    n_unreliable = sum(c["ood"]["level"] == "unreliable" for c in cycles)
    result = {
        "file": filename,
        "mass_kg": prediction.mass_kg,
        "height_m": height_m,
        "side": side,
        "model": {
            "bundles": list(prediction.bundles),
            "simulated": prediction.simulated,
            "note": _model_note(predictor, prediction.simulated),
        },
        "notes": notes,
        "percent": _rounded(prediction.curves.loc[prediction.curves["cycle"] == 1, "percent"], 2),
        "targets": targets,
        "cycles": cycles,
        "ood_summary": {
            "flag": bool(n_ood),
            "cycles_out_of_distribution": n_ood,
            "cycles_unreliable": n_unreliable,
            "cycles": len(cycles),
            "message": _ood_message(n_ood, n_unreliable, len(cycles)),
            "method": "Mahalanobis distance of the stride's joint-angle curves from the training strides "
            f"(PCA space + residual), flagged above the {distance_rule()}, or when {outside_rule()}.",
            "levels": level_rules(),
        },
        "uncertainty": _uncertainty_summary(predictor),
        "symmetry": symmetry(cycles, targets),
    }
    return result


def _ood_message(n_ood: int, n_unreliable: int, n_cycles: int) -> str:
    if not n_ood:
        return OK_IN_WORDS
    message = f"{n_ood} of {n_cycles} strides lie outside the training range. {OOD_IN_WORDS}"
    if n_unreliable:
        message += f" {n_unreliable} of them are unreliable and not drawn."
    return message
