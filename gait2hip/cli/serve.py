"""``gait2hip serve`` (the clinic service) and its load test ``bench serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gait2hip.cli.base import SharedOption, app, bench_app, clear_errors, console, examples


@app.command(
    "serve",
    epilog=examples(
        "gait2hip serve  (this machine only, http://127.0.0.1:8000)",
        "gait2hip serve --host 0.0.0.0 --ssl-certfile cert.pem --ssl-keyfile key.pem "
        "--data-dir /srv/gait2hip",
    ),
)
@clear_errors
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    model: Annotated[
        str, typer.Option(help="'default', an installed bundle name, or a bundle path")
    ] = "default",
    token_file: Annotated[
        Path | None, typer.Option(help="Access token file (made with mode 0600 on first start)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep uploads and results here (default: in memory only)")
    ] = None,
    retention_hours: Annotated[float, typer.Option(help="How long results are kept")] = 1.0,
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted upload, MB")] = 20.0,
    max_cycles: Annotated[int, typer.Option(help="Most gait cycles per upload")] = 40,
    workers: Annotated[int, typer.Option(help="Analyses at the same time")] = 2,
    ssl_certfile: Annotated[Path | None, typer.Option(help="TLS certificate (PEM)")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
) -> None:
    """The clinic service: a web page and API that analyse walking trials on this machine."""
    from gait2hip.commands.serve import serve_command

    serve_command(
        host=host,
        port=port,
        model=model,
        token_file=token_file,
        data_dir=data_dir,
        retention_hours=retention_hours,
        max_upload_mb=max_upload_mb,
        max_cycles=max_cycles,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        console=console,
    )


@bench_app.command("serve")
@clear_errors
def bench_serve(
    clients: Annotated[int, typer.Option(help="Concurrent clients")] = 20,
    uploads: Annotated[int, typer.Option(help="Uploads per client")] = 10,
    trial: Annotated[
        Path | None, typer.Option(help="Trial to upload (default: the gait2392 example)")
    ] = None,
    mass: Annotated[float, typer.Option(help="Body mass sent with each upload, kg")] = 72.6,
    workers: Annotated[int, typer.Option(help="The server's analyses at the same time")] = 2,
    shared: SharedOption = None,
) -> None:
    """Load test of the clinic service on loopback: latency p50/p95, errors, all requests answered."""
    from gait2hip.commands.serve import bench_serve_command

    bench_serve_command(
        clients=clients,
        uploads=uploads,
        trial=trial,
        mass_kg=mass,
        workers=workers,
        shared=shared,
        console=console,
    )
