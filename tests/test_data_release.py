"""gait2hip.data.release and load_dataset: the release schema, merging, and every bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gait2hip.data import default_dataset_path, load_dataset
from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.release import find_release_twin, is_release_file, load_release
from gait2hip.data.synthetic import write_synthetic_release
from gait2hip.errors import Gait2HipInputError
from gait2hip.io.npz import PickleRiskWarning, resave_strings_as_unicode


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_synthetic_release(
        tmp_path_factory.mktemp("release"), n_subjects=3, trials_per_cadence=2, seed=5
    )


def _rewrite(source: Path, target: Path, **changes) -> Path:
    with np.load(source, allow_pickle=True) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays.update(changes)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, **arrays)
    return target


def test_merged_release(release: tuple[Path, Path]) -> None:
    mf, jm = release
    ds = load_release(mf_path=mf, jm_path=jm)
    assert len(ds) == 18 and ds.n_timepoints == 180
    assert ds.input_columns == INPUT_ANGLES and ds.input_units == ("deg",) * 10
    assert ds.target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    assert ds.target_units == ("N",) * 14 + ("Nm",) * 3
    with np.load(mf) as a, np.load(jm) as b:
        np.testing.assert_allclose(ds.Y[:, :, :14], a["Y"], rtol=1e-6)
        np.testing.assert_allclose(ds.Y[:, :, 14:], b["Y"], rtol=1e-6)
        np.testing.assert_allclose(ds.meta["mass_kg"], a["weight_kg"])
    assert ds.meta["trial_id"].iloc[:2].tolist() == ["H01_slow_1", "H01_slow_2"]
    assert set(ds.meta["cadence_spm"]) == {78.0, 115.0, 135.0}
    assert (ds.meta["side"] == "right").all() and (ds.meta["cohort"] == "healthy").all()
    per_kg = ds.normalized_by_mass()
    assert per_kg.target_units == ("N/kg",) * 14 + ("Nm/kg",) * 3
    with pytest.raises(Gait2HipInputError, match="already normalised"):
        per_kg.normalized_by_mass()


def test_single_files_and_load_dataset(release: tuple[Path, Path], tmp_path: Path) -> None:
    mf, jm = release
    assert load_release(jm_path=jm).target_columns == MOMENTS_R
    assert load_release(mf_path=mf).target_units == ("N",) * 14
    # load_dataset finds the twin beside either file
    assert load_dataset(mf).target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    assert load_dataset(str(jm)).target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    assert find_release_twin(mf) == jm and find_release_twin(jm) == mf
    alone = _rewrite(jm, tmp_path / "only" / "Gait2Hip_JM60.npz")
    assert load_dataset(alone).target_columns == MOMENTS_R
    # a gait2hip NPZ is recognised as such
    saved = load_release(mf_path=mf, jm_path=jm).save(tmp_path / "mine.npz")
    assert not is_release_file(saved) and is_release_file(mf)
    back = load_dataset(saved)
    assert back.target_columns == MUSCLE_GROUPS_R + MOMENTS_R and len(back) == 18


def _plant(marker: str, value: str) -> str:
    """A harmless payload: leaves a marker file, then returns the string it stands for."""
    Path(marker).write_text("unpickled")
    return value


class _Payload:
    """An object that runs ``call`` when unpickled (pickling it runs nothing)."""

    def __init__(self, call, *args) -> None:
        self.call, self.args = call, args

    def __reduce__(self):
        return (self.call, self.args)


def _crafted(source: Path, target: Path, payload: _Payload) -> Path:
    """``source`` with its first subject_id replaced by ``payload`` (an object array, as in the attack)."""
    with np.load(source, allow_pickle=False) as npz:
        subject_id = npz["subject_id"].astype(object)
    subject_id[0] = payload
    return _rewrite(source, target, subject_id=subject_id)


def test_crafted_release_runs_nothing(release: tuple[Path, Path], tmp_path: Path) -> None:
    mf, jm = release
    marker = tmp_path / "pwned"
    evil = _crafted(mf, tmp_path / "Gait2Hip_MF60.npz", _Payload(os.system, f"touch '{marker}'"))
    _rewrite(jm, tmp_path / "Gait2Hip_JM60.npz")
    assert is_release_file(evil)
    for load in (lambda: load_dataset(evil), lambda: load_release(mf_path=evil, jm_path=jm)):
        with pytest.raises(Gait2HipInputError) as info:
            load()
        assert (
            info.value.file == str(evil)
            and info.value.column == "subject_id"
            and "pickled" in info.value.problem
        )
        assert "--trust-pickle" in info.value.fix and "resave_strings_as_unicode" in info.value.fix
    assert not marker.exists()


def test_trust_pickle_loads_and_warns(release: tuple[Path, Path], tmp_path: Path) -> None:
    mf, _ = release
    marker = tmp_path / "unpickled"
    trusted = _crafted(mf, tmp_path / "Gait2Hip_MF60.npz", _Payload(_plant, str(marker), "H01"))
    with pytest.warns(PickleRiskWarning, match="unpickling runs any code"):
        ds = load_release(mf_path=trusted, trust_pickle=True)
    assert marker.exists()  # the payload did run: trust_pickle really unpickles
    plain = load_release(mf_path=mf)
    assert ds.meta["trial_id"].tolist() == plain.meta["trial_id"].tolist()
    np.testing.assert_array_equal(ds.Y, plain.Y)


def test_object_string_release(tmp_path: Path) -> None:
    mf, jm = write_synthetic_release(tmp_path, n_subjects=2, trials_per_cadence=1, object_strings=True)
    with pytest.raises(Gait2HipInputError, match="pickled") as info:
        load_dataset(mf)
    assert info.value.file == str(mf) and "--trust-pickle" in info.value.fix
    with pytest.warns(PickleRiskWarning):
        assert load_dataset(mf, trust_pickle=True).subjects == ["H01", "H02"]
    # converted without pickle, the pair loads with pickling off and matches the trusted read
    out = tmp_path / "unicode"
    resave_strings_as_unicode(mf, out / mf.name)
    resave_strings_as_unicode(jm, out / jm.name)
    ds = load_dataset(out / mf.name)
    assert ds.subjects == ["H01", "H02"] and ds.target_columns == MUSCLE_GROUPS_R + MOMENTS_R
    with pytest.warns(PickleRiskWarning):
        np.testing.assert_array_equal(ds.Y, load_release(mf_path=mf, jm_path=jm, trust_pickle=True).Y)


def test_permuted_columns_are_reordered(release: tuple[Path, Path], tmp_path: Path) -> None:
    mf, _ = release
    with np.load(mf) as npz:
        X, in_cols = npz["X"], npz["in_cols"]
    order = np.arange(10)[::-1]
    moved = _rewrite(mf, tmp_path / "Gait2Hip_MF60.npz", X=X[:, :, order], in_cols=in_cols[order])
    np.testing.assert_allclose(load_release(mf_path=moved).X, load_release(mf_path=mf).X)


@pytest.mark.parametrize(
    ("key", "change", "message"),
    [
        ("subject_id", lambda a: np.roll(a, 1), "subject_id"),
        ("speed_label", lambda a: np.roll(a, 3), "speed_label"),
        ("weight_kg", lambda a: a + 1.0, "weight_kg"),
        ("X", lambda a: a + 0.5, "angles differ"),
        ("X", lambda a: a[:-1], "18 trials"),
    ],
)
def test_mismatched_mf_jm_files(release: tuple[Path, Path], tmp_path: Path, key, change, message) -> None:
    mf, jm = release
    with np.load(jm, allow_pickle=True) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[key] = change(arrays[key])
    if key == "X" and len(arrays["X"]) != 18:
        for k in ("Y", "subject_id", "height_m", "weight_kg", "speed_label"):
            arrays[k] = arrays[k][:-1]
    bad = tmp_path / "Gait2Hip_JM60.npz"
    np.savez(bad, **arrays)
    with pytest.raises(Gait2HipInputError, match="do not describe the same trials") as info:
        load_release(mf_path=mf, jm_path=bad)
    assert message in str(info.value)
    assert info.value.file == str(bad) and info.value.column in (key, "X")


def test_swapped_files(release: tuple[Path, Path]) -> None:
    mf, jm = release
    with pytest.raises(Gait2HipInputError, match="swap") as info:
        load_release(mf_path=jm, jm_path=mf)
    assert info.value.column == "out_cols"


@pytest.mark.parametrize("mass", [0.0, -70.0, np.nan])
def test_bad_mass(release: tuple[Path, Path], tmp_path: Path, mass: float) -> None:
    mf, _ = release
    with np.load(mf) as npz:
        weight = npz["weight_kg"].copy()
    weight[4] = mass
    bad = _rewrite(mf, tmp_path / "Gait2Hip_MF60.npz", weight_kg=weight)
    with pytest.raises(Gait2HipInputError, match="body mass is missing or ≤ 0") as info:
        load_release(mf_path=bad)
    assert info.value.column == "weight_kg" and info.value.file == str(bad)


def test_missing_key_nan_radians_per_kg(release: tuple[Path, Path], tmp_path: Path) -> None:
    mf, _ = release
    with np.load(mf) as npz:
        arrays = {k: npz[k] for k in npz.files}
    no_mass = tmp_path / "a" / "Gait2Hip_MF60.npz"
    no_mass.parent.mkdir()
    np.savez(no_mass, **{k: v for k, v in arrays.items() if k != "weight_kg"})
    with pytest.raises(Gait2HipInputError, match="key missing") as info:
        load_release(mf_path=no_mass)
    assert info.value.column == "weight_kg"

    X = arrays["X"].copy()
    X[2, 10, 6] = np.nan
    with pytest.raises(Gait2HipInputError, match="NaN") as info:
        load_release(mf_path=_rewrite(mf, tmp_path / "b" / "Gait2Hip_MF60.npz", X=X))
    assert info.value.column == "knee_angle_r"

    with pytest.raises(Gait2HipInputError, match="radians") as info:
        load_release(mf_path=_rewrite(mf, tmp_path / "c" / "Gait2Hip_MF60.npz", X=np.radians(arrays["X"])))
    assert info.value.column == "X"

    per_kg = arrays["Y"] / arrays["weight_kg"][:, None, None]
    with pytest.raises(Gait2HipInputError, match="already divided by body mass") as info:
        load_release(mf_path=_rewrite(mf, tmp_path / "d" / "Gait2Hip_MF60.npz", Y=per_kg))
    assert info.value.column == "Y"

    labels = arrays["speed_label"].astype("<U8")  # wide enough for the new label
    labels[0] = "brisk"
    with pytest.raises(Gait2HipInputError, match="brisk") as info:
        load_release(mf_path=_rewrite(mf, tmp_path / "e" / "Gait2Hip_MF60.npz", speed_label=labels))
    assert info.value.column == "speed_label"

    cols = arrays["in_cols"].copy()
    cols[1] = "hip_adduction"
    with pytest.raises(Gait2HipInputError, match="in_cols") as info:
        load_release(mf_path=_rewrite(mf, tmp_path / "f" / "Gait2Hip_MF60.npz", in_cols=cols))
    assert info.value.column == "hip_adduction_r"


def test_load_dataset_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(Gait2HipInputError, match="no such file"):
        load_dataset(tmp_path / "nope.npz")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(Gait2HipInputError, match="unsupported"):
        load_dataset(tmp_path / "x.txt")
    path = default_dataset_path(required=False)
    assert path.name == "default.npz" and path.parent.name == "cohort"
    if not path.exists():
        with pytest.raises(Gait2HipInputError, match="not been generated"):
            load_dataset("default")


def test_data_layer_never_imports_torch_or_opensim() -> None:
    code = (
        "import sys, gait2hip.data, gait2hip.data.release, gait2hip.data.angles, gait2hip.data.cycles, "
        "gait2hip.data.synthetic, gait2hip.io.opensim\n"
        "import importlib\n"
        "for name in ('gait2hip.data.lab', 'gait2hip.data.inspect'):\n"
        "    try: importlib.import_module(name)\n"
        "    except ModuleNotFoundError: pass\n"
        "bad = [m for m in ('torch', 'opensim') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_bytes_string_arrays(release: tuple[Path, Path], tmp_path: Path) -> None:
    mf, _ = release
    with np.load(mf) as npz:
        changes = {
            k: np.char.encode(npz[k], "ascii") for k in ("subject_id", "speed_label", "in_cols", "out_cols")
        }
    ds = load_release(mf_path=_rewrite(mf, tmp_path / "Gait2Hip_MF60.npz", **changes))
    assert ds.subjects == ["H01", "H02", "H03"] and set(ds.meta["cadence_label"]) == {"slow", "med", "fast"}
