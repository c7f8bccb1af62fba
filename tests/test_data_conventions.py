"""The Visual3D / Plug-in Gait convention adapter, and the evidence that the Fukuchi mapping is right.

The evidence tests correlate the RAW exported components (before any mapping) of the Fukuchi
group-mean curves with van der Zee (2022) OpenSim IK / ID at the stance-matched treadmill
speed. Thresholds, and why:

* hip flexion, hip adduction, knee, hip flexion / adduction moments: r ≥ 0.85 — sagittal and
  frontal mean curves of healthy walking agree across labs at r ≈ 0.9–0.99 (measured here
  0.89–0.99); a wrong axis gives |r| ≤ 0.85 (the next-best component reaches 0.85 only for
  hip flexion's Y, a Cardan cross-talk) and a wrong sign gives r < 0;
* ankle: r ≥ 0.75 — foot models differ between labs (measured 0.80–0.93);
* hip rotation angle and moment: r ≥ 0.4 with the mapped sign — transverse-plane hip curves
  are the least reproducible between labs (soft-tissue artefact, different hip-joint-centre
  and thigh definitions; measured 0.48–0.77 and 0.63–0.75). Their axis (Y) is the one left
  once X (adduction) and Z (flexion) are fixed; the data fix its SIGN (negative at every
  speed and side).
"""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.data.columns import INPUT_ANGLES
from gait2hip.data.conventions import (
    FUKUCHI_VISUAL3D,
    LEG_ANGLES,
    PLUGIN_GAIT,
    Channel,
    contralateral_heel_strike,
    cycle_inputs,
    hip_moments,
    joint_xyz,
    leg_angles,
    shift_cycle,
    trial_angles,
)
from gait2hip.errors import Gait2HipInputError

MIN_R = {
    "hip_flexion": 0.85,
    "hip_adduction": 0.85,
    "knee_angle": 0.85,
    "ankle_angle": 0.75,
    "hip_rotation": 0.4,
    "hip_flexion_moment": 0.85,
    "hip_adduction_moment": 0.85,
    "hip_rotation_moment": 0.4,
}


@pytest.fixture(scope="module")
def evidence(shared):
    from gait2hip.data.fukuchi_evidence import convention_evidence

    return convention_evidence(shared)


def test_mapping_sign_and_correlation_against_van_der_zee(evidence) -> None:
    vz = evidence[evidence["reference"].str.startswith("van der Zee")]
    assert set(vz["condition"]) == {"S", "C", "F"} and set(vz["side"]) == {"right", "left"}
    assert len(vz) == 3 * 2 * 8
    for row in vz.itertuples():
        assert row.r >= MIN_R[row.channel], (row.condition, row.side, row.channel, row.r)
        raw = {"X": row.r_X, "Y": row.r_Y, "Z": row.r_Z}[row.mapped[1]]
        # the mapped sign is the measured sign of the raw component
        assert np.sign(raw) == (1 if row.mapped[0] == "+" else -1)


def test_sagittal_and_frontal_axes_are_the_best_components(evidence) -> None:
    vz = evidence[evidence["reference"].str.startswith("van der Zee")]
    strong = vz[
        vz["channel"].isin(
            [
                "hip_flexion",
                "hip_adduction",
                "knee_angle",
                "ankle_angle",
                "hip_flexion_moment",
                "hip_adduction_moment",
            ]
        )
    ]
    assert (strong["best"] == strong["mapped"]).all(), strong[strong["best"] != strong["mapped"]]


def test_left_side_needs_no_mirroring_in_fukuchi(evidence) -> None:
    """The LEFT hip's raw X correlates positively with OpenSim adduction: the left side is anatomical."""
    vz = evidence[evidence["reference"].str.startswith("van der Zee")]
    left = vz[(vz["side"] == "left") & (vz["channel"] == "hip_adduction")]
    assert (left["r_X"] > 0.85).all()
    assert FUKUCHI_VISUAL3D.angles["hip_adduction"]["left"] == Channel(0, 1.0)


def test_example_trials_agree_in_sign(evidence) -> None:
    trials = evidence[~evidence["reference"].str.startswith("van der Zee")]
    assert set(trials["reference"]) == {"gait2392-subject01", "moco-3d-walking"}
    assert (trials["r"] > 0.4).all(), trials[trials["r"] <= 0.4]


def test_leg_angles_pick_axis_and_sign() -> None:
    t = np.linspace(0, 1, 5)
    xyz = {j: np.stack([t + 1, t + 2, t + 3], axis=1) for j in ("hip", "knee", "ankle")}
    out = leg_angles(xyz, side="left", convention=FUKUCHI_VISUAL3D)
    np.testing.assert_allclose(out["hip_flexion"], t + 3)
    np.testing.assert_allclose(out["hip_adduction"], t + 1)
    np.testing.assert_allclose(out["hip_rotation"], -(t + 2))
    pig = leg_angles(xyz, side="right", convention=PLUGIN_GAIT)
    np.testing.assert_allclose(pig["hip_flexion"], t + 1)
    np.testing.assert_allclose(pig["hip_rotation"], t + 3)


def test_plug_in_gait_moments_are_refused_until_established() -> None:
    with pytest.raises(Gait2HipInputError) as info:
        hip_moments(np.zeros((5, 3)), side="right", convention=PLUGIN_GAIT)
    assert "no established hip-moment mapping" in str(info.value)


def test_bad_shapes_and_missing_columns_name_the_column() -> None:
    with pytest.raises(Gait2HipInputError) as info:
        leg_angles(
            {"hip": np.zeros((5, 2)), "knee": np.zeros((5, 3)), "ankle": np.zeros((5, 3))},
            side="right",
            convention=FUKUCHI_VISUAL3D,
            source="trial.tsv",
        )
    assert "X, Y, Z" in str(info.value) and info.value.file is not None
    with pytest.raises(Gait2HipInputError) as info:
        joint_xyz(
            {"RHipAngleX": [0.0], "RHipAngleY": [0.0]},
            side="right",
            joint="hip",
            convention=FUKUCHI_VISUAL3D,
            source="trial.tsv",
        )
    assert info.value.column == "RHipAngleZ"


def test_shift_cycle_moves_a_feature_by_the_heel_strike() -> None:
    curve = np.zeros(101)
    curve[10] = 1.0  # a peak at 10 % of the other leg's own cycle
    shifted = shift_cycle(curve, 50.0)
    assert int(np.argmax(shifted)) == 60
    # a half-percent shift interpolates between neighbours
    half = shift_cycle(curve, 50.5)
    np.testing.assert_allclose(half[60:62], [0.5, 0.5])


def test_contralateral_heel_strike_recovers_a_known_shift() -> None:
    p = np.linspace(0, 100, 101)
    stance = np.where(p < 62, np.sin(np.pi * np.clip(p, 0, 62) / 62) * 10, 0.0)
    other = stance.copy()  # two identical feet: the other one lands half a cycle later
    estimate = contralateral_heel_strike(stance, other)
    assert abs(estimate - 50.0) <= 0.5  # symmetric feet: half a cycle
    asymmetric = np.where(p < 58, np.sin(np.pi * np.clip(p, 0, 58) / 58) * 10, 0.0)
    assert contralateral_heel_strike(stance, asymmetric) != estimate


def test_cycle_inputs_put_the_own_leg_in_the_right_slots() -> None:
    own = {name: np.full(101, float(i)) for i, name in enumerate(LEG_ANGLES)}
    other = {name: np.linspace(0, 100, 101) + 100 * (i + 1) for i, name in enumerate(LEG_ANGLES)}
    X = cycle_inputs(own, other, other_heel_strike_percent=50.0)
    assert X.shape == (101, 10)
    assert X[0, INPUT_ANGLES.index("knee_angle_r")] == 3.0
    # the other leg's knee at this cycle's 0 % is its own 50 %
    assert X[0, INPUT_ANGLES.index("knee_angle_l")] == pytest.approx(400 + 50)


def test_plug_in_gait_points_to_the_ten_inputs() -> None:
    """C3D model outputs (ezc3d layout [3, T]) of both legs → the 10 inputs on the trial's time base."""
    T = 7
    points = {}
    for letter in "RL":
        for k, joint in enumerate(("Hip", "Knee", "Ankle")):
            points[f"{letter}{joint}Angles"] = np.stack(
                [np.full(T, 10.0 * k + a + (letter == "L")) for a in (1, 2, 3)]
            )
    xyz = {
        side: {
            j: joint_xyz(points, side=side, joint=j, convention=PLUGIN_GAIT) for j in ("hip", "knee", "ankle")
        }
        for side in ("right", "left")
    }
    angles = trial_angles(xyz, convention=PLUGIN_GAIT)
    assert list(angles) == list(INPUT_ANGLES)
    assert angles["hip_flexion_r"][0] == 1.0 and angles["hip_rotation_l"][0] == 4.0
    assert angles["knee_angle_r"][0] == 11.0 and angles["ankle_angle_l"][0] == 22.0
    with pytest.raises(Gait2HipInputError) as info:
        joint_xyz({}, side="left", joint="knee", convention=PLUGIN_GAIT)
    assert info.value.column == "LKneeAngles"
