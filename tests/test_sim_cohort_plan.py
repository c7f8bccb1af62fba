"""Cohort plan (gait2hip.sim.cohort_plan): identities, anthropometry, cadences, patient gait."""

from __future__ import annotations

from gait2hip.sim.cohort_plan import plan_cohort


def test_plan_is_reproducible_and_follows_the_design():
    plans = plan_cohort(n_subjects=4, n_patients=2, seed=7)
    assert plans == plan_cohort(n_subjects=4, n_patients=2, seed=7)
    assert plans != plan_cohort(n_subjects=4, n_patients=2, seed=8)
    assert [p.subject_id for p in plans] == ["H01", "H02", "H03", "H04", "P01", "P02"]
    for plan in plans[:4]:
        assert [c for c, _ in plan.cadences] == ["slow", "med", "fast"]
        assert [s for _, s in plan.cadences] == [78.0, 115.0, 135.0]
        assert 1.4 < plan.height_m < 2.1 and 18.5 <= plan.mass_kg / plan.height_m**2 <= 30
    for plan in plans[4:]:
        ((_, cadence),) = plan.cadences
        assert 90 <= cadence <= 110
        assert 0.12 <= plan.alteration["hip_rom_reduction"] <= 0.30
    # Adding subjects does not change the ones already planned (own random stream each).
    assert plan_cohort(n_subjects=5, n_patients=0, seed=7)[:4] == plans[:4]
