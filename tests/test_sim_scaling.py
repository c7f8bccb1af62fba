"""Anthropometry sampling and marker-free model scaling."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gait2hip.sim.anthropometry import sample_anthropometry

requires_opensim = pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None,
    reason="opensim is not installed (pip install 'gait2hip[sim]')",
)


def test_anthropometry_follows_the_stated_distributions():
    rng = np.random.default_rng(1)
    people = [sample_anthropometry(rng) for _ in range(2000)]
    men = [p.height_m for p in people if p.sex == "male"]
    women = [p.height_m for p in people if p.sex == "female"]
    assert 0.4 < len(men) / len(people) < 0.6
    assert np.mean(men) == pytest.approx(1.754, abs=0.01) and np.mean(women) == pytest.approx(1.617, abs=0.01)
    assert all(18.5 <= p.bmi <= 30.2 for p in people)
    again = sample_anthropometry(np.random.default_rng(1))
    assert again == people[0]


@requires_opensim
def test_scaled_model_has_the_subject_mass_and_size(shared, tmp_path):
    import opensim as osim

    from gait2hip.sim.scaling import scale_model

    generic = shared / "models" / "Rajagopal2016.osim"
    path = scale_model(generic_model=generic, height_m=1.87, mass_kg=90.0, out_file=tmp_path / "s.osim")
    model = osim.Model(str(path))
    state = model.initSystem()
    assert model.getTotalMass(state) == pytest.approx(90.0, rel=1e-6)
    base = osim.Model(str(generic))
    base_state = base.initSystem()
    ratio = 1.87 / 1.70
    femur = model.getBodySet().get("femur_r").getMass() / base.getBodySet().get("femur_r").getMass()
    assert femur == pytest.approx(90.0 / base.getTotalMass(base_state), rel=1e-6)  # distribution preserved

    def knee_offset(m):
        frame = osim.PhysicalOffsetFrame.safeDownCast(m.getJointSet().get("walker_knee_r").getParentFrame())
        return frame.get_translation()

    knee, knee0 = knee_offset(model), knee_offset(base)
    assert np.linalg.norm([knee.get(i) for i in range(3)]) == pytest.approx(
        ratio * np.linalg.norm([knee0.get(i) for i in range(3)]), rel=1e-6
    )
    strength = model.getMuscles().get("glmax1_r").getMaxIsometricForce()
    strength0 = base.getMuscles().get("glmax1_r").getMaxIsometricForce()
    assert strength == pytest.approx(strength0 * (90.0 / base.getTotalMass(base_state)) ** (2 / 3), rel=1e-6)
    # A second call reuses the cached file (resume).
    assert scale_model(generic_model=generic, height_m=1.5, mass_kg=50.0, out_file=path) == path
