"""The ``>>>`` examples in the docstrings run and show what they say (small data only)."""

from __future__ import annotations

import doctest
import importlib

import pytest
import torch

from gait2hip.paths import shared_dir

#: Modules whose examples run on synthetic data or the package's own resources.
SELF_CONTAINED = ("gait2hip.models.registry", "gait2hip.models.ood", "gait2hip.models.manifest")
#: Modules whose examples read OpenSim's gait2392 example trial from the shared inputs.
NEEDS_SHARED = ("gait2hip.predict", "gait2hip.predict.predictor")


def _run(name: str) -> None:
    torch.set_num_threads(1)
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


@pytest.mark.parametrize("name", SELF_CONTAINED)
def test_examples_run(name: str) -> None:
    _run(name)


@pytest.mark.shared
@pytest.mark.parametrize("name", NEEDS_SHARED)
def test_examples_on_the_gait2392_trial_run(name: str) -> None:
    if shared_dir() is None:
        pytest.skip("shared inputs not found: set GAIT2HIP_SHARED or put ../shared beside the checkout")
    _run(name)
