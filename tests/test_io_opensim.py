"""gait2hip.io.opensim: every real .mot/.sto round-trips; bad files give one clear error."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gait2hip.errors import Gait2HipInputError
from gait2hip.io.opensim import Storage, StorageHeader, read_storage, write_storage


def _example_tables(examples: Path) -> list[Path]:
    return sorted(p for p in examples.rglob("*") if p.suffix in (".mot", ".sto"))


def test_every_example_table_round_trips(examples: Path, tmp_path: Path) -> None:
    tables = _example_tables(examples)
    assert len(tables) >= 9
    for source in tables:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = read_storage(source)
        assert first.data.index.name == "time"
        assert first.data.shape[0] > 10 and first.data.shape[1] > 5
        assert np.all(np.diff(first.time) > 0), source
        written = write_storage(tmp_path / source.name, first)
        second = read_storage(written)
        assert list(second.data.columns) == list(first.data.columns)
        np.testing.assert_allclose(second.data.to_numpy(), first.data.to_numpy(), rtol=0, atol=1e-9)
        np.testing.assert_allclose(second.time, first.time, rtol=0, atol=1e-12)
        assert second.data.equals(first.data)  # repr-formatted: bit-identical
        assert second.header.name == first.header.name
        assert second.header.in_degrees == first.header.in_degrees
        assert second.header.version == first.header.version
        assert second.header.extra_lines == first.header.extra_lines
        assert second.header.n_rows == len(first.data)
        assert second.header.n_columns == first.data.shape[1] + 1
        # A second write of the re-read table is byte-identical: the writer is stable.
        assert write_storage(tmp_path / ("again_" + source.name), second).read_bytes() == written.read_bytes()


def test_header_variants_are_understood(examples: Path) -> None:
    ik = read_storage(examples / "gait2392-subject01/subject01_walk1_ik.mot")
    assert ik.header.in_degrees is True and ik.header.version == 1
    assert ik.header.n_rows == 211 and ik.data.shape == (211, 23)
    assert "Angles are in degrees." in ik.header.extra_lines
    assert ik.data.index[0] == pytest.approx(0.5) and ik.data.index[-1] == pytest.approx(4.0)

    # Trailing tabs on every header line; inDegrees=yes on a force table.
    grf = read_storage(examples / "gait2392-subject01/subject01_walk1_grf.mot")
    assert grf.header.name == "subject01_walk1_grf.mot"
    assert grf.data.shape == (1501, 18) and "1_ground_force_vy" in grf.columns


def test_moco_version3_with_wrong_ncolumns_warns_and_trusts_the_table(examples: Path) -> None:
    with pytest.warns(UserWarning, match="nColumns=40"):
        coords = read_storage(examples / "moco-3d-walking/coordinates.sto")
    assert coords.header.version == 3 and coords.header.in_degrees is False
    assert coords.header.n_columns == 40  # as declared, kept for the record
    assert coords.data.shape == (1350, 31)
    assert "/jointset/hip_r/hip_flexion_r/value" in coords.columns
    assert coords.header.extra_lines == ("DataType=double", "OpenSimVersion=4.5-2024-03-01-1daf88a4f")


def _write(tmp_path: Path, text: str, name: str = "t.sto") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_version2_space_separated_without_counts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "MyTable\nversion=2\ninDegrees=no\nendheader\ntime  a   b\n0.0  1.5  -2\n0.01 1e-3 NaN\n",
    )
    table = read_storage(path)
    assert table.header == StorageHeader(name="MyTable", version=2, in_degrees=False)
    assert table.columns == ["a", "b"]
    assert table.data.loc[0.01, "a"] == pytest.approx(1e-3)
    assert np.isnan(table.data.loc[0.01, "b"])


def test_header_without_name_line(tmp_path: Path) -> None:
    table = read_storage(_write(tmp_path, "version=1\nendheader\ntime\tq\n0\t1\n1\t2\n"))
    assert table.header.name == "" and table.header.version == 1 and table.header.in_degrees is None


def test_write_from_dataframe_with_time_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"time": [0.0, 0.1, 0.2], "hip_flexion_r": [1 / 3, 2.0, np.pi]})
    path = write_storage(tmp_path / "out.mot", frame, name="Coordinates", in_degrees=True)
    text = path.read_text().splitlines()
    assert text[:6] == ["Coordinates", "version=1", "nRows=3", "nColumns=2", "inDegrees=yes", "endheader"]
    back = read_storage(path)
    assert back.data["hip_flexion_r"].tolist() == [1 / 3, 2.0, np.pi]


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("Coordinates\nversion=1\ntime\ta\n0\t1\n", None, "no 'endheader'"),
        ("x\nendheader\ntime\ta\tb\n0\t1\t2\n0.1\t1\n", None, "line 5 has 2 cells"),
        ("x\nendheader\ntime\ta\tb\n0\t1\t2\n0.1\t1\tabc\n", "b", "'abc' is not a number"),
        ("x\nendheader\ntime\ta\ta\n0\t1\t2\n", "a", "appears twice"),
        ("x\nendheader\nframe\ta\n0\t1\n", "time", "not 'time'"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path: Path, text: str, column: str | None, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(Gait2HipInputError, match=message) as info:
        read_storage(path)
    assert info.value.file == str(path)
    assert info.value.column == column
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(Gait2HipInputError, match="not found"):
        read_storage(tmp_path / "absent.sto")


def test_storage_defaults_are_writable(tmp_path: Path) -> None:
    storage = Storage(data=pd.DataFrame({"q": [1.0, 2.0]}, index=pd.Index([0.0, 1.0], name="time")))
    back = read_storage(write_storage(tmp_path / "s.sto", storage))
    assert dataclasses.replace(back.header, n_rows=None, n_columns=None) == StorageHeader(name="", version=1)
    assert back.data.equals(storage.data)


def test_crlf_and_mixed_separators(tmp_path: Path) -> None:
    path = tmp_path / "w.mot"
    path.write_bytes(
        b"Coordinates\r\nversion=1\r\ninDegrees=yes\r\nendheader\r\n"
        b"time\tq1\tq2\r\n0.0  1.0  2.0\r\n0.1\t3\t4\r\n"
    )
    table = read_storage(path)
    assert table.header.in_degrees is True
    np.testing.assert_array_equal(table.data.to_numpy(), [[1.0, 2.0], [3.0, 4.0]])
