"""The clinic service: a FastAPI app that analyses uploaded walking trials on this machine.

``create_app(settings)`` builds it; ``gait2hip serve`` (``gait2hip.commands.serve``) runs it with
uvicorn. Endpoints (all but ``/healthz`` and the static page shell need the token):

=========================================  ===========================================================
``GET  /healthz``                           liveness, no token, no details
``GET  /``  ``/static/*``  ``/api/docs``    the page and the API docs page (static files, no data)
``GET  /openapi.json``                      the OpenAPI schema
``GET  /api/model``                         the model: outputs, units, training cohort bands, limits
``POST /api/analyses``                      upload a trial (multipart) → the analysis (201, JSON)
``GET  /api/analyses/{id}``                 the analysis again (JSON)
``GET  /api/analyses/{id}/report.html``     the one-page patient report
``GET  /api/analyses/{id}/report.pdf``      the same as PDF (needs WeasyPrint: ``gait2hip[pdf]``)
``GET  /api/analyses/{id}/curves.csv``      every cycle's curves (N, N/kg, Nm, Nm/kg)
``GET  /api/analyses/{id}/cycles.zip``      the ``gait2hip predict`` files: per-cycle .sto + .csv
=========================================  ===========================================================
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from gait2hip.errors import Gait2HipInputError
from gait2hip.predict import Predictor
from gait2hip.serve.analysis import UploadError, analyse
from gait2hip.serve.describe import target_table
from gait2hip.serve.report import pdf_available
from gait2hip.serve.security import SECURITY_HEADERS, presented_token, safe_filename, token_matches
from gait2hip.serve.store import DirectoryStore, MemoryStore, new_id, valid_id

log = logging.getLogger("gait2hip.serve")
#: Multipart framing and the form's small fields on top of the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "docs.html": "text/html; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
}
_DOWNLOADS = {
    "report.html": "text/html; charset=utf-8",
    "report.pdf": "application/pdf",
    "curves.csv": "text/csv; charset=utf-8",
    "cycles.zip": "application/zip",
}
_LINK_NAMES = {
    "report.html": "report",
    "report.pdf": "report_pdf",
    "curves.csv": "curves",
    "cycles.zip": "cycles",
}
_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


@dataclass
class ServeSettings:
    """What the service needs: the token, the model and its limits.

    Parameters
    ----------
    token
        The access token every protected request must present.
    model
        'default', an installed bundle name or a bundle path (as ``gait2hip predict --model``).
    max_upload_bytes
        Largest accepted trial file.
    max_cycles
        Most gait cycles analysed per upload.
    workers
        Analyses run at the same time (the rest wait their turn).
    data_dir
        Keep uploads and results in this folder for ``retention_s`` (else in memory only).
    retention_s
        How long results can be downloaded (and, with ``data_dir``, how long files are kept).
    max_results
        In-memory store only: most analyses kept at once (the oldest are dropped).
    """

    token: str
    model: str = "default"
    max_upload_bytes: int = 20 * 1024 * 1024
    max_cycles: int = 40
    workers: int = 2
    data_dir: Path | None = None
    retention_s: float = 3600.0
    max_results: int = 200


def error_body(status: int, problem: str, *, file=None, column=None, fix=None) -> dict[str, Any]:
    """The JSON every error answers with."""
    message = str(Gait2HipInputError(problem, file=file, column=column, fix=fix))
    return {
        "error": {
            "status": status,
            "problem": problem,
            "file": file,
            "column": column,
            "fix": fix,
            "message": message,
        }
    }


class _InMemoryParser(MultiPartParser):
    """The multipart parser, keeping the file part in memory (never spooled to disk)."""

    def __init__(self, *args: Any, spool: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spool_max_size = spool


def _http_error(status: int, problem: str, fix: str | None = None) -> StarletteHTTPException:
    return StarletteHTTPException(status_code=status, detail={"problem": problem, "fix": fix})


def create_app(settings: ServeSettings, *, predictor: Predictor | None = None) -> FastAPI:
    """The FastAPI application (see the module docstring for its endpoints)."""
    predictor = predictor or Predictor.from_bundle(settings.model)
    store = (
        DirectoryStore(settings.data_dir, retention_s=settings.retention_s)
        if settings.data_dir is not None
        else MemoryStore(retention_s=settings.retention_s, max_entries=settings.max_results)
    )
    limiter = anyio.CapacityLimiter(max(1, settings.workers))
    app = FastAPI(
        title="gait2hip clinic service",
        version="1",
        description="Hip muscle forces and hip joint moments during walking from 10 joint angles, "
        "computed on this machine. Authenticate with `Authorization: Bearer <token>`.",
        docs_url=None,  # FastAPI's /docs and /redoc load scripts from a CDN: replaced by /api/docs
        redoc_url=None,
        openapi_url=None,  # served below, behind the token
    )
    app.state.settings, app.state.store, app.state.predictor = settings, store, predictor
    auth = [Depends(_token_check(settings.token))]
    _register_error_handlers(app)

    # ------------------------------------------------------------------ public
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return _static("index.html")

    @app.get("/api/docs", include_in_schema=False)
    def docs_page() -> Response:
        return _static("docs.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        return _static(name)

    # ------------------------------------------------------------------ protected
    @app.get("/openapi.json", include_in_schema=False, dependencies=auth)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/model", dependencies=auth, summary="The model: outputs, units, bands and limits")
    def model() -> dict[str, Any]:
        return {
            "bundles": [b.name for b in predictor.bundles],
            "simulated": predictor.simulated,
            "targets": target_table(predictor),
            "limits": {
                "max_upload_bytes": settings.max_upload_bytes,
                "max_cycles": settings.max_cycles,
                "retention_s": settings.retention_s,
            },
        }

    register_analysis_routes(app, auth=auth, limiter=limiter)
    return app


def _token_check(token: str):
    """The dependency of every protected route: the request's bearer token must be ``token``."""

    def require_token(request: Request) -> None:
        given = presented_token(request.headers)
        if given is None:
            raise _http_error(
                401, "missing access token.", "send the header 'Authorization: Bearer <token>'."
            )
        if not token_matches(given, token):
            raise _http_error(
                401, "wrong access token.", "use the token printed when the server first started."
            )

    return require_token


def _register_error_handlers(app: FastAPI) -> None:
    """Security headers on every answer, and one JSON error body for every error."""

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, dict) else {"problem": str(exc.detail)}
        body = error_body(exc.status_code, detail.get("problem", ""), fix=detail.get("fix"))
        extra = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(body, status_code=exc.status_code, headers=extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        column = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return JSONResponse(error_body(422, first.get("msg", "invalid request."), column=column), 422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.error("internal error %s on %s", type(exc).__name__, request.url.path)  # no request data
        return JSONResponse(
            error_body(500, "internal error while analysing; nothing was kept.", fix="report it to IT."), 500
        )

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, exc: UploadError):
        log.info("upload rejected: %d", exc.status)  # never the file name or values: patient data
        body = error_body(exc.status, exc.problem, file=exc.file, column=exc.column, fix=exc.fix)
        return JSONResponse(body, status_code=exc.status)


def _static(name: str) -> Response:
    if name not in _STATIC:
        raise _http_error(404, "not found.")
    data = resources.files("gait2hip.serve").joinpath("static", name).read_bytes()
    return Response(data, media_type=_STATIC[name])


_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "mass_kg"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "OpenSim IK .mot/.sto, CSV (time + 10 angles) or C3D with "
                            "Plug-in Gait angles",
                        },
                        "mass_kg": {"type": "number", "description": "body mass, kg"},
                        "height_m": {"type": "number", "description": "standing height, m (optional)"},
                        "side": {"type": "string", "enum": ["both", "right", "left"], "default": "both"},
                        "cycle_start": {"type": "number", "description": "cycle window start, s (optional)"},
                        "cycle_end": {"type": "number", "description": "cycle window end, s (optional)"},
                    },
                }
            }
        },
    }
}


def _number_field(form: Any, name: str, *, required: bool, filename: str) -> float | None:
    raw = form.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise UploadError(f"no {name} given.", column=name, fix=f"give {name} (a number).")
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise UploadError(f"{name} '{str(raw)[:20]}' is not a number.", column=name) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UploadError(f"{name} is not a finite number.", column=name)
    return value


async def _read_form(request: Request, settings: ServeSettings) -> Any:
    """The multipart form, read in memory and within the size limit (413 beyond it)."""
    limit = settings.max_upload_bytes + FORM_OVERHEAD_BYTES
    too_big = _http_error(
        413,
        f"the upload is larger than this server accepts ({settings.max_upload_bytes / 1e6:.0f} MB).",
        "upload one trial's kinematics (an IK .mot of a walk is typically well under 1 MB).",
    )
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _http_error(400, "invalid Content-Length header.")
        if int(length) > limit:
            raise too_big  # refused before a byte of the body is read
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise _http_error(
            415, "the upload must be multipart/form-data.", "send the fields file, mass_kg (height_m, side…)."
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big

    async def once():
        yield bytes(body)

    parser = _InMemoryParser(
        request.headers, once(), max_files=1, max_fields=10, max_part_size=64 * 1024, spool=limit
    )
    try:
        return await parser.parse()
    except (MultiPartException, KeyError, ValueError) as exc:
        raise _http_error(
            400, f"malformed multipart form ({exc}).", "send the form as a browser does."
        ) from None


async def _upload(request: Request, settings: ServeSettings) -> tuple[bytes, dict[str, Any]]:
    """The uploaded file's bytes and the :func:`analyse` options of a POST /api/analyses form."""
    form = await _read_form(request, settings)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise UploadError("no file in the upload.", column="file", fix="attach the trial as 'file'.")
    data = await upload.read()
    filename = safe_filename(upload.filename)
    if len(data) > settings.max_upload_bytes:
        raise UploadError("the file is too large.", file=filename, status=413)
    mass = _number_field(form, "mass_kg", required=True, filename=filename)
    height = _number_field(form, "height_m", required=False, filename=filename)
    start = _number_field(form, "cycle_start", required=False, filename=filename)
    end = _number_field(form, "cycle_end", required=False, filename=filename)
    if (start is None) != (end is None):
        raise UploadError(
            "give both cycle_start and cycle_end, or neither.", column="cycle_start", fix="fill both."
        )
    side = str(form.get("side") or "both").strip().lower()
    cycle = None if start is None else (start, end)
    return data, {"filename": filename, "mass_kg": mass, "height_m": height, "side": side, "cycle": cycle}


def _links(analysis_id: str) -> dict[str, str]:
    """The URLs of an analysis and of its downloads."""
    return {
        "self": f"/api/analyses/{analysis_id}",
        **{
            _LINK_NAMES[name]: f"/api/analyses/{analysis_id}/{name}"
            for name in _DOWNLOADS
            if name != "report.pdf" or pdf_available()
        },
    }


def register_analysis_routes(app: FastAPI, *, auth: list, limiter: anyio.CapacityLimiter) -> None:
    """POST /api/analyses and the GET routes of a stored analysis."""
    settings: ServeSettings = app.state.settings
    store = app.state.store
    predictor: Predictor = app.state.predictor

    @app.post(
        "/api/analyses",
        dependencies=auth,
        status_code=201,
        summary="Upload a walking trial; get per-cycle hip forces and moments",
        openapi_extra=_FORM_SCHEMA,
    )
    async def create_analysis(request: Request) -> JSONResponse:
        data, options = await _upload(request, settings)
        began = time.perf_counter()

        def work():
            return analyse(predictor, data, max_cycles=settings.max_cycles, **options)

        analysis = await anyio.to_thread.run_sync(work, limiter=limiter)
        analysis_id = new_id()
        answer = {"id": analysis_id, "links": _links(analysis_id), **analysis.result}
        blobs = dict(analysis.blobs, **{"result.json": json.dumps(answer).encode("utf-8")})
        store.put(analysis_id, blobs, upload=data if isinstance(store, DirectoryStore) else None)
        log.info(
            "analysis %s: %d cycle(s) in %.0f ms",
            analysis_id,
            len(answer["cycles"]),
            1e3 * (time.perf_counter() - began),
        )
        return JSONResponse(answer, status_code=201)

    def _blob(analysis_id: str, name: str) -> bytes:
        data = store.get(analysis_id, name) if valid_id(analysis_id) else None
        if data is None:
            raise _http_error(
                404,
                "no such analysis (unknown id, or older than the retention time).",
                "upload the trial again.",
            )
        return data

    @app.get("/api/analyses/{analysis_id}", dependencies=auth, summary="An analysis again (JSON)")
    def get_analysis(analysis_id: str) -> Response:
        return Response(_blob(analysis_id, "result.json"), media_type="application/json")

    @app.get(
        "/api/analyses/{analysis_id}/{name}",
        dependencies=auth,
        summary="Download: report.html, report.pdf (with WeasyPrint), curves.csv or cycles.zip",
    )
    def download(analysis_id: str, name: str) -> Response:
        if name not in _DOWNLOADS:
            raise _http_error(404, f"no download '{name[:40]}'.", f"use one of {', '.join(_DOWNLOADS)}.")
        if name == "report.pdf" and not pdf_available():
            raise _http_error(
                501,
                "this server makes no PDF files (WeasyPrint is not installed).",
                "print report.html to PDF from the browser, or pip install 'gait2hip[pdf]' on the server.",
            )
        data = _blob(analysis_id, name)
        headers = {"Content-Disposition": f'attachment; filename="gait2hip-{analysis_id[:8]}-{name}"'}
        if name == "report.html":
            headers = {"Content-Security-Policy": _REPORT_CSP, "Content-Disposition": "inline"}
        return Response(data, media_type=_DOWNLOADS[name], headers=headers)


def warm_up(predictor: Predictor) -> None:
    """One prediction on a synthetic cycle, so the first patient does not wait for lazy imports."""
    import numpy as np
    import pandas as pd
    import scipy.signal  # noqa: F401 (heel-strike detection imports it on first use)

    from gait2hip.data.columns import INPUT_ANGLES

    time = np.linspace(0.0, 1.2, 121)
    wave = np.sin(2 * np.pi * time / 1.2)
    table = pd.DataFrame(
        {c: 10 * wave + (30 if c.startswith("knee") else 0) for c in INPUT_ANGLES},
        index=pd.Index(time, name="time"),
    )
    predictor.predict_trial(table, mass_kg=70.0, cycles=[(0.0, 1.2)])
