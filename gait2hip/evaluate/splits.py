"""Subject-level split: the Gait2Hip-60 hold-out (the GroupKFold of the paper's epoch selection
is a training step: :func:`gait2hip.train.folds.group_kfold`).

It follows the published benchmark scripts step for step, so that on the release data the
same 12 test subjects come out:

* :func:`subject_holdout` — unique subject ids (sorted, as ``np.unique`` returns them),
  shuffled by ``numpy.random.default_rng(42)``; the first ``round(0.2 * n)`` are TEST.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gait2hip.errors import Gait2HipInputError

#: The published hold-out seed and test fraction.
HOLDOUT_SEED = 42
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Holdout:
    """A subject-level train/test split.

    Attributes
    ----------
    pool
        Subjects used for cross-validation and final training, sorted.
    test
        Held-out test subjects, in the order the shuffle put them.
    """

    pool: tuple[str, ...]
    test: tuple[str, ...]


def subject_holdout(
    subject_ids: Sequence[str] | np.ndarray,
    *,
    test_fraction: float = TEST_FRACTION,
    seed: int = HOLDOUT_SEED,
) -> Holdout:
    """Hold out ``round(test_fraction * n)`` subjects exactly as the Gait2Hip-60 scripts do.

    Parameters
    ----------
    subject_ids
        One subject id per trial (repeats allowed) or the unique ids.
    test_fraction
        Share of subjects held out (0.2 in the paper).
    seed
        Seed of ``numpy.random.default_rng`` (42 in the paper).

    Returns
    -------
    Holdout
        ``test`` = the first ``round(test_fraction * n)`` shuffled ids; ``pool`` = the rest, sorted.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    unique = np.unique(np.asarray(subject_ids, dtype=str))
    n_test = round(test_fraction * len(unique))
    if n_test < 1 or n_test >= len(unique):
        raise Gait2HipInputError(
            f"{len(unique)} subject(s) cannot be split {1 - test_fraction:.0%}/{test_fraction:.0%} "
            "into a training pool and a test set.",
            column="subject_id",
            fix="use a dataset with at least 3 subjects (the paper's protocol needs about 10+).",
        )
    shuffled = unique.copy()
    np.random.default_rng(seed).shuffle(shuffled)
    test = tuple(str(s) for s in shuffled[:n_test])
    pool = tuple(sorted(str(s) for s in shuffled[n_test:]))
    return Holdout(pool=pool, test=test)
