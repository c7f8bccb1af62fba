"""The sensitivity tool's baseline is the cohort generator's own labelling (patching changes nothing)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("opensim") is None, reason="opensim is not installed"),
    pytest.mark.slow,
]


def test_baseline_equals_the_generator_and_cheap_reserves_change_it(shared, tmp_path):
    from gait2hip.paths import default_model_path
    from gait2hip.sim.cohort import TARGET_COLUMNS, plan_cohort, simulate_subject
    from gait2hip.sim.contact_sensitivity import run_variant

    (plan,) = [p for p in plan_cohort(n_subjects=60, n_patients=9, seed=2026) if p.subject_id == "H03"]
    path = simulate_subject(
        plan,
        generic_model=default_model_path(),
        work_dir=tmp_path / "gen",
        n_trials=1,
        seed=2026,
        shared=shared,
    )
    with np.load(path) as npz:
        y, meta = npz["Y"], json.loads(str(npz["meta_json"]))
    generator = {
        m["cadence_label"]: 100
        * y[k, :, TARGET_COLUMNS.index("hip_r_contact_mag")].max()
        / (plan.mass_kg * 9.81)
        for k, m in enumerate(meta)
    }
    baseline = run_variant(variant="baseline", subjects=["H03"], shared=shared, folder=tmp_path / "b")
    for row in baseline.itertuples():
        assert row.contact_pBW == pytest.approx(generator[row.cadence], rel=1e-5)
    cheap = run_variant(variant="reserves10", subjects=["H03"], shared=shared, folder=tmp_path / "r")
    assert not np.allclose(cheap["contact_pBW"], baseline["contact_pBW"], rtol=1e-4)
