"""Muscle → group mapping (gait2hip.data.muscle_mapping) on the gait2392 example's CMC forces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait2hip.data.muscle_mapping import aggregate_muscles, choose_mapping
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import read_storage

G2392 = "gait2392-subject01"
CMC_FORCES = "OutputReference/ResultsCMC/subject01_walk1_Actuation_force.sto"


def test_unknown_muscle_names_and_mapping_override(examples: Path, tmp_path: Path) -> None:
    cmc = read_storage(examples / G2392 / CMC_FORCES).data
    renamed = cmc.rename(columns={"glut_max1_r": "gmax_a_r", "glut_max2_r": "gmax_b_r"})
    with pytest.raises(Gait2HipInputError, match="unknown muscle names") as info:
        choose_mapping(list(renamed.columns), side="right", file="forces.sto")
    assert info.value.column == "glut_max1_r" and info.value.file == "forces.sto"
    mapping = dict(choose_mapping(list(cmc.columns), side="right"))
    mapping["glmax_r"] = ("gmax_a_r", "gmax_b_r", "glut_max3_r")
    grouped = aggregate_muscles(
        renamed, choose_mapping(list(renamed.columns), side="right", mapping_r=mapping)
    )
    np.testing.assert_allclose(
        grouped["glmax_r"], cmc[["glut_max1_r", "glut_max2_r", "glut_max3_r"]].sum(axis=1), rtol=1e-12
    )
    left = choose_mapping(list(cmc.columns), side="left")
    assert left["iliopsoas_l"] == ("iliacus_l", "psoas_l")
