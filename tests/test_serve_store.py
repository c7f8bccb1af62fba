"""Where analyses are kept: in memory (default) or in a data folder, both for a retention time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gait2hip.serve.store import DirectoryStore, MemoryStore, new_id, valid_id


def test_ids_are_random_and_checked() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100 and all(valid_id(i) for i in ids)
    for bad in ("../../etc/passwd", "", "a" * 21, "a" * 23, "abc/def" + "a" * 15):
        assert not valid_id(bad)


def test_memory_store_forgets_after_retention_and_beyond_capacity(monkeypatch) -> None:
    store = MemoryStore(retention_s=10, max_entries=2)
    a, b, c = new_id(), new_id(), new_id()
    for key in (a, b, c):
        store.put(key, {"report.html": key.encode()})
    assert store.get(a, "report.html") is None  # the oldest went first
    assert store.get(c, "report.html") == c.encode() and store.get(c, "other") is None
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 11)
    assert store.get(c, "report.html") is None and len(store) == 0
    with pytest.raises(ValueError):
        store.put("../x", {"a": b""})


def test_directory_store_round_trip(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "d", retention_s=3600)
    key = new_id()
    store.put(key, {"result.json": b"{}"}, upload=b"trial")
    assert store.get(key, "result.json") == b"{}" and store.get(key, "upload.bin") == b"trial"
    assert store.get(key, "../" + key) is None and store.get("../d", "result.json") is None
    (tmp_path / "d" / "not-an-analysis").mkdir()
    assert len(store) == 1 and store.purge() == 0


def test_blobs_made_on_first_download() -> None:
    calls = []

    def make() -> bytes:
        calls.append(1)
        return b"zip"

    store = MemoryStore()
    key = new_id()
    store.put(key, {"cycles.zip": make})
    assert calls == []
    assert store.get(key, "cycles.zip") == b"zip" and store.get(key, "cycles.zip") == b"zip"
    assert calls == [1]
