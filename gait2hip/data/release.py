"""The Gait2Hip-60 release (``Gait2Hip_MF60.npz`` + ``Gait2Hip_JM60.npz``) as a GaitDataset.

Schema (``../shared/reference/gait2hip60/README.txt``): X (N, 180, 10) degrees in the
``INPUT_ANGLES`` order; Y (N, 180, 14) muscle forces in N (MF60) or (N, 180, 3) hip
moments in N m (JM60), raw, NOT divided by body mass; per-trial ``subject_id`` (H01..H60),
``height_m``, ``weight_kg``, ``speed_label`` (slow / med / fast: metronome cadence 78 / 115 /
135 steps/min); ``in_cols``, ``out_cols``.

Targets are kept in raw N / N m with their units recorded; call
``GaitDataset.normalized_by_mass()`` for the paper's N/kg and N m/kg training units.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from gait2hip.data.angles import guess_angle_unit
from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import CADENCE_SPM, GaitDataset
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.npz import read_npz

RELEASE_KEYS = ("X", "Y", "subject_id", "height_m", "weight_kg", "speed_label", "in_cols", "out_cols")
#: Median over trials of (max |Y| / body mass) below this means the file already holds per-kg
#: values: walking needs some hip muscle group above ~1 N/kg (gluteus medius peaks near 10–30 N/kg)
#: and a hip moment above ~0.2 N m/kg (flexion–extension peaks near 1 N m/kg), whereas per-kg
#: values divided by a ~70 kg mass again land ~70 times lower.
_PER_KG_RATIO = {"MF": 1.0, "JM": 0.2}


def _text(value) -> str:
    """A string cell as text, whether stored as str, bytes (dtype 'S') or object."""
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", errors="replace").strip()
    return str(value).strip()


def read_release_arrays(path: str | Path, *, trust_pickle: bool = False) -> dict[str, np.ndarray]:
    """All arrays of one release NPZ, validated for presence and shape.

    String arrays (``subject_id``, ``speed_label``, ``in_cols``, ``out_cols``) stored as
    unicode or bytes are read without pickle. Stored as numpy ``object`` arrays they are
    pickles, and unpickling can run any code hidden in the file: they are refused with an
    error naming the file and both fixes (re-save them as unicode with
    :func:`gait2hip.io.npz.resave_strings_as_unicode`, which runs no code, or pass
    ``trust_pickle=True`` / ``--trust-pickle`` for a file from a source you trust, e.g. the
    published record, Zenodo doi:10.5281/zenodo.20175768).
    """
    path = Path(path)
    arrays = read_npz(path, trust_pickle=trust_pickle)
    for key in RELEASE_KEYS:
        if key not in arrays:
            raise Gait2HipInputError(
                "key missing from the release NPZ.",
                file=path,
                column=key,
                fix=f"a Gait2Hip-60 file has the keys {', '.join(RELEASE_KEYS)}.",
            )
    X, Y = arrays["X"], arrays["Y"]
    if X.ndim != 3 or Y.ndim != 3 or X.shape[:2] != Y.shape[:2]:
        raise Gait2HipInputError(
            f"X {X.shape} and Y {Y.shape} must be [N, T, channels] with the same N and T.",
            file=path,
            column="Y",
        )
    n = len(X)
    for key in ("subject_id", "height_m", "weight_kg", "speed_label"):
        arrays[key] = np.asarray(arrays[key]).reshape(-1)
        if len(arrays[key]) != n:
            raise Gait2HipInputError(
                f"{len(arrays[key])} values for {n} trials.",
                file=path,
                column=key,
                fix="one value per trial.",
            )
    for key in ("subject_id", "speed_label", "in_cols", "out_cols"):
        arrays[key] = np.array([_text(v) for v in np.asarray(arrays[key]).reshape(-1)])
    return arrays


def _release_kind(arrays: dict[str, np.ndarray], *, path: Path) -> str:
    out_cols = tuple(arrays["out_cols"])
    if set(out_cols) == set(MUSCLE_GROUPS_R):
        return "MF"
    if set(out_cols) == set(MOMENTS_R):
        return "JM"
    raise Gait2HipInputError(
        f"out_cols {list(out_cols)} are neither the 14 MF60 muscle groups nor the 3 JM60 moments.",
        file=path,
        column="out_cols",
        fix="give the release's Gait2Hip_MF60.npz / Gait2Hip_JM60.npz.",
    )


def _one_release(
    path: Path, *, expect: str | None, trust_pickle: bool = False
) -> tuple[str, dict[str, np.ndarray]]:
    arrays = read_release_arrays(path, trust_pickle=trust_pickle)
    kind = _release_kind(arrays, path=path)
    if expect is not None and kind != expect:
        given = "mf_path" if expect == "MF" else "jm_path"
        raise Gait2HipInputError(
            f"this file holds the {'muscle forces (MF60)' if kind == 'MF' else 'joint moments (JM60)'} "
            f"but was given as {given}.",
            file=path,
            column="out_cols",
            fix="swap mf_path and jm_path.",
        )
    in_cols = list(arrays["in_cols"])
    missing = [c for c in INPUT_ANGLES if c not in in_cols]
    if missing or len(in_cols) != arrays["X"].shape[2]:
        raise Gait2HipInputError(
            f"in_cols {in_cols} do not name the 10 input angles for X's {arrays['X'].shape[2]} channels.",
            file=path,
            column=missing[0] if missing else "in_cols",
            fix=f"the release's inputs are {', '.join(INPUT_ANGLES)}.",
        )
    order = [in_cols.index(c) for c in INPUT_ANGLES]
    arrays["X"] = np.asarray(arrays["X"], dtype=np.float64)[:, :, order]
    arrays["in_cols"] = np.array(INPUT_ANGLES)
    target_order = MUSCLE_GROUPS_R if kind == "MF" else MOMENTS_R
    out_cols = list(arrays["out_cols"])
    arrays["Y"] = np.asarray(arrays["Y"], dtype=np.float64)[:, :, [out_cols.index(c) for c in target_order]]
    arrays["out_cols"] = np.array(target_order)
    for key, values in (("X", arrays["X"]), ("Y", arrays["Y"])):
        bad = ~np.isfinite(values)
        if bad.any():
            trial, _, channel = np.argwhere(bad)[0]
            names = INPUT_ANGLES if key == "X" else target_order
            raise Gait2HipInputError(
                f"{int(bad.sum())} NaN / infinite value(s) in {key} (first: trial {trial}).",
                file=path,
                column=names[channel],
                fix="drop or repair those trials before loading.",
            )
    mass = pd.to_numeric(pd.Series(arrays["weight_kg"]), errors="coerce").to_numpy(dtype=float)
    bad_mass = ~(mass > 0)
    if bad_mass.any():
        trial = int(np.flatnonzero(bad_mass)[0])
        raise Gait2HipInputError(
            f"body mass is missing or ≤ 0 for {int(bad_mass.sum())} trial(s) "
            f"(first: trial {trial}, subject {arrays['subject_id'][trial]}, "
            f"value {arrays['weight_kg'][trial]}).",
            file=path,
            column="weight_kg",
            fix="every trial needs its subject's body mass in kg (> 0).",
        )
    arrays["weight_kg"] = mass
    arrays["height_m"] = pd.to_numeric(pd.Series(arrays["height_m"]), errors="coerce").to_numpy(dtype=float)
    unit = guess_angle_unit(
        dict(zip(INPUT_ANGLES, arrays["X"].reshape(-1, len(INPUT_ANGLES)).T, strict=True))
    )
    if unit == "rad":
        raise Gait2HipInputError(
            "X looks like radians (every angle within ±π and the knee barely moves), "
            "but the release stores degrees.",
            file=path,
            column="X",
            fix="convert X to degrees (np.degrees) before loading, or check the file.",
        )
    peak_per_kg = np.abs(arrays["Y"]).max(axis=(1, 2)) / mass
    if np.median(peak_per_kg) < _PER_KG_RATIO[kind]:
        raise Gait2HipInputError(
            f"Y looks already divided by body mass (median peak {np.median(peak_per_kg):.3g} per kg of body "
            f"mass), but the release stores raw {'N' if kind == 'MF' else 'N m'}.",
            file=path,
            column="Y",
            fix="load the original release file; per-kg data would be divided by mass a second time.",
        )
    labels = sorted(set(arrays["speed_label"]) - set(CADENCE_SPM))
    if labels:
        raise Gait2HipInputError(
            f"unknown cadence label(s) {labels}.",
            file=path,
            column="speed_label",
            fix=f"the release uses {', '.join(CADENCE_SPM)}.",
        )
    return kind, arrays


def _check_aligned(
    mf: dict[str, np.ndarray], jm: dict[str, np.ndarray], *, mf_path: Path, jm_path: Path
) -> None:
    def fail(problem: str, column: str) -> None:
        raise Gait2HipInputError(
            f"MF and JM files do not describe the same trials: {problem}",
            file=jm_path,
            column=column,
            fix=f"use the MF60 and JM60 files of the same release ({mf_path.name} / {jm_path.name}) "
            "without filtering or reordering one of them.",
        )

    if len(mf["X"]) != len(jm["X"]):
        fail(f"{len(mf['X'])} trials in {mf_path.name} vs {len(jm['X'])} in {jm_path.name}.", "X")
    if mf["X"].shape[1] != jm["X"].shape[1]:
        fail(f"{mf['X'].shape[1]} vs {jm['X'].shape[1]} time points.", "X")
    for key in ("subject_id", "speed_label"):
        differ = np.flatnonzero(mf[key] != jm[key])
        if differ.size:
            i = int(differ[0])
            fail(f"trial {i} is {key} '{mf[key][i]}' in one and '{jm[key][i]}' in the other.", key)
    for key, tolerance in (("weight_kg", 1e-3), ("height_m", 1e-4)):
        a, b = mf[key], jm[key]
        differ = np.flatnonzero(~(np.isclose(a, b, atol=tolerance, rtol=0) | (np.isnan(a) & np.isnan(b))))
        if differ.size:
            i = int(differ[0])
            fail(f"trial {i} has {key} {a[i]} in one and {b[i]} in the other.", key)
    gap = np.abs(mf["X"] - jm["X"]).max(axis=(1, 2))
    if (gap > 1e-3).any():
        i = int(np.argmax(gap > 1e-3))
        fail(f"trial {i}'s angles differ by up to {gap[i]:.3g}°.", "X")


def _dataset(
    arrays: dict[str, np.ndarray],
    Y: np.ndarray,
    columns: tuple[str, ...],
    units: tuple[str, ...],
    files: list[Path],
) -> GaitDataset:
    subject, speed = arrays["subject_id"], arrays["speed_label"]
    repeat: dict[tuple[str, str], int] = {}
    trial_ids = []
    for s, c in zip(subject, speed, strict=True):
        repeat[(s, c)] = repeat.get((s, c), 0) + 1
        trial_ids.append(f"{s}_{c}_{repeat[(s, c)]}")
    meta = pd.DataFrame(
        dict(
            subject_id=subject,
            cohort="healthy",
            cadence_label=speed,
            cadence_spm=[CADENCE_SPM[c] for c in speed],
            trial_id=trial_ids,
            side="right",
            mass_kg=arrays["weight_kg"],
            height_m=arrays["height_m"],
            source=files[0].name,
            stride_time_s=np.nan,
        )
    )
    return GaitDataset(
        X=arrays["X"],
        Y=Y,
        input_columns=INPUT_ANGLES,
        target_columns=columns,
        input_units=("deg",) * len(INPUT_ANGLES),
        target_units=units,
        meta=meta,
        attrs=dict(
            name="Gait2Hip-60",
            source="Gait2Hip-60 release (doi:10.5281/zenodo.20175768)",
            files=[str(f) for f in files],
            simulated=False,
            path=str(files[0]),
        ),
    )


def load_release(
    *, mf_path: str | Path | None = None, jm_path: str | Path | None = None, trust_pickle: bool = False
) -> GaitDataset:
    """Load the Gait2Hip-60 release (MF60, JM60, or both merged into 17 targets).

    Parameters
    ----------
    mf_path
        ``Gait2Hip_MF60.npz`` (14 muscle-group forces, N).
    jm_path
        ``Gait2Hip_JM60.npz`` (3 right-hip moments, N m).
    trust_pickle
        Unpickle string arrays stored as numpy ``object`` (unpickling can run code; only for
        files from a source you trust). False: such a file is refused with a clear error;
        see :func:`read_release_arrays`.

    Returns
    -------
    GaitDataset
        Inputs in degrees (``INPUT_ANGLES`` order), targets in raw N / N m (forces first,
        then moments when both files are given), one sample per trial with
        ``side='right'``, ``cohort='healthy'``, cadence label and steps/min,
        ``trial_id`` = ``<subject>_<cadence>_<repeat>``.

    Raises
    ------
    Gait2HipInputError
        A missing key, NaN / inf, mass ≤ 0 or missing, angles in radians, per-kg targets,
        an unknown cadence label, swapped files, or MF / JM files whose trials do not line
        up (count, subject, cadence, mass, height or angles); an ``object`` array (a pickle)
        unless ``trust_pickle``.
    """
    if mf_path is None and jm_path is None:
        raise Gait2HipInputError(
            "no release file given.",
            fix="pass mf_path= (Gait2Hip_MF60.npz) and/or jm_path= (Gait2Hip_JM60.npz).",
        )
    trust = dict(trust_pickle=trust_pickle)
    mf = _one_release(Path(mf_path), expect="MF", **trust)[1] if mf_path is not None else None
    jm = _one_release(Path(jm_path), expect="JM", **trust)[1] if jm_path is not None else None
    if mf is not None and jm is not None:
        _check_aligned(mf, jm, mf_path=Path(mf_path), jm_path=Path(jm_path))
        return _dataset(
            mf,
            np.concatenate([mf["Y"], jm["Y"]], axis=-1),
            MUSCLE_GROUPS_R + MOMENTS_R,
            ("N",) * len(MUSCLE_GROUPS_R) + ("Nm",) * len(MOMENTS_R),
            [Path(mf_path), Path(jm_path)],
        )
    if mf is not None:
        return _dataset(mf, mf["Y"], MUSCLE_GROUPS_R, ("N",) * len(MUSCLE_GROUPS_R), [Path(mf_path)])
    return _dataset(jm, jm["Y"], MOMENTS_R, ("Nm",) * len(MOMENTS_R), [Path(jm_path)])


def release_kind(path: str | Path, *, trust_pickle: bool = False) -> str:
    """'MF' or 'JM' for a release file (from its ``out_cols``; ``trust_pickle``: see :func:`load_release`)."""
    path = Path(path)
    return _release_kind(read_release_arrays(path, trust_pickle=trust_pickle), path=path)


def find_release_twin(path: str | Path) -> Path | None:
    """The other half of a release pair beside ``path`` (MF60 ↔ JM60), or None."""
    path = Path(path)
    name = path.name
    upper = name.upper()
    mine, other = ("MF", "JM") if "MF" in upper else ("JM", "MF") if "JM" in upper else (None, None)
    if mine is None:
        return None
    at = upper.index(mine)
    candidate = path.with_name(
        name[:at] + (other if name[at : at + 2].isupper() else other.lower()) + name[at + 2 :]
    )
    if candidate.is_file():
        return candidate
    matches = sorted(p for p in path.parent.glob("*.npz") if other in p.name.upper() and p != path)
    return matches[0] if len(matches) == 1 else None


def is_release_file(path: str | Path) -> bool:
    """True for an NPZ in the release schema (as opposed to a gait2hip NPZ with unit keys)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False  # the loader that follows says what is wrong with the file
    return {"X", "Y", "out_cols"} <= keys and "y_units" not in keys
