"""``gait2hip serve`` and ``gait2hip bench serve``: the command layer of the clinic service.

The only place of the service that reads environment variables, prints, and decides where the
token file lives (default ``$XDG_CONFIG_HOME/gait2hip/serve-token``, else
``~/.config/gait2hip/serve-token``).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

from gait2hip.errors import Gait2HipInputError


def default_token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gait2hip" / "serve-token"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _missing_extra() -> Gait2HipInputError:
    return Gait2HipInputError(
        "the clinic service needs FastAPI and uvicorn.", fix="pip install 'gait2hip[serve]'."
    )


def serve_command(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    model: str = "default",
    token_file: Path | None = None,
    data_dir: Path | None = None,
    retention_hours: float = 1.0,
    max_upload_mb: float = 20.0,
    max_cycles: int = 40,
    workers: int = 2,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    console: Any = None,
) -> None:
    """Start the service (blocks until Ctrl-C). Parameters as the command's options."""
    from rich.console import Console

    console = console or Console()
    try:
        import uvicorn

        from gait2hip.serve.app import ServeSettings, create_app, warm_up
        from gait2hip.serve.security import ensure_token_file
    except ModuleNotFoundError:
        raise _missing_extra() from None
    _check_serve_options(
        port=port, ssl=(ssl_certfile, ssl_keyfile), max_upload_mb=max_upload_mb,
        retention_hours=retention_hours, max_cycles=max_cycles, workers=workers,
    )  # fmt: skip
    import torch

    torch.set_num_threads(1)  # one analysis per worker thread; see predict_command
    path = Path(token_file) if token_file else default_token_file()
    token, created = ensure_token_file(path)
    settings = ServeSettings(
        token=token,
        model=model,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        max_cycles=max_cycles,
        workers=workers,
        data_dir=None if data_dir is None else Path(data_dir),
        retention_s=3600.0 * retention_hours,
    )
    app = create_app(settings)
    warm_up(app.state.predictor)
    _print_start(
        console, app.state.predictor, url=f"{'https' if ssl_certfile else 'http'}://{host}:{port}/",
        data_dir=data_dir, retention_hours=retention_hours, max_upload_mb=max_upload_mb,
        max_cycles=max_cycles, token=(token, created, path),
    )  # fmt: skip
    if not _is_loopback(host) and ssl_certfile is None:
        console.print(
            "[yellow]warning:[/] listening beyond this machine over plain HTTP: the token and the uploads "
            "cross the network unencrypted. Use --ssl-certfile/--ssl-keyfile or a TLS reverse proxy.",
            highlight=False,
        )
    import copy

    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)  # + the service's own (data-free) lines
    log_config["loggers"]["gait2hip.serve"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=log_config,
        server_header=False,
        ssl_certfile=None if ssl_certfile is None else str(ssl_certfile),
        ssl_keyfile=None if ssl_keyfile is None else str(ssl_keyfile),
    )


def bench_serve_command(
    *,
    clients: int = 20,
    uploads: int = 10,
    trial: Path | None = None,
    mass_kg: float = 72.6,
    workers: int = 2,
    shared: Path | None = None,
    console: Any = None,
) -> dict[str, float]:
    """Start a server on loopback, load it, print p50/p95 latency, errors and whether all were answered."""
    from rich.console import Console

    from gait2hip.paths import shared_file

    console = console or Console()
    try:
        from gait2hip.serve.bench import run_load, running_server
    except ModuleNotFoundError:
        raise _missing_extra() from None
    if clients < 1 or uploads < 1 or clients * uploads > 10_000:
        raise Gait2HipInputError(
            "--clients and --uploads must be ≥ 1 (at most 10 000 requests).", column="clients"
        )
    path = (
        Path(trial)
        if trial
        else shared_file("opensim-examples/gait2392-subject01/subject01_walk1_ik.mot", path=shared)
    )
    if not path.is_file():
        raise Gait2HipInputError("trial not found.", file=path, fix="check the path.")
    data = path.read_bytes()
    with console.status("starting the server"), running_server(workers=workers) as server:
        console.print(
            f"server on {server.url} ({workers} worker(s)); "
            f"{clients} clients × {uploads} uploads of {path.name}"
        )
        with console.status(f"{clients * uploads} uploads"):
            result = run_load(
                url=server.url,
                token=server.token,
                data=data,
                filename=path.name,
                mass_kg=mass_kg,
                clients=clients,
                uploads=uploads,
            )
    return _print_load(console, result)


def _check_serve_options(
    *,
    port: int,
    ssl: tuple[Path | None, Path | None],
    max_upload_mb: float,
    retention_hours: float,
    max_cycles: int,
    workers: int,
) -> None:
    """One clear error for an option ``gait2hip serve`` cannot use."""
    if not 1 <= port <= 65535:
        raise Gait2HipInputError(f"port {port} is not a TCP port.", column="port", fix="use 1–65535.")
    if (ssl[0] is None) != (ssl[1] is None):
        raise Gait2HipInputError("give both --ssl-certfile and --ssl-keyfile.", column="ssl")
    for name, value in (("max-upload-mb", max_upload_mb), ("retention-hours", retention_hours)):
        if not value > 0:
            raise Gait2HipInputError(f"--{name} must be > 0.", column=name)
    if max_cycles < 1 or workers < 1:
        raise Gait2HipInputError("--max-cycles and --workers must be ≥ 1.", column="max-cycles")


def _print_start(
    console: Any,
    predictor: Any,
    *,
    url: str,
    data_dir: Path | None,
    retention_hours: float,
    max_upload_mb: float,
    max_cycles: int,
    token: tuple[str, bool, Path],
) -> None:
    """Where the service listens, its model and limits, and the access token (shown once when new)."""
    value, created, path = token
    console.print(
        f"gait2hip clinic service: {url}  (API docs: /api/docs)\n"
        f"model: {', '.join(b.name for b in predictor.bundles)}"
        + (f" — trained on {predictor.training_data}" if predictor.simulated else "")
        + f"\nresults kept {'in ' + str(data_dir) if data_dir else 'in memory only'} for "
        f"{retention_hours:g} h; uploads ≤ {max_upload_mb:g} MB, ≤ {max_cycles} cycles",
        highlight=False,
    )
    if created:
        console.print(
            f"[bold]New access token[/] (shown once; stored in {path}, mode 0600):\n{value}", highlight=False
        )
    else:
        console.print(f"access token: in {path}", highlight=False)


def _print_load(console: Any, result: Any) -> dict[str, float]:
    """The load test's table, machine and statuses; its figures."""
    import platform

    from rich.table import Table

    table = Table(title="gait2hip serve under load (loopback)", title_justify="left")
    for column in ("requests", "answered", "errors", "p50 ms", "p95 ms", "max ms", "wall s", "uploads/s"):
        table.add_column(column, justify="right")
    figures = {
        "requests": result.requests,
        "answered": result.answered,
        "errors": len(result.errors),
        "p50_ms": result.percentile_ms(50),
        "p95_ms": result.percentile_ms(95),
        "max_ms": result.percentile_ms(100),
        "wall_s": result.wall_s,
        "throughput": len(result.latencies_s) / result.wall_s if result.wall_s else float("nan"),
    }
    table.add_row(
        str(result.requests),
        str(result.answered),
        str(len(result.errors)),
        f"{figures['p50_ms']:.0f}",
        f"{figures['p95_ms']:.0f}",
        f"{figures['max_ms']:.0f}",
        f"{result.wall_s:.1f}",
        f"{figures['throughput']:.2f}",
    )
    console.print(table)
    console.print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU(s) visible, "
        f"Python {platform.python_version()}; "
        f"HTTP statuses {dict(sorted(result.statuses.items()))}",
        highlight=False,
    )
    for problem in result.errors[:5]:
        console.print(f"[red]error:[/] {problem}", highlight=False)
    if result.answered != result.requests or result.errors:
        console.print("[red]NOT all requests were answered without error[/]")
    else:
        console.print("[green]all requests answered, no errors[/]")
    return figures
