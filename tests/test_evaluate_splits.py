"""The paper's subject hold-out and an exact re-implementation of scikit-learn's GroupKFold."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.evaluate.splits import subject_holdout


def test_holdout_is_the_first_fifth_of_the_default_rng_42_shuffle():
    ids = [f"H{i:02d}" for i in range(1, 61)]
    trials = np.repeat(ids, 12)  # repeats must not matter: unique ids are shuffled
    split = subject_holdout(trials)
    expected = np.unique(ids)
    np.random.default_rng(42).shuffle(expected)
    assert split.test == tuple(expected[:12])
    assert len(split.test) == 12 and len(split.pool) == 48
    assert set(split.test).isdisjoint(split.pool)
    assert sorted(split.test + split.pool) == ids
    # Pinned: numpy's PCG64 stream is stable across platforms and numpy versions.
    assert split.test == subject_holdout(ids).test


@pytest.mark.parametrize(("n", "n_test"), [(60, 12), (14, 3), (12, 2), (69, 14)])
def test_holdout_size_is_rounded_fifth(n, n_test):
    split = subject_holdout([f"S{i}" for i in range(n)])
    assert len(split.test) == n_test


def test_holdout_refuses_too_few_subjects():
    with pytest.raises(Gait2HipInputError, match="subject"):
        subject_holdout(["a", "b"])
