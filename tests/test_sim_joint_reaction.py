"""Hip joint contact force: equal to OpenSim's JointReaction analysis, and its data plumbing."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import CONTACT_L, CONTACT_R

needs_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def _error_of_peak(ours: pd.DataFrame, reference: pd.DataFrame) -> pd.Series:
    """Per hip: max |ours − reference| over frames and components / peak reference |F|."""
    np.testing.assert_allclose(ours.index, reference.index, atol=1e-9)
    errors = {}
    for hip, names in (("right", CONTACT_R), ("left", CONTACT_L)):
        peak = reference[names[0]].max()
        errors[hip] = np.abs(ours[list(names)].to_numpy() - reference[list(names)].to_numpy()).max() / peak
    return pd.Series(errors)


@needs_opensim
def test_same_forces_give_opensims_joint_reaction_to_round_off(examples):
    from gait2hip.sim.joint_reaction import hip_contact_forces
    from gait2hip.sim.static_optimization import run_static_optimization

    folder = examples / "gait2392-subject01"
    trial = dict(
        model=folder / "subject01_simbody.osim",
        coordinates=folder / "subject01_walk1_ik.mot",
        external_loads=folder / "subject01_walk1_grf.xml",
        lowpass_hz=6.0,
    )
    so = run_static_optimization(solver="fast", time_range=(0.85, 1.05), **trial)
    ours = hip_contact_forces(forces=so.forces, **trial)
    reference = hip_contact_forces(method="opensim", forces=so.forces, **trial)
    assert list(ours.columns) == list(CONTACT_R + CONTACT_L)
    assert _error_of_peak(ours, reference).max() < 1e-6
    # Reusing the SO's own q and u (what label and the cohort do) changes nothing.
    reused = hip_contact_forces(forces=so.forces, kinematics=so.info["kinematics"], **trial)
    np.testing.assert_allclose(reused.to_numpy(), ours.to_numpy(), rtol=0, atol=1e-6)
    # Right mid-stance (0.85-1.05 s of a 0.62 s heel strike): the pelvis pushes the femoral head
    # down (negative femur-frame y) with 1.5-6 body weights (72.6 kg).
    body_weight = 72.6 * 9.81
    assert 1.5 < ours["hip_r_contact_mag"].max() / body_weight < 6.0
    assert (ours["hip_r_contact_y"] < 0).all()
    # |F| is the same in the pelvis frame (its components are rotated separately).
    pelvis = ours[["hip_r_contact_pelvis_x", "hip_r_contact_pelvis_y", "hip_r_contact_pelvis_z"]]
    magnitude = np.linalg.norm(pelvis.to_numpy(), axis=1)
    np.testing.assert_allclose(magnitude, ours["hip_r_contact_mag"], rtol=1e-9)


@needs_opensim
@pytest.mark.slow
def test_pipeline_matches_opensim_so_plus_joint_reaction_on_the_three_examples(shared, tmp_path):
    """Ours (fast SO + hip_contact_forces) vs OpenSim's (StaticOptimization, IPOPT converged,
    then JointReaction on its force file): within 1 % of the peak |F| on every component of both
    hips. gait2392 and Moco: one gait cycle each (75 and 114 frames); rajagopal-walk: the left
    stance (76 frames; its full cycle takes OpenSim's converged SO ≈ 9 min here). Measured over
    the full cycles (``python -m gait2hip.sim.contact_realism --agreement``): 0.0001 %, 0.0005 %,
    0.012 %."""
    from gait2hip.sim.contact_realism import agreement_trials, compare_with_opensim

    for name, trial in agreement_trials(shared=shared, folder=tmp_path).items():
        if name == "rajagopal-walk":
            trial["time_range"] = (0.8365, 1.5895)
        figures = compare_with_opensim(trial)
        assert figures["max_error_pct_of_peak"] < 1.0, (name, figures)
        assert figures["frames"] >= 30, name


@needs_opensim
def test_a_model_without_hip_joints_is_labelled_without_contact(examples, monkeypatch):
    """Another model's hip joint names: forces and moments are still labelled, with a note."""
    import gait2hip.sim.joint_reaction as joint_reaction
    from gait2hip.sim.label import LabelConfig, label_trial

    monkeypatch.setitem(joint_reaction.HIP_JOINTS, "right", ("right_hip", "femur_r", "pelvis"))
    folder = examples / "gait2392-subject01"
    labels = label_trial(
        model=folder / "subject01_simbody.osim",
        ik=folder / "subject01_walk1_ik.mot",
        loads=folder / "subject01_walk1_grf.xml",
        window=(0.5, 1.9),
        config=LabelConfig(exclude_flagged=False),
    )
    assert labels.contact is None
    assert labels.dataset.target_group("contact") == () and len(labels.dataset.target_group("forces")) == 28
    assert any("no joint 'right_hip'" in note for note in labels.dataset.attrs["notes"])
