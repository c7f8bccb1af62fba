"""The paper's subject hold-out and an exact re-implementation of scikit-learn's GroupKFold."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.evaluate.splits import group_kfold, subject_holdout


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


def test_group_kfold_matches_sklearn_by_hand():
    # Groups sized A5 E4 C3 D2 B1 (no ties). sklearn: sort by size, largest first, each to the
    # lightest fold (lowest index on ties):
    #   A(5)→f0 [5,0]; E(4)→f1 [5,4]; C(3)→f1 [5,7]; D(2)→f0 [7,7]; B(1)→f0 (tie→0) [8,7].
    groups = np.array(list("AAAAABCCCDDEEEE"))
    rng = np.random.default_rng(0)
    groups = groups[rng.permutation(len(groups))]  # the order of samples must not matter
    folds = group_kfold(groups, n_splits=2)
    assert [set(groups[f]) for f in folds] == [{"A", "D", "B"}, {"E", "C"}]
    assert [len(f) for f in folds] == [8, 7]
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))


def test_group_kfold_five_folds_of_twelve_trial_subjects():
    # 48 subjects x 12 trials: equal sizes → subjects dealt round-robin to folds 0..4, 10/10/10/9/9.
    groups = np.repeat([f"H{i:02d}" for i in range(48)], 12)
    folds = group_kfold(groups, n_splits=5)
    assert [len(set(groups[f])) for f in folds] == [10, 10, 10, 9, 9]
    seen = set()
    for fold in folds:
        subjects = set(groups[fold])
        assert seen.isdisjoint(subjects)
        seen |= subjects


def test_group_kfold_refuses_more_folds_than_subjects():
    with pytest.raises(Gait2HipInputError, match="folds"):
        group_kfold(["a", "a", "b"], n_splits=3)
