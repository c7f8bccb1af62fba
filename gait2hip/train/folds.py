"""GroupKFold over subjects, exactly as the Gait2Hip-60 scripts (scikit-learn) make it.

:func:`group_kfold` is scikit-learn's ``GroupKFold(n_splits)`` (``shuffle=False``)
re-implemented (scikit-learn is not a dependency): groups sorted by size, largest first,
each assigned greedily to the fold with the fewest samples so far; on the release data the
same 5 folds come out as in the paper's epoch selection.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gait2hip.errors import Gait2HipInputError


def group_kfold(groups: Sequence[str] | np.ndarray, *, n_splits: int = 5) -> list[np.ndarray]:
    """Validation indices of each fold, exactly as scikit-learn's ``GroupKFold`` (no shuffle).

    The algorithm (sklearn ``GroupKFold._iter_test_indices``): encode groups with
    ``np.unique``; count samples per group; order groups by count, largest first
    (``np.argsort(counts)[::-1]``, the same call, so ties break the same way); give each
    group to the fold that currently has the fewest samples (``np.argmin``: the
    lowest-numbered fold on ties).

    Parameters
    ----------
    groups
        Group label (subject id) of every sample.
    n_splits
        Number of folds.

    Returns
    -------
    list of numpy.ndarray
        For fold ``k``, the sorted sample indices validated in that fold; the other
        samples train.
    """
    groups = np.asarray(groups, dtype=str)
    unique, encoded = np.unique(groups, return_inverse=True)
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    if n_splits > len(unique):
        raise Gait2HipInputError(
            f"cannot make {n_splits} folds from {len(unique)} subject(s).",
            column="subject_id",
            fix="use fewer folds or more subjects.",
        )
    counts = np.bincount(encoded)
    order = np.argsort(counts)[::-1]
    fold_size = np.zeros(n_splits)
    group_fold = np.zeros(len(unique), dtype=int)
    for group in order:
        lightest = int(np.argmin(fold_size))
        fold_size[lightest] += counts[group]
        group_fold[group] = lightest
    sample_fold = group_fold[encoded]
    return [np.flatnonzero(sample_fold == k) for k in range(n_splits)]
