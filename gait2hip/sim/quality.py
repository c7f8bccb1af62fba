"""Per-cycle quality record of a labelled gait cycle, with documented pass/fail thresholds.

A cycle's labels are only as good as the dynamics behind them. For each cycle we record:

* **Pelvis residuals** — the generalized forces inverse dynamics needs at the pelvis (the
  6 coordinates of the joint to ground) when the measured ground reactions are applied:
  forces ``pelvis_t{x,y,z}`` as a resultant, normalised by body weight (BW = m·g);
  moments ``pelvis_{tilt,list,rotation}`` as a resultant, normalised by BW × height. RMS and
  peak over the cycle. Large residuals mean kinematics, GRF and model disagree (marker or
  force-plate errors, mass distribution, a foot off the plates).
* **Reserve use** — for each hip coordinate of both legs, the peak |reserve torque| from
  static optimisation relative to the peak |net hip moment| of that coordinate.
* **Saturated muscles** — hip-group muscles whose activation reaches ≥ 0.99 at some frame
  (the muscle is too weak there; the reserve or its synergists took over).
* **GRF support** — the lowest total vertical GRF over the cycle as a fraction of BW
  (walking has no flight phase: a value near 0 means a foot stood off the plates).

Thresholds (:class:`QualityThresholds`) follow Hicks, Uchida, Seth, Rajagopal & Delp (2015),
"Is my model good enough? Best practices for verification and validation of
musculoskeletal models and simulations of movement", J Biomech Eng 137(2):020905, Table 2:
residual forces RMS < 5 % of the (peak) external force — we use BW, of the same order in
walking —, residual moments RMS < 1 % of COM height × external force — we use BW × height,
which is more lenient by the COM-height/height ratio (≈ 0.55) and documented as such —,
and reserves that stay small next to the net joint moments (here: peak < 5 % of the peak net
hip moment, the usual reading of "reserve actuators should be small"). Cycles past any
threshold are flagged and excluded from the dataset; the reasons are kept in the record.

**These are post-RRA criteria, and ``gait2hip label`` runs plain inverse dynamics.** Hicks et
al. and OpenSim's "Simulation with OpenSim — best practices" give them for simulations whose
residuals were reduced (RRA/CMC); OpenSim's page expects RRA to cut residual moments by 30–50 %
against inverse dynamics, and states its own post-RRA limits in newtons: RMS residual force
5–15 N (≈ 0.7–2 % BW for 70–85 kg) and RMS residual moment < 50 N·m (≈ 3.3–3.8 % BW·h for the
subjects below). Measured with the defaults on the shared OpenSim examples (raw IK + force
plates, fast SO; rerun ``gait2hip label --model M --ik IK --grf GRF --loads XML --out DIR
--keep-flagged`` and read ``DIR/qa.csv``; rajagopal-walk scaled and IK'd by
:func:`gait2hip.sim.throughput.prepare_rajagopal_walk`):

=====================  =====  ==================  =====================  =============
example cycle          side   residual F RMS      residual M RMS         saturated hip
=====================  =====  ==================  =====================  =============
gait2392 subject01     R1     5.03 % BW           1.67 % BW·h            3 muscles
gait2392 subject01     L1     4.94 % BW           1.68 % BW·h            5 muscles
rajagopal-walk         R1     30.3 % BW           2.33 % BW·h            2 (foot off
                                                                         the plates)
moco-3d-walking        —      no complete cycle inside the GRF (0.45–1.80 s)
=====================  =====  ==================  =====================  =============

So every real example cycle fails the 1 % BW·h moment limit (the force limit is borderline on
gait2392), and a labelled real trial without RRA yields no dataset by default: the limits are
right for dynamically consistent labels (what training needs), too strict to describe raw ID.
They stay the defaults — labels for training should be dynamically consistent — and
``--keep-flagged`` keeps flagged cycles (their reasons stay in ``qa.csv``) when raw-ID labels
are acceptable for the purpose. Reasons print two decimals so that "5.03 % > 5 %" is not read
as "5.0 % > 5 %".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from gait2hip.data.dataset import GRAVITY

PELVIS_FORCES = ("pelvis_tx_force", "pelvis_ty_force", "pelvis_tz_force")
PELVIS_MOMENTS = ("pelvis_tilt_moment", "pelvis_list_moment", "pelvis_rotation_moment")
HIP_COORDINATES = (
    "hip_flexion_r", "hip_adduction_r", "hip_rotation_r",
    "hip_flexion_l", "hip_adduction_l", "hip_rotation_l",
)  # fmt: skip


@dataclass(frozen=True)
class QualityThresholds:
    """Pass/fail limits of a labelled cycle (see the module docstring for the sources).

    Parameters
    ----------
    residual_force_rms_bw
        RMS of the pelvis residual force resultant, fraction of body weight (Hicks: 5 %).
    residual_moment_rms_bwh
        RMS of the pelvis residual moment resultant, fraction of BW × height (Hicks: 1 %).
    reserve_peak_fraction
        Peak |hip reserve| / peak |net hip moment|, per hip coordinate.
    saturation_activation
        Activation at or above which a muscle counts as saturated.
    max_saturated_muscles
        Hip-group muscles allowed to saturate in a cycle.
    min_grf_support_bw
        Lowest total vertical GRF over the cycle, fraction of BW (a foot off the plates).
    """

    residual_force_rms_bw: float = 0.05
    residual_moment_rms_bwh: float = 0.01
    reserve_peak_fraction: float = 0.05
    saturation_activation: float = 0.99
    max_saturated_muscles: int = 0
    min_grf_support_bw: float = 0.5


def _inside(frame: pd.DataFrame, t0: float, t1: float) -> pd.DataFrame:
    index = frame.index.to_numpy(dtype=float)
    return frame.loc[(index >= t0 - 1e-9) & (index <= t1 + 1e-9)]


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2))) if values.size else float("nan")


def cycle_quality(
    *,
    moments: pd.DataFrame,
    start: float,
    end: float,
    mass_kg: float,
    height_m: float,
    reserves: pd.DataFrame | None = None,
    activations: pd.DataFrame | None = None,
    hip_muscles: Sequence[str] = (),
    grf_support_bw: float = float("nan"),
    thresholds: QualityThresholds = QualityThresholds(),
) -> dict:
    """The quality record of one cycle.

    Parameters
    ----------
    moments
        Inverse dynamics WITH the measured loads (time × generalized force), N / N m.
    start, end
        The cycle, s.
    mass_kg, height_m
        Body mass and height (for BW and BW × height).
    reserves
        Reserve actuation per coordinate (``SOResult.reserve_by_coordinate()``), N m.
    activations
        SO activations (time × actuator).
    hip_muscles
        Muscles of the 14 hip groups (both sides) checked for saturation.
    grf_support_bw
        Lowest total vertical GRF over the cycle / BW (``data.cycles.grf_support_fraction``).
    thresholds
        Pass/fail limits.

    Returns
    -------
    dict
        Figures, ``flagged`` (bool), ``flags`` (space-separated codes: residual_force,
        residual_moment, reserve, saturation, grf_support, non_finite) and ``reasons``
        (readable, '; '-joined); both empty when the cycle passes.
    """
    weight = mass_kg * GRAVITY
    window = _inside(moments, start, end)
    record: dict = {
        "start_s": float(start),
        "end_s": float(end),
        "mass_kg": float(mass_kg),
        "height_m": height_m,
    }
    flags: list[tuple[str, str]] = []  # (code, reason)
    _residuals(record, window, weight=weight, height_m=height_m, thresholds=thresholds, flags=flags)
    if reserves is not None:
        _reserve_share(record, window, _inside(reserves, start, end), thresholds=thresholds, flags=flags)
    if activations is not None and hip_muscles:
        activation_window = _inside(activations, start, end)
        present = [m for m in hip_muscles if m in activation_window]
        saturated = [
            m for m in present if float(activation_window[m].max()) >= thresholds.saturation_activation
        ]
        record["saturated_muscles"] = len(saturated)
        record["saturated_names"] = " ".join(saturated)
        if len(saturated) > thresholds.max_saturated_muscles:
            flags.append(("saturation", f"{len(saturated)} saturated hip muscle(s): {', '.join(saturated)}"))
    record["grf_support_bw"] = float(grf_support_bw)
    if np.isfinite(grf_support_bw) and grf_support_bw < thresholds.min_grf_support_bw:
        flags.append(
            (
                "grf_support",
                f"total vertical GRF drops to {100 * grf_support_bw:.0f} % BW (a foot off the force plates?)",
            )
        )
    if not np.isfinite(window.to_numpy()).all():
        flags.append(("non_finite", "non-finite inverse-dynamics values"))
    record["flagged"] = bool(flags)
    record["flags"] = " ".join(code for code, _ in flags)
    record["reasons"] = "; ".join(reason for _, reason in flags)
    return record


def _residuals(
    record: dict,
    window: pd.DataFrame,
    *,
    weight: float,
    height_m: float,
    thresholds: QualityThresholds,
    flags: list[tuple[str, str]],
) -> None:
    """Pelvis residual force (BW) and moment (BW·h), RMS and peak, into ``record``; limits into ``flags``."""
    if all(c in window for c in PELVIS_FORCES):
        force = np.linalg.norm(window[list(PELVIS_FORCES)].to_numpy(), axis=1)
        record["residual_force_rms_bw"] = _rms(force) / weight
        record["residual_force_peak_bw"] = float(force.max(initial=0.0)) / weight
        if record["residual_force_rms_bw"] > thresholds.residual_force_rms_bw:
            flags.append(
                (
                    "residual_force",
                    f"pelvis residual force RMS {100 * record['residual_force_rms_bw']:.2f} % BW "
                    f"> {100 * thresholds.residual_force_rms_bw:g} %",
                )
            )
    if all(c in window for c in PELVIS_MOMENTS):
        moment = np.linalg.norm(window[list(PELVIS_MOMENTS)].to_numpy(), axis=1)
        record["residual_moment_rms_bwh"] = _rms(moment) / (weight * height_m)
        record["residual_moment_peak_bwh"] = float(moment.max(initial=0.0)) / (weight * height_m)
        if record["residual_moment_rms_bwh"] > thresholds.residual_moment_rms_bwh:
            flags.append(
                (
                    "residual_moment",
                    f"pelvis residual moment RMS {100 * record['residual_moment_rms_bwh']:.2f} % BW·h "
                    f"> {100 * thresholds.residual_moment_rms_bwh:g} %",
                )
            )


def _reserve_share(
    record: dict,
    window: pd.DataFrame,
    reserve_window: pd.DataFrame,
    *,
    thresholds: QualityThresholds,
    flags: list[tuple[str, str]],
) -> None:
    """Peak |hip reserve| per hip coordinate and the worst share of its peak net moment."""
    worst, worst_coordinate = 0.0, ""
    for coordinate in HIP_COORDINATES:
        moment_column = f"{coordinate}_moment"
        if coordinate not in reserve_window or moment_column not in window:
            continue
        peak_moment = float(np.abs(window[moment_column].to_numpy()).max(initial=0.0))
        peak_reserve = float(np.abs(reserve_window[coordinate].to_numpy()).max(initial=0.0))
        record[f"reserve_peak_nm_{coordinate}"] = peak_reserve
        fraction = peak_reserve / peak_moment if peak_moment > 0 else float("inf") * (peak_reserve > 0)
        if fraction > worst:
            worst, worst_coordinate = fraction, coordinate
    record["reserve_peak_fraction"] = worst
    record["reserve_worst_coordinate"] = worst_coordinate
    if worst > thresholds.reserve_peak_fraction:
        flags.append(
            (
                "reserve",
                f"hip reserve {100 * worst:.1f} % of the peak {worst_coordinate} moment "
                f"> {100 * thresholds.reserve_peak_fraction:g} %",
            )
        )


def quality_summary(records: Sequence[dict] | pd.DataFrame) -> dict:
    """Counts for the report: cycles, kept, flagged, and how often each reason occurred."""
    table = pd.DataFrame(records)
    summary = {"cycles": len(table), "kept": 0, "flagged": 0, "by_reason": {}}
    if table.empty:
        return summary
    flagged = table["flagged"].astype(bool)
    summary["flagged"] = int(flagged.sum())
    summary["kept"] = int((~flagged).sum())
    by_reason: dict[str, int] = {}
    for text in table.loc[flagged, "flags"]:
        for code in str(text).split():
            by_reason[code] = by_reason.get(code, 0) + 1
    summary["by_reason"] = dict(sorted(by_reason.items()))
    return summary


def thresholds_dict(thresholds: QualityThresholds) -> dict:
    """The thresholds as a plain dict (written next to the QA record)."""
    return asdict(thresholds)
