"""Hip contact force vs in vivo: the realism table's arithmetic on known numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gait2hip.data.columns import CONTACT_L, CONTACT_R
from gait2hip.data.synthetic import synthetic_dataset


def test_orthoload_reference_and_ratio(shared):
    from gait2hip.sim.contact_realism import orthoload, realism_table

    invivo = orthoload(shared=shared)
    assert len(invivo) == 10  # Bergmann 2016: H1..H10
    assert invivo["hjf_magnitude_pBW"].mean() == pytest.approx(247.1, abs=0.1)  # the 247 % BW
    peaks = pd.DataFrame([{"source": "model", "n": 1, "peak_pBW": 494.28, "peak_sd_pBW": np.nan}])
    table = realism_table(peaks=peaks, shared=shared)
    assert table["source"].iloc[-1].startswith("OrthoLoad") and table["ratio_to_in_vivo"].iloc[-1] == 1.0
    assert table["ratio_to_in_vivo"].iloc[0] == pytest.approx(2.0, abs=1e-3)


def test_cohort_peaks_per_cadence_in_percent_body_weight():
    from gait2hip.sim.contact_realism import cohort_peaks

    ds = synthetic_dataset(n_subjects=2, trials_per_cadence=1, n_timepoints=21, seed=0)
    contact = np.zeros((len(ds), ds.n_timepoints, 14), dtype=np.float32)
    mass = ds.meta["mass_kg"].to_numpy()
    # a 2.5 BW peak at mid-cycle for every cycle, 0.5 BW elsewhere
    contact[:, :, 0] = 0.5 * mass[:, None] * 9.81
    contact[:, 10, 0] = 2.5 * mass * 9.81
    data = ds._replace(
        Y=np.concatenate([ds.Y, contact], axis=2),
        target_columns=ds.target_columns + CONTACT_R + CONTACT_L,
        target_units=ds.target_units + ("N",) * 14,
        meta=ds.meta.assign(side="right", cohort="healthy"),
    )
    table = cohort_peaks(data).set_index("source")
    assert set(table.index) == {f"cohort healthy {c}" for c in ("slow", "med", "fast")}
    np.testing.assert_allclose(table["peak_pBW"], 250.0, rtol=1e-5)
    assert (table["n"] == 2).all()
