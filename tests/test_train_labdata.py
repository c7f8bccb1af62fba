"""A lab's cycles as the bundle's training arrays (gait2hip.train.labdata): units checked per unit."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import dataset_with

from gait2hip.data import load_dataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.models.bundle import load_bundle


@pytest.fixture(scope="module")
def moments():
    return load_bundle("transformer-joint-default")


def test_units_are_checked_per_unit_not_per_muscle_group(moments):
    """Another musculoskeletal model may give one muscle group a much smaller force (the gait2392
    example's adductor longus: 0.19x the parent's); a unit mix-up scales every force alike."""
    from gait2hip.train.labdata import lab_arrays
    from gait2hip.train.recipes import per_kg

    cohort = per_kg(load_dataset("default"))
    lab = cohort.select(subjects=sorted(set(cohort.meta["subject_id"]))[:3])
    j = lab.target_columns.index("addlong_r")
    small = lab.Y.copy()
    small[:, :, j] *= 0.1
    X, _, present = lab_arrays(moments, dataset_with(lab, Y=small))
    assert "addlong_r" in present and len(X) == len(lab)
    forces = np.array([u == "N/kg" for u in lab.target_units])
    with pytest.raises(Gait2HipInputError, match="wrong units"):
        lab_arrays(moments, dataset_with(lab, Y=np.where(forces, lab.Y * 1000.0, lab.Y)))
