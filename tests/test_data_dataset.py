"""gait2hip.data.dataset: units travel with the data; selection, concatenation, NPZ round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gait2hip.data.columns import MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.data.synthetic import synthetic_dataset
from gait2hip.errors import Gait2HipInputError


@pytest.fixture()
def ds() -> GaitDataset:
    return synthetic_dataset(n_subjects=3, trials_per_cadence=2, n_timepoints=21, seed=2)


def test_mass_normalisation_happens_once(ds: GaitDataset) -> None:
    per_kg = ds.normalized_by_mass()
    assert per_kg.target_units == ("N/kg",) * 14 + ("Nm/kg",) * 3 and per_kg.mass_normalized
    mass = ds.meta["mass_kg"].to_numpy()[:, None, None]
    np.testing.assert_allclose(per_kg.Y, ds.Y / mass, rtol=1e-6)
    with pytest.raises(Gait2HipInputError, match="already normalised") as info:
        per_kg.normalized_by_mass()
    assert "divide by mass again" in str(info.value)
    back = per_kg.denormalized_by_mass()
    assert back.target_units == ds.target_units
    np.testing.assert_allclose(back.Y, ds.Y, rtol=1e-5)
    with pytest.raises(Gait2HipInputError, match="not normalised"):
        ds.denormalized_by_mass()
    # the unit survives a save / load, so a reloaded per-kg dataset still refuses a second division
    assert not ds.mass_normalized


def test_units_survive_save_load(ds: GaitDataset, tmp_path: Path) -> None:
    per_kg = ds.normalized_by_mass()
    loaded = GaitDataset.load(per_kg.save(tmp_path / "d.npz"))
    assert loaded.target_units == per_kg.target_units
    with pytest.raises(Gait2HipInputError, match="already normalised"):
        loaded.normalized_by_mass()


def test_selection(ds: GaitDataset) -> None:
    slow = ds.select(cadences="slow")
    assert len(slow) == 6 and set(slow.meta["cadence_label"]) == {"slow"}
    two = ds.select(subjects=["H01", "H03"], cadences=["fast", "med"])
    assert len(two) == 8 and two.subjects == ["H01", "H03"]
    assert len(ds.select(cohorts="synthetic", sides="right")) == len(ds)
    assert len(ds.select(subjects="nobody")) == 0
    forces = ds.select_targets(["glmed_r", "hip_flexion_r_moment"])
    assert forces.target_columns == ("glmed_r", "hip_flexion_r_moment") and forces.target_units == ("N", "Nm")
    np.testing.assert_array_equal(forces.Y[:, :, 1], ds.Y[:, :, 14])
    hips = ds.select_inputs(["hip_flexion_r", "hip_flexion_l"])
    assert hips.X.shape[2] == 2
    with pytest.raises(Gait2HipInputError, match="not in this dataset") as info:
        ds.select_targets(["glmax"])
    assert info.value.column == "glmax"
    taken = ds.take(np.array([5, 0]))
    np.testing.assert_array_equal(taken.X[1], ds.X[0])
    assert taken.meta["trial_id"].tolist() == [ds.meta["trial_id"][5], ds.meta["trial_id"][0]]


def test_concat(ds: GaitDataset) -> None:
    both = GaitDataset.concat([ds.select(subjects="H01"), ds.select(subjects="H02")])
    assert len(both) == 12 and both.subjects == ["H01", "H02"]
    with pytest.raises(Gait2HipInputError, match="target_units differ"):
        GaitDataset.concat([ds, ds.normalized_by_mass()])
    with pytest.raises(Gait2HipInputError, match="21- and 11-point cycles"):
        GaitDataset.concat([ds, synthetic_dataset(n_subjects=1, trials_per_cadence=1, n_timepoints=11)])


def test_degrees(ds: GaitDataset) -> None:
    rad = ds._replace(X=np.radians(ds.X), input_units=("rad",) * 10)
    np.testing.assert_allclose(rad.inputs_in_degrees().X, ds.X, rtol=1e-5)
    assert ds.inputs_in_degrees() is ds


@pytest.mark.parametrize("mass", [0.0, -1.0, np.nan])
def test_bad_mass(ds: GaitDataset, mass: float) -> None:
    meta = ds.meta.copy()
    meta.loc[3, "mass_kg"] = mass
    with pytest.raises(Gait2HipInputError, match="missing or ≤ 0") as info:
        ds._replace(meta=meta)
    assert info.value.column == "mass_kg"


def test_unknown_mass_only_with_per_kg_targets(ds: GaitDataset, tmp_path: Path) -> None:
    per_kg = ds.normalized_by_mass()
    meta = per_kg.meta.copy()
    meta["mass_kg"] = np.nan  # published per-kg data without body masses
    unknown = per_kg._replace(meta=meta)
    back = GaitDataset.load(unknown.save(tmp_path / "per_kg.npz"))
    assert back.meta["mass_kg"].isna().all()
    with pytest.raises(Gait2HipInputError) as info:
        unknown.denormalized_by_mass()
    assert info.value.column == "mass_kg"
    meta.loc[0, "mass_kg"] = np.inf
    with pytest.raises(Gait2HipInputError):
        per_kg._replace(meta=meta)
    mixed = per_kg._replace(target_units=("N", *per_kg.target_units[1:]))  # one raw column needs the mass
    meta.loc[0, "mass_kg"] = np.nan
    with pytest.raises(Gait2HipInputError, match="missing or ≤ 0"):
        mixed._replace(meta=meta)


def test_bad_construction(ds: GaitDataset, tmp_path: Path) -> None:
    fields = dict(
        X=ds.X, Y=ds.Y, input_columns=ds.input_columns, target_columns=ds.target_columns,
        input_units=ds.input_units, target_units=ds.target_units, meta=ds.meta,
    )  # fmt: skip
    with pytest.raises(Gait2HipInputError, match="unknown angle unit"):
        GaitDataset(**{**fields, "input_units": ("degrees",) * 10})
    with pytest.raises(Gait2HipInputError, match="unknown target unit"):
        GaitDataset(**{**fields, "target_units": ("kN",) * 17})
    with pytest.raises(Gait2HipInputError, match="disagree"):
        GaitDataset(**{**fields, "Y": ds.Y[:-1]})
    with pytest.raises(Gait2HipInputError, match="duplicate"):
        GaitDataset(**{**fields, "input_columns": ("hip_flexion_r",) * 10})
    with pytest.raises(Gait2HipInputError, match="required metadata") as info:
        GaitDataset(**{**fields, "meta": ds.meta.drop(columns=["mass_kg"])})
    assert info.value.column == "mass_kg"
    with pytest.raises(Gait2HipInputError, match="metadata has"):
        GaitDataset(**{**fields, "meta": ds.meta.iloc[:-1]})
    np.savez(tmp_path / "x.npz", X=ds.X)
    with pytest.raises(Gait2HipInputError, match="key missing") as info:
        GaitDataset.load(tmp_path / "x.npz")
    assert info.value.column == "Y"
    with pytest.raises(Gait2HipInputError, match="not found"):
        GaitDataset.load(tmp_path / "absent.npz")


def test_take_nothing(ds: GaitDataset) -> None:
    empty = ds.take([])
    assert len(empty) == 0 and empty.X.shape == (0, 21, 10)


def _with_contact(ds: GaitDataset) -> GaitDataset:
    from gait2hip.data.columns import CONTACT_L, CONTACT_R

    contact = np.zeros((len(ds), ds.n_timepoints, 14), dtype=np.float32)
    contact[:, :, 0] = 1780.5  # hip_r_contact_mag, N
    contact[:, :, 2] = -1700.0  # hip_r_contact_y
    return ds._replace(
        Y=np.concatenate([ds.Y, contact], axis=2),
        target_columns=ds.target_columns + CONTACT_R + CONTACT_L,
        target_units=ds.target_units + ("N",) * 14,
    )


def test_contact_group_in_percent_body_weight(ds: GaitDataset, tmp_path: Path) -> None:
    with_contact = _with_contact(ds.take([0])._replace(meta=ds.meta.iloc[[0]].assign(mass_kg=72.6)))
    assert with_contact.target_group("contact")[:2] == ("hip_r_contact_mag", "hip_r_contact_x")
    assert with_contact.target_group("forces") == MUSCLE_GROUPS_R
    percent = with_contact.contact_in_percent_bw()
    j = percent.target_columns.index("hip_r_contact_mag")
    assert percent.target_units[j] == "%BW" and percent.target_units[:17] == ds.target_units
    # 1780.5 N for 72.6 kg: 1780.5 / (72.6 · 9.81) = 2.500 body weights
    np.testing.assert_allclose(percent.Y[0, :, j], 250.0, rtol=1e-4)
    np.testing.assert_allclose(percent.Y[0, :, j + 2], -238.7, rtol=1e-3)
    np.testing.assert_array_equal(percent.Y[:, :, :17], with_contact.Y[:, :, :17])
    # per kg first, then %BW: the same numbers; and the unit survives a save / load
    via_per_kg = with_contact.normalized_by_mass().contact_in_percent_bw()
    np.testing.assert_allclose(via_per_kg.Y[:, :, 17:], percent.Y[:, :, 17:], rtol=1e-5)
    loaded = GaitDataset.load(percent.save(tmp_path / "c.npz"))
    assert loaded.target_units == percent.target_units
    np.testing.assert_array_equal(loaded.contact_in_percent_bw().Y, percent.Y)  # already %BW: unchanged


def test_dataset_without_contact_columns_still_loads(ds: GaitDataset, tmp_path: Path) -> None:
    loaded = GaitDataset.load(ds.save(tmp_path / "old.npz"))
    assert loaded.target_group("contact") == ()
    assert loaded.target_group("moments") == MOMENTS_R
    with pytest.raises(Gait2HipInputError, match="no hip contact-force columns"):
        loaded.contact_in_percent_bw()
    with pytest.raises(Gait2HipInputError, match="unknown target group"):
        loaded.target_group("contacts")
