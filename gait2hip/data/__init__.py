"""Datasets: one in-memory form (:class:`GaitDataset`) for every source.

``load_dataset(spec)`` is the one entry point: 'default' (the embedded simulated cohort),
'fukuchi2018' (the embedded REAL dataset, hip moments only), a gait2hip NPZ, a Gait2Hip-60
release file (its MF60 / JM60 twin beside it is merged in), or a lab folder with a
``manifest.csv``. This package never imports torch or opensim.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from gait2hip.data.columns import CONTACT_R, INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.paths import RESOURCES

__all__ = [
    "CADENCE_SPM",
    "CONTACT_R",
    "EMBEDDED_DATASETS",
    "EMBEDDED_TARGET_GROUPS",
    "INPUT_ANGLES",
    "MOMENTS_R",
    "MUSCLE_GROUPS_R",
    "GaitDataset",
    "default_dataset_path",
    "load_dataset",
]

#: Where the embedded default dataset (a simulated cohort) is installed.
DEFAULT_DATASET = RESOURCES / "cohort" / "default.npz"
#: Embedded datasets by name (besides 'default'): name → installed NPZ.
EMBEDDED_DATASETS: dict[str, Path] = {"fukuchi2018": RESOURCES / "real" / "fukuchi2018.npz"}
#: The target groups an embedded dataset has, where it lacks some (real data: no muscle forces).
EMBEDDED_TARGET_GROUPS: dict[str, tuple[str, ...]] = {"fukuchi2018": ("moments",)}


def default_dataset_path(*, required: bool = True) -> Path:
    """The embedded default dataset, ``gait2hip/resources/cohort/default.npz``.

    Parameters
    ----------
    required
        Raise a clear error when the file has not been generated yet (else return the
        path regardless).
    """
    if required and not DEFAULT_DATASET.is_file():
        raise Gait2HipInputError(
            "the default dataset has not been generated yet.",
            file=DEFAULT_DATASET,
            fix="generate it with `gait2hip simulate cohort --out gait2hip/resources/cohort/default.npz`, "
            "or pass a dataset path instead of 'default'.",
        )
    return DEFAULT_DATASET


def load_dataset(
    spec: str | Path,
    *,
    side: Literal["right", "left"] = "right",
    hips: Literal["own", "both"] = "own",
    trust_pickle: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> GaitDataset:
    """Load any supported dataset.

    Parameters
    ----------
    spec
        * ``'default'``: the embedded simulated cohort (:func:`default_dataset_path`);
        * ``'fukuchi2018'``: the embedded real dataset (:mod:`gait2hip.data.fukuchi`; hip
          moments per kg only, both legs, body mass unknown);
        * a gait2hip NPZ (written by ``GaitDataset.save``);
        * a Gait2Hip-60 release file, ``Gait2Hip_MF60.npz`` or ``Gait2Hip_JM60.npz``: its twin
          beside it is found and merged in (17 targets) when present;
        * a lab folder holding ``manifest.csv`` (see :mod:`gait2hip.data.lab`).
    side, hips
        For lab folders only: which leg's cycles and which hips' targets
        (see :func:`gait2hip.data.lab.load_lab_folder`).
    trust_pickle
        For release files only: unpickle string arrays stored as numpy ``object`` arrays.
        Unpickling can run any code hidden in the file, so only for files from a source you
        trust; False (default) refuses such a file with an error naming it and the fixes.
    on_progress
        Lab folders: called with (trials read, trials) as the folder is read.

    Returns
    -------
    GaitDataset
        With ``attrs['path']`` set to what was loaded.
    """
    if str(spec) == "default":
        return GaitDataset.load(default_dataset_path())
    if str(spec) in EMBEDDED_DATASETS:
        from gait2hip.data.fukuchi import embedded_path

        return GaitDataset.load(embedded_path())
    path = Path(spec)
    if path.is_dir():
        from gait2hip.data.lab import load_lab_folder

        return load_lab_folder(path, side=side, hips=hips, on_progress=on_progress)
    if not path.exists():
        raise Gait2HipInputError(
            "no such file or folder.",
            file=path,
            fix="give 'default', 'fukuchi2018', a .npz dataset, a release MF60/JM60 file, or a lab folder "
            "with manifest.csv.",
        )
    if path.suffix.lower() == ".csv" and path.name.lower() == "manifest.csv":
        from gait2hip.data.lab import load_lab_folder

        return load_lab_folder(path.parent, side=side, hips=hips, on_progress=on_progress)
    if path.suffix.lower() != ".npz":
        raise Gait2HipInputError(
            f"unsupported dataset file type '{path.suffix}'.",
            file=path,
            fix="give a .npz dataset, a release MF60/JM60 file, or a lab folder with manifest.csv.",
        )
    from gait2hip.data.release import find_release_twin, is_release_file, load_release, release_kind

    if not is_release_file(path):
        return GaitDataset.load(path)
    twin = find_release_twin(path)
    kind = release_kind(path, trust_pickle=trust_pickle)
    if twin is not None and release_kind(twin, trust_pickle=trust_pickle) == kind:
        twin = None
    files = {kind: path} if twin is None else {kind: path, ("JM" if kind == "MF" else "MF"): twin}
    return load_release(mf_path=files.get("MF"), jm_path=files.get("JM"), trust_pickle=trust_pickle)
