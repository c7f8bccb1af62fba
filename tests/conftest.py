"""Shared test fixtures: the read-only shared inputs and optional OpenSim."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from gait2hip.paths import shared_dir

os.environ.setdefault("OMP_NUM_THREADS", "1")

HAS_OPENSIM = importlib.util.find_spec("opensim") is not None
requires_opensim = pytest.mark.skipif(
    not HAS_OPENSIM, reason="opensim is not installed (pip install 'gait2hip[sim]')"
)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared inputs folder; tests that need it skip with the reason when it is absent."""
    root = shared_dir()
    if root is None:
        pytest.skip("shared inputs not found: set GAIT2HIP_SHARED or put ../shared beside the checkout")
    return root


@pytest.fixture(scope="session")
def examples(shared: Path) -> Path:
    return shared / "opensim-examples"
