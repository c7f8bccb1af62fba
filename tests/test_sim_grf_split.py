"""The total GRF split between the feet (gait2hip.sim.grf_split): ZMP, foot projection, transitions."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.sim.grf_split import (
    GaitEvents,
    project_to_foot,
    split_between_feet,
    transition_decay,
    zero_moment_point,
)


def test_zero_moment_point_recovers_the_point_of_application():
    rng = np.random.default_rng(0)
    n = 20
    point = np.column_stack([rng.uniform(-1, 1, n), np.zeros(n), rng.uniform(-0.2, 0.2, n)])
    force = np.column_stack([rng.normal(0, 100, n), rng.uniform(400, 900, n), rng.normal(0, 30, n)])
    free = rng.normal(0, 5, n)
    origin = np.column_stack([np.zeros(n), np.full(n, 0.95), np.zeros(n)])
    moment = np.cross(point - origin, force) + np.column_stack([np.zeros(n), free, np.zeros(n)])
    zmp, free_est = zero_moment_point(force, moment, origin, 0.0)
    np.testing.assert_allclose(zmp, point, atol=1e-9)
    np.testing.assert_allclose(free_est, free, atol=1e-9)


def test_transition_decay_is_smooth_from_one_to_zero():
    tau = np.linspace(0, 1, 101)
    decay = transition_decay(tau)
    assert decay[0] == pytest.approx(1.0) and decay[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(decay) < 0)


def test_project_to_foot_keeps_points_inside_and_leaves_inner_points():
    heel = np.array([[0.0, 0.0, 0.0]] * 2)
    toe = np.array([[0.18, 0.0, 0.0]] * 2)
    points = np.array([[0.1, 0.0, 0.01], [0.6, 0.0, 0.3]])
    out = project_to_foot(points, heel, toe)
    np.testing.assert_allclose(out[0], points[0])
    assert out[1, 0] == pytest.approx(0.18 + 0.06) and out[1, 2] == pytest.approx(0.045)


def test_split_conserves_the_total_force_and_respects_contact():
    time = np.linspace(0.0, 1.2, 241)
    events = GaitEvents(
        heel_strikes_r=np.array([0.0, 1.2]),
        toe_offs_r=np.array([0.72]),
        heel_strikes_l=np.array([0.6]),
        toe_offs_l=np.array([0.12]),
    )
    force = np.column_stack([20 * np.sin(6 * time), 700 + 100 * np.cos(10 * time), 5 * np.cos(3 * time)])
    origin = np.column_stack([1.2 * time, np.full_like(time, 0.95), 0.02 * np.sin(5 * time)])
    heel_r = np.column_stack([np.full_like(time, 0.1), np.zeros_like(time), np.full_like(time, 0.09)])
    heel_l = np.column_stack([np.full_like(time, 0.8), np.zeros_like(time), np.full_like(time, -0.09)])
    landmarks = {
        "calcn_r": heel_r,
        "toes_r": heel_r + np.array([0.18, 0, 0]),
        "calcn_l": heel_l,
        "toes_l": heel_l + np.array([0.18, 0, 0]),
    }
    # A moment putting the ZMP on whichever foot is loaded (mid-foot).
    target = np.where((time < 0.6)[:, None], heel_r + np.array([0.08, 0, 0]), heel_l + np.array([0.08, 0, 0]))
    moment = np.cross(target - origin, force)
    loads = split_between_feet(
        time=time, force=force, moment=moment, origin=origin, events=events, landmarks=landmarks, floor_y=0.0
    )
    np.testing.assert_allclose(loads.force["r"] + loads.force["l"], force, atol=1e-9)
    single_r = (time > 0.13) & (time < 0.59)
    assert np.all(loads.force["l"][single_r] == 0)
    np.testing.assert_allclose(loads.point["r"][single_r], target[single_r], atol=1e-9)
    frame = loads.frame()
    assert "ground_force_r_vy" in frame and "ground_torque_l_y" in frame
    # Double support after the left heel strike: the trailing right foot unloads smoothly.
    double = (time > 0.6) & (time < 0.72)
    assert np.all(np.diff(loads.force["r"][double, 1]) < 0)
