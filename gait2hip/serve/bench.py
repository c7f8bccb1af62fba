"""A bounded load test of the clinic service on loopback (``gait2hip bench serve``).

Starts ``gait2hip serve`` as a separate process on 127.0.0.1 (a free port, a throw-away token),
then ``clients`` threads each upload the same trial ``uploads`` times, one after the other, and
the latency of every request (upload → complete JSON answer) is recorded. Nothing leaves the
machine. Also used by the browser test to start a real server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    token: str
    process: subprocess.Popen
    log: Path


@contextmanager
def running_server(
    *, workers: int = 2, extra: tuple[str, ...] = (), timeout_s: float = 60.0
) -> Iterator[RunningServer]:
    """``gait2hip serve`` in a child process on 127.0.0.1, stopped (SIGTERM, then SIGKILL) on exit."""
    import httpx

    with tempfile.TemporaryDirectory(prefix="g2h-bench-") as folder:
        token_file = Path(folder) / "token"
        log = Path(folder) / "server.log"
        port = free_port()
        command = [sys.executable, "-m", "gait2hip.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--token-file", str(token_file), "--workers", str(workers), *extra]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        with open(log, "wb") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited ({process.returncode}): {log.read_text()[-2000:]}")
                try:
                    if httpx.get(url + "/healthz", timeout=1.0).status_code == 200 and token_file.exists():
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer within {timeout_s:g} s")
                time.sleep(0.2)
            yield RunningServer(url=url, token=token_file.read_text().strip(), process=process, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class LoadResult:
    """Latencies (s) of the answered requests and what went wrong with the others."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    wall_s: float = 0.0

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1e3) if self.latencies_s else float("nan")


def run_load(
    *, url: str, token: str, data: bytes, filename: str, mass_kg: float, clients: int, uploads: int
) -> LoadResult:
    """``clients`` concurrent clients × ``uploads`` sequential uploads each; every answer is checked."""
    import httpx

    result = LoadResult(requests=clients * uploads)
    lock = threading.Lock()
    start_gate = threading.Barrier(clients)

    def client() -> None:
        with httpx.Client(base_url=url, timeout=600.0, headers={"Authorization": f"Bearer {token}"}) as http:
            start_gate.wait()
            for _ in range(uploads):
                began = time.perf_counter()
                try:
                    response = http.post(
                        "/api/analyses", files={"file": (filename, data)}, data={"mass_kg": str(mass_kg)}
                    )
                    ok = response.status_code == 201 and len(response.json().get("cycles", [])) > 0
                    problem = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
                    status = response.status_code
                except (httpx.HTTPError, ValueError) as exc:
                    problem, status = f"{type(exc).__name__}: {exc}", None
                elapsed = time.perf_counter() - began
                with lock:
                    if status is not None:
                        result.statuses[status] = result.statuses.get(status, 0) + 1
                    if problem is None:
                        result.latencies_s.append(elapsed)
                    else:
                        result.errors.append(problem)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - began
    return result
