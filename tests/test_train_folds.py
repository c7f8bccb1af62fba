"""GroupKFold of the paper's epoch selection (gait2hip.train.folds)."""

from __future__ import annotations

import numpy as np
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.train.folds import group_kfold


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
