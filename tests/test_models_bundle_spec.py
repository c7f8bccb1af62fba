"""What a bundle records and how it is written (gait2hip.models.bundle_spec): arguments checked early."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R
from gait2hip.models import build_model
from gait2hip.models.bundle_spec import BundleSpec, save_bundle

torch.set_num_threads(1)
T = 21


def test_bad_arguments_are_refused_early(tmp_path):
    model = build_model("lstm", d_in=10, d_out=3, seq_len=T, hidden_size=4, num_layers=1)
    common = dict(
        model=model,
        input_columns=INPUT_ANGLES,
        input_units=["deg"] * 10,
        target_columns=MOMENTS_R,
        input_mean=np.zeros(10),
        input_std=np.ones(10),
    )
    with pytest.raises(ValueError, match="unknown target units"):
        save_bundle(tmp_path / "a", BundleSpec(target_units=["Nm/s"] * 3, **common))
    with pytest.raises(ValueError, match="one value per channel"):
        save_bundle(
            tmp_path / "b", BundleSpec(target_units=["Nm/kg"] * 3, **{**common, "input_std": np.ones(9)})
        )
    with pytest.raises(ValueError, match="std must be > 0"):
        save_bundle(
            tmp_path / "c", BundleSpec(target_units=["Nm/kg"] * 3, **{**common, "input_std": np.zeros(10)})
        )
