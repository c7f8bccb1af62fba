"""Where the service keeps an analysis's results until they are downloaded, and for how long.

Two stores with one interface (``put``, ``get``, ``purge``):

* :class:`MemoryStore` (the default): results live in the process's memory only, for
  ``retention_s`` seconds, at most ``max_entries`` analyses (the oldest go first). Nothing
  about a patient touches the disk; a restart forgets everything.
* :class:`DirectoryStore` (``--data-dir``): each analysis in ``DIR/<id>/`` (folders 0700, files
  0600), deleted ``retention_s`` seconds after it was made (checked on every request and at
  start-up), so a clinic can keep uploads and results for a set time.

Blobs may be given as zero-argument callables that make the bytes: the memory store calls one
on its first download (and keeps the bytes), the directory store at once. Slow files that few
users download (the zip of ``.sto`` files) then cost nothing at upload time.

Analysis ids are random (:func:`new_id`, 128 bits) and checked against :data:`ID_PATTERN`
before any use, so an id can never name a path outside the store.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")
_NAME_PATTERN = re.compile(r"^[a-z0-9_.-]{1,40}$")
Blob = bytes | Callable[[], bytes]


def new_id() -> str:
    """A new random analysis id (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def valid_id(analysis_id: str) -> bool:
    return bool(ID_PATTERN.match(analysis_id))


class MemoryStore:
    """Results in memory for ``retention_s`` seconds, at most ``max_entries`` analyses."""

    def __init__(self, *, retention_s: float = 3600.0, max_entries: int = 200) -> None:
        if retention_s <= 0 or max_entries < 1:
            raise ValueError("retention_s must be > 0 and max_entries ≥ 1")
        self.retention_s = float(retention_s)
        self.max_entries = int(max_entries)
        self._items: OrderedDict[str, tuple[float, dict[str, Blob]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, analysis_id: str, blobs: dict[str, Blob], *, upload: bytes | None = None) -> None:
        """Keep the named blobs of one analysis (the upload itself is not kept in memory)."""
        if not valid_id(analysis_id) or not all(_NAME_PATTERN.match(n) for n in blobs):
            raise ValueError("bad analysis id or blob name")
        with self._lock:
            self._items[analysis_id] = (time.monotonic(), dict(blobs))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get(self, analysis_id: str, name: str) -> bytes | None:
        """A blob, or None when unknown, expired or never made."""
        self.purge()
        if not valid_id(analysis_id):
            return None
        with self._lock:
            item = self._items.get(analysis_id)
        blob = None if item is None else item[1].get(name)
        if callable(blob):
            blob = blob()
            with self._lock:
                if analysis_id in self._items:
                    self._items[analysis_id][1][name] = blob
        return blob

    def purge(self) -> int:
        """Forget analyses older than the retention; returns how many."""
        limit = time.monotonic() - self.retention_s
        with self._lock:
            old = [key for key, (made, _) in self._items.items() if made < limit]
            for key in old:
                del self._items[key]
        return len(old)

    def __len__(self) -> int:
        return len(self._items)


class DirectoryStore:
    """Uploads and results in ``directory/<id>/`` for ``retention_s`` seconds."""

    def __init__(self, directory: str | Path, *, retention_s: float = 24 * 3600.0) -> None:
        if retention_s <= 0:
            raise ValueError("retention_s must be > 0")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.retention_s = float(retention_s)
        self.purge()

    def _write(self, path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def put(self, analysis_id: str, blobs: dict[str, Blob], *, upload: bytes | None = None) -> None:
        """Write the blobs (and the upload, as ``upload.bin``) into the analysis's folder."""
        if not valid_id(analysis_id) or not all(_NAME_PATTERN.match(n) for n in blobs):
            raise ValueError("bad analysis id or blob name")
        folder = self.directory / analysis_id
        folder.mkdir(mode=0o700)
        for name, data in blobs.items():
            self._write(folder / name, data() if callable(data) else data)
        if upload is not None:
            self._write(folder / "upload.bin", upload)

    def get(self, analysis_id: str, name: str) -> bytes | None:
        self.purge()
        if not valid_id(analysis_id) or not _NAME_PATTERN.match(name):
            return None
        path = self.directory / analysis_id / name
        return path.read_bytes() if path.is_file() else None

    def purge(self) -> int:
        """Delete analysis folders older than the retention; returns how many."""
        limit = time.time() - self.retention_s
        removed = 0
        for folder in self.directory.iterdir():
            if folder.is_dir() and valid_id(folder.name) and folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def __len__(self) -> int:
        return sum(1 for f in self.directory.iterdir() if f.is_dir() and valid_id(f.name))


def scratch_root() -> Path:
    """Where uploads are put for reading: ``/dev/shm`` (memory) when writable, else the temp folder."""
    shm = Path("/dev/shm")
    if shm.is_dir() and shm.stat().st_mode & 0o002:
        return shm
    return Path(tempfile.gettempdir())
