"""Walking kinematics generator: normative data, cadence mapping, smoothness, variation, patients."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.sim.kinematics import (
    MODEL_COORDINATES,
    GaitAlteration,
    SubjectStyle,
    cadence_to_speed,
    fourier_coefficients,
    fourier_evaluate,
    generate_walk,
    load_vanderzee,
    normative_at_speed,
)


@pytest.fixture(scope="module")
def table(shared):
    return load_vanderzee(str(shared / "reference" / "vanderzee2022"))


def test_fourier_series_reproduces_samples_and_derivatives():
    phase = np.linspace(0, 1, 100, endpoint=False)
    signal = np.column_stack([np.sin(2 * np.pi * phase), 0.3 + np.cos(4 * np.pi * phase)])
    coef = fourier_coefficients(signal, n_harmonics=8)
    np.testing.assert_allclose(fourier_evaluate(coef, phase), signal, atol=1e-12)
    np.testing.assert_allclose(
        fourier_evaluate(coef, phase, derivative=1)[:, 0], 2 * np.pi * np.cos(2 * np.pi * phase), atol=1e-9
    )


def test_normative_data_loaded_in_model_frame(table):
    assert [round(g.speed_m_s, 1) for g in table] == [0.7, 1.1, 1.4, 1.8]
    for gait in table:
        # Heading removed: the pelvis faces +x on average, translations centred.
        assert abs(gait.mean[:, 2].mean()) < 0.02
        assert abs(gait.mean[:, 3].mean()) < 1e-9
        # Pelvic obliquity (list) oscillates more than tilt in walking; tilt stays within ±6°.
        assert np.ptp(gait.mean[:, 0]) < np.radians(12)
        assert 0.55 < gait.toe_off_r < 0.66 and 0.45 <= gait.heel_strike_l <= 0.55
    # Group cadence rises with speed (the walk-ratio relation the generator relies on).
    assert [g.cadence_spm for g in table] == sorted(g.cadence_spm for g in table)


def test_cadence_to_speed_follows_the_walk_ratio(table):
    assert cadence_to_speed(115, height_m=1.758) == pytest.approx(0.0065 * 115**2 / 60)
    # The walk ratio reproduces van der Zee's own speed at their cadence within 10 %.
    for gait in table:
        assert cadence_to_speed(gait.cadence_spm, height_m=1.758) == pytest.approx(gait.speed_m_s, rel=0.1)
    assert cadence_to_speed(78, height_m=1.9) > cadence_to_speed(78, height_m=1.6)


def test_walk_is_smooth_with_exact_derivatives(table):
    gait = normative_at_speed(cadence_to_speed(115, height_m=1.75), table)
    rng = np.random.default_rng(3)
    walk = generate_walk(
        normative=gait,
        cadence_spm=115,
        height_m=1.75,
        style=SubjectStyle.draw(rng),
        rng=rng,
        n_strides=4,
        sample_rate_hz=1000.0,
    )
    dt = walk.time[1] - walk.time[0]
    numeric_vel = np.gradient(walk.values, dt, axis=0)[5:-5]
    numeric_acc = np.gradient(walk.velocities, dt, axis=0)[5:-5]
    assert np.abs(numeric_vel - walk.velocities[5:-5]).max() < 0.05
    assert np.abs(numeric_acc - walk.accelerations[5:-5]).max() < 2.0
    # Stride times ≈ 120 / cadence; events alternate and the labelled cycles are inner strides.
    strides = np.diff(walk.heel_strikes_r)
    assert strides.mean() == pytest.approx(120 / 115, rel=0.05)
    cycles = walk.labelled_cycles()
    assert len(cycles) == 2 and cycles[0][0] == walk.heel_strikes_r[1]
    knee = np.degrees(walk.column("knee_angle_r"))
    assert 50 < knee.max() < 80 and knee.min() > -10
    frame = walk.coordinates_frame()
    assert list(frame.columns[1:]) == list(MODEL_COORDINATES)
    assert frame["knee_angle_r"].max() > 40  # degrees in the OpenSim table


def test_patient_walk_keeps_exact_derivatives(table):
    gait = normative_at_speed(1.0, table)
    rng = np.random.default_rng(4)
    walk = generate_walk(
        normative=gait,
        cadence_spm=100,
        height_m=1.7,
        style=SubjectStyle.draw(rng),
        rng=rng,
        sample_rate_hz=1000.0,
        alteration=GaitAlteration(
            hip_rom_reduction=0.3, stance_shortening=0.04, trunk_lean_rad=np.radians(8)
        ),
    )
    dt = walk.time[1] - walk.time[0]
    assert np.abs(np.gradient(walk.values, dt, axis=0) - walk.velocities)[5:-5].max() < 0.05
    assert np.abs(np.gradient(walk.velocities, dt, axis=0) - walk.accelerations)[5:-5].max() < 2.0
    # The local warp leaves the right leg's timing alone away from toe-off: peak knee
    # acceleration stays within 25 % of the healthy walk's.
    healthy = generate_walk(
        normative=gait,
        cadence_spm=100,
        height_m=1.7,
        style=SubjectStyle.draw(np.random.default_rng(4)),
        rng=np.random.default_rng(4),
        sample_rate_hz=1000.0,
    )
    j = MODEL_COORDINATES.index("knee_angle_r")
    assert np.abs(walk.accelerations[:, j]).max() < 1.25 * np.abs(healthy.accelerations[:, j]).max()


def test_subject_style_persists_and_strides_vary(table):
    gait = normative_at_speed(1.2, table)
    style = SubjectStyle.draw(np.random.default_rng(1))
    a = generate_walk(
        normative=gait, cadence_spm=105, height_m=1.7, style=style, rng=np.random.default_rng(5)
    )
    b = generate_walk(
        normative=gait, cadence_spm=105, height_m=1.7, style=style, rng=np.random.default_rng(5)
    )
    np.testing.assert_array_equal(a.values, b.values)  # reproducible
    other = generate_walk(
        normative=gait,
        cadence_spm=105,
        height_m=1.7,
        style=SubjectStyle.draw(np.random.default_rng(2)),
        rng=np.random.default_rng(5),
    )
    j = MODEL_COORDINATES.index("hip_flexion_r")
    assert np.abs(a.values[:, j] - other.values[:, j]).max() > np.radians(0.5)


def test_patient_alteration_reduces_hip_extension_and_stance(table):
    gait = normative_at_speed(1.0, table)
    style = SubjectStyle.draw(np.random.default_rng(1))
    healthy = generate_walk(
        normative=gait, cadence_spm=100, height_m=1.7, style=style, rng=np.random.default_rng(9)
    )
    patient = generate_walk(
        normative=gait,
        cadence_spm=100,
        height_m=1.7,
        style=style,
        rng=np.random.default_rng(9),
        alteration=GaitAlteration(
            hip_rom_reduction=0.25, stance_shortening=0.03, trunk_lean_rad=np.radians(6)
        ),
    )
    hip_h, hip_p = np.degrees(healthy.column("hip_flexion_r")), np.degrees(patient.column("hip_flexion_r"))
    assert hip_p.min() > hip_h.min() + 5  # less peak extension
    assert np.ptp(hip_p) < 0.8 * np.ptp(hip_h)
    stance_h = np.mean(healthy.toe_offs_r[:3] - healthy.heel_strikes_r[:3])
    stance_p = np.mean(patient.toe_offs_r[:3] - patient.heel_strikes_r[:3])
    assert stance_p < stance_h
    bend = np.degrees(patient.column("lumbar_bending") - healthy.column("lumbar_bending"))
    assert bend.max() == pytest.approx(6, abs=0.5) and bend.min() > -0.5


def test_out_of_range_cadence_is_a_clear_error():
    from gait2hip.errors import Gait2HipInputError

    with pytest.raises(Gait2HipInputError, match="cadence"):
        cadence_to_speed(300, height_m=1.7)


def test_input_angles_vary_between_subjects_as_much_as_real_people(table, shared):
    """Per-subject cycle means of the INPUT hip flexion / rotation / knee angles (simulated body plus
    measurement offset) spread like those of the 30 real adults of Fukuchi et al. (2018); for the hips
    the 3° simulated offsets alone give 40–60 % of that spread."""
    import glob

    import pandas as pd

    from gait2hip.sim.kinematics import measurement_offsets

    gait = normative_at_speed(1.3, table)
    names = ("hip_flexion_r", "hip_rotation_r", "knee_angle_r")
    body, inputs = [], []
    for i in range(60):
        walk = generate_walk(
            normative=gait,
            cadence_spm=110,
            height_m=1.7,
            style=SubjectStyle.draw(np.random.default_rng(100 + i)),
            rng=np.random.default_rng(i),
            n_strides=3,
        )
        means = np.degrees([walk.column(n).mean() for n in names])
        offsets = measurement_offsets(np.random.default_rng(1000 + i))
        body.append(means)
        inputs.append(means + [offsets[n] for n in names])
    body_sd, input_sd = np.std(body, axis=0, ddof=1), np.std(inputs, axis=0, ddof=1)
    files = sorted(glob.glob(str(shared / "real" / "fukuchi2018" / "WBDS*walkOCang.tsv")))
    real = np.array(
        [
            pd.read_csv(f, sep="\t", comment="#")[["RHipAngleZ", "RHipAngleY", "RKneeAngleZ"]].mean()
            for f in files
        ]
    )
    real_sd = real.std(axis=0, ddof=1)  # ≈ 6.7, 4.4, 3.7 deg
    assert np.all(body_sd[:2] < 0.75 * real_sd[:2])  # hips: the simulated body alone varies too little
    np.testing.assert_allclose(input_sd, real_sd, rtol=0.35)
