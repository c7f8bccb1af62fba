"""The clinic service's HTTP API (gait2hip.serve.app) through FastAPI's TestClient.

The real gait2392 example trial goes through the whole service; every kind of bad upload gets
the right status and a message naming the file, the column and the fix, and the server keeps
answering afterwards.
"""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="the clinic service needs the extra: pip install 'gait2hip[serve]'")
pytest.importorskip("httpx", reason="the API tests need httpx (the dev extra)")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

from gait2hip.data.angles import read_angles
from gait2hip.io.opensim import read_storage
from gait2hip.predict import Predictor
from gait2hip.serve.app import ServeSettings, create_app

TOKEN = "test-token-0123456789abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MASS = 72.6


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_bundle("default")


@pytest.fixture(scope="module")
def client(predictor: Predictor) -> TestClient:
    app = create_app(
        ServeSettings(token=TOKEN, max_upload_bytes=2_000_000, max_cycles=10), predictor=predictor
    )
    return TestClient(app)


@pytest.fixture(scope="module")
def ik_path(examples: Path) -> Path:
    return examples / "gait2392-subject01" / "subject01_walk1_ik.mot"


@pytest.fixture(scope="module")
def analysis(client: TestClient, ik_path: Path) -> dict:
    response = client.post(
        "/api/analyses",
        headers=AUTH,
        files={"file": (ik_path.name, ik_path.read_bytes())},
        data={"mass_kg": MASS},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _upload(client: TestClient, name: str, data: bytes, **fields) -> tuple[int, dict]:
    form = {"mass_kg": str(MASS), **{k: str(v) for k, v in fields.items()}}
    response = client.post("/api/analyses", headers=AUTH, files={"file": (name, data)}, data=form)
    return response.status_code, response.json()


def _mot_with(ik_path: Path, change) -> bytes:
    """The gait2392 IK file with its table changed by ``change(header_lines, table)``."""
    lines = ik_path.read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
    header = lines[: end + 1]
    table = pd.read_csv(io.StringIO("\n".join(lines[end + 1 :])), sep=r"\s+")
    header, table = change(header, table)
    return ("\n".join(header) + "\n" + table.to_csv(sep="\t", index=False)).encode()


# ------------------------------------------------------------------ access
def test_health_needs_no_token_and_says_nothing_more(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "path", ["/api/model", "/openapi.json", "/api/analyses/AAAAAAAAAAAAAAAAAAAAAA/report.html"]
)
def test_every_data_endpoint_needs_the_token(client: TestClient, path: str) -> None:
    missing = client.get(path)
    assert missing.status_code == 401 and "missing access token" in missing.json()["error"]["problem"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.get(path, headers={"Authorization": "Bearer " + TOKEN[:-1] + "X"})
    assert wrong.status_code == 401 and "wrong access token" in wrong.json()["error"]["problem"]
    prefix = client.get(path, headers={"Authorization": "Bearer " + TOKEN[:10]})
    assert prefix.status_code == 401


def test_upload_without_token_is_refused_before_analysis(client: TestClient, ik_path: Path) -> None:
    response = client.post(
        "/api/analyses", files={"file": ("a.mot", ik_path.read_bytes())}, data={"mass_kg": "70"}
    )
    assert response.status_code == 401
    alternative = client.post(
        "/api/analyses",
        headers={"X-Gait2hip-Token": TOKEN},
        files={"file": ("a.mot", ik_path.read_bytes())},
        data={"mass_kg": "70"},
    )
    assert alternative.status_code == 201


def test_page_and_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    external = re.compile(
        r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(\s*["']https?:"""
    )
    for path in ("/", "/api/docs", "/static/app.js", "/static/docs.js", "/static/style.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not external.search(response.text), path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404
    schema = client.get("/openapi.json", headers=AUTH).json()
    assert "/api/analyses" in schema["paths"]
    form = schema["paths"]["/api/analyses"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert form["schema"]["required"] == ["file", "mass_kg"]


# ------------------------------------------------------------------ a real trial
def test_upload_gives_the_predictors_numbers(analysis: dict, predictor: Predictor, ik_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = predictor.predict_trial(read_angles(ik_path), mass_kg=MASS, side="both")
    assert [(c["side"], c["start_s"]) for c in analysis["cycles"]] == [
        (r.side, round(r.start_s, 4)) for r in expected.cycles.itertuples()
    ]
    assert {c["side"] for c in analysis["cycles"]} == {"right", "left"}
    for record, (_, row) in zip(analysis["cycles"], expected.cycles.iterrows(), strict=True):
        curves = expected.cycle(int(row["cycle"]))
        side = record["side"]
        for target in analysis["targets"]:
            column = target["columns"][side]
            pct_bw = 100 / 9.81 if target["kind"] == "contact" else 1.0  # contact shown in % body weight
            if side == "left" and target["kind"] == "contact" and target["key"].endswith("_z"):
                pct_bw = -pct_bw  # shown in the right hip's lateral sense; the files keep OpenSim's
            sign = np.sign(pct_bw)
            np.testing.assert_allclose(
                record["curves"][target["key"]]["value"], curves[column] * sign, atol=2e-3
            )
            np.testing.assert_allclose(
                record["curves"][target["key"]]["per_kg"], curves[column + "_per_kg"] * pct_bw, atol=1e-3
            )
        assert record["ood"]["flag"] == bool(row["ood"])
        assert record["ood"]["distance"] == pytest.approx(row["ood_distance"], abs=1e-3)
        # the band is the Predictor's, per kg; an out-of-distribution stride's band is widened
        band = record["uncertainty"]
        for target in analysis["targets"]:
            column = target["columns"][side] + "_per_kg"
            pct_bw = 100 / 9.81 if target["kind"] == "contact" else 1.0
            lo, hi = curves[column + "_lo"] * pct_bw, curves[column + "_hi"] * pct_bw
            if side == "left" and target["kind"] == "contact" and target["key"].endswith("_z"):
                lo, hi = -hi, -lo
            np.testing.assert_allclose(band["lower"][target["key"]], lo, atol=1e-3)
            np.testing.assert_allclose(band["upper"][target["key"]], hi, atol=1e-3)
        assert (band["widened_by"] > 1.0) == (row["ood_distance"] > row["ood_threshold"])
    assert analysis["uncertainty"]["available"] is True
    assert analysis["uncertainty"]["calibration"]["transformer-joint-default"]["data"].startswith(
        "fukuchi2018 held-out"
    )
    # the knee-sign flip is reported, under the client's file name only
    assert any("knee flexion is negative" in n and n.startswith(ik_path.name) for n in analysis["notes"])


def test_units_band_and_words(analysis: dict, predictor: Predictor) -> None:
    units = {t["key"]: (t["unit"], t["unit_per_kg"]) for t in analysis["targets"]}
    assert units["glmed"] == ("N", "N/kg") and units["hip_flexion_moment"] == ("Nm", "Nm/kg")
    assert len(analysis["targets"]) == sum(len(b.target_columns) for b in predictor.bundles)
    band = next(t for t in analysis["targets"] if t["key"] == "glmed")["normative"]
    forces = next(b for b in predictor.bundles if "glmed_r" in b.target_columns)
    j = forces.target_columns.index("glmed_r")
    np.testing.assert_allclose(band["mean"], forces.reference["target_mean_curve"][:, j], atol=1e-4)
    np.testing.assert_allclose(band["sd"], forces.reference["target_sd_curve"][:, j], atol=1e-4)
    flagged = [c for c in analysis["cycles"] if c["ood"]["flag"]]
    if flagged:
        assert "unlike the walking the model learned from" in flagged[0]["ood"]["message"]
        assert analysis["ood_summary"]["flag"]
    assert analysis["model"]["simulated"] and "SIMULATED" in analysis["model"]["note"]
    # the joint default's moments also learned from real walking: the note says which data
    assert "REAL" in analysis["model"]["note"] and "fukuchi2018" in analysis["model"]["note"]


def test_contact_force_is_labelled_in_percent_body_weight(analysis: dict, predictor: Predictor) -> None:
    contact = {t["key"]: t for t in analysis["targets"] if t["kind"] == "contact"}
    if not contact:
        pytest.skip("the installed default bundle predicts no contact force")
    magnitude = next(t for t in contact.values() if t["label"] == "Contact force |F|")
    assert magnitude["unit"] == "N" and magnitude["unit_per_kg"] == "%BW"
    bundle = next(b for b in predictor.bundles if magnitude["columns"]["right"] in b.target_columns)
    j = bundle.target_columns.index(magnitude["columns"]["right"])
    mean_n_per_kg = bundle.reference["target_mean_curve"][:, j]
    # the normative band in %BW: a healthy stance peak of a few hundred % body weight
    np.testing.assert_allclose(magnitude["normative"]["mean"], mean_n_per_kg * 100 / 9.81, rtol=1e-3)
    assert 150 < max(magnitude["normative"]["mean"]) < 900
    for cycle in analysis["cycles"]:
        peak = cycle["peaks"][magnitude["key"]]
        assert peak["per_kg"] == pytest.approx(peak["value"] / MASS * 100 / 9.81, rel=1e-3)
    # both hips' medio-lateral component on the page in one (lateral) sense, as the band
    z = next(t for t in contact.values() if t["label"] == "Contact z, femur (+ lateral)")
    for cycle in analysis["cycles"]:
        assert np.mean(cycle["curves"][z["key"]]["per_kg"]) > 0, cycle["side"]


def test_ood_levels_in_words(analysis: dict) -> None:
    levels = {c["ood"]["level"] for c in analysis["cycles"]}
    assert levels <= {"ok", "caution", "unreliable"}
    for cycle in analysis["cycles"]:
        assert cycle["ood"]["flag"] == (cycle["ood"]["level"] != "ok")
        assert cycle["ood"]["level_words"]
    method = analysis["ood_summary"]["method"]
    assert "99th percentile" in method and "±4 SD" in method
    assert "unreliable" in analysis["ood_summary"]["levels"]


def test_stance_matches_the_force_plates(analysis: dict, examples: Path) -> None:
    """Kinematic toe-off vs the trial's force plates: stance % within 5 points of the cycle.

    Measured on this trial: the kinematic toe-off comes ~40 ms (3.5 % of the cycle) before the
    plates' (the foot-position proxy ignores pelvis tilt and the toe); not corrected.
    """
    from gait2hip.data.cycles import contact_events

    grf = read_storage(examples / "gait2392-subject01" / "subject01_walk1_grf.mot").data
    columns = {"right": "ground_force_vy", "left": "1_ground_force_vy"}  # per subject01_walk1_grf.xml
    checked = 0
    for cycle in analysis["cycles"]:
        _, offs = contact_events(grf.index.to_numpy(), grf[columns[cycle["side"]]].to_numpy())
        inside = offs[(offs > cycle["start_s"]) & (offs < cycle["end_s"])]
        if not len(inside):
            continue  # the foot left the plates' area
        measured = 100 * (inside[0] - cycle["start_s"]) / cycle["stride_s"]
        assert cycle["timing"]["stance_percent"] == pytest.approx(measured, abs=5.0)
        assert cycle["timing"]["stance_percent"] + cycle["timing"]["swing_percent"] == pytest.approx(
            100, abs=0.2
        )
        checked += 1
    assert checked >= 2


def test_symmetry_indices(analysis: dict) -> None:
    sym = analysis["symmetry"]
    assert sym["available"]
    for key, v in sym["indices"].items():
        peaks = {
            s: np.mean([abs(c["peaks"][key]["per_kg"]) for c in analysis["cycles"] if c["side"] == s])
            for s in ("right", "left")
        }
        assert v["right_peak"] == pytest.approx(peaks["right"], abs=1e-3)
        assert v["si_percent"] == pytest.approx(
            100 * (peaks["right"] - peaks["left"]) / ((peaks["right"] + peaks["left"]) / 2), abs=0.06
        )


def test_one_side_has_no_symmetry(client: TestClient, ik_path: Path) -> None:
    status, body = _upload(client, ik_path.name, ik_path.read_bytes(), side="right")
    assert status == 201 and {c["side"] for c in body["cycles"]} == {"right"}
    assert not body["symmetry"]["available"] and "both" in body["symmetry"]["reason"]
    status, body = _upload(
        client, ik_path.name, ik_path.read_bytes(), side="left", cycle_start=1.3, cycle_end=2.4
    )
    assert status == 201 and len(body["cycles"]) == 1 and body["cycles"][0]["heel_strikes"] == "user window"


def test_downloads(client: TestClient, analysis: dict, ik_path: Path, tmp_path: Path) -> None:
    report = client.get(analysis["links"]["report"], headers=AUTH)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "<script" not in report.text.lower() and report.text.count("<svg") == len(analysis["targets"])
    assert ik_path.name in report.text and "72.6 kg" in report.text
    assert "default-src 'none'" in report.headers["content-security-policy"]
    csv = pd.read_csv(io.BytesIO(client.get(analysis["links"]["curves"], headers=AUTH).content))
    assert len(csv) == 101 * len(analysis["cycles"]) and "glmed_r [N]" in csv.columns
    assert "hip_flexion_l_moment_per_kg [Nm/kg]" in csv.columns
    archive = zipfile.ZipFile(io.BytesIO(client.get(analysis["links"]["cycles"], headers=AUTH).content))
    stos = [n for n in archive.namelist() if n.endswith(".sto")]
    assert len(stos) == len(analysis["cycles"]) and "cycles.csv" in archive.namelist()
    (tmp_path / stos[0]).write_bytes(archive.read(stos[0]))
    storage = read_storage(tmp_path / stos[0])
    assert len(storage.data) == 101
    again = client.get(analysis["links"]["self"], headers=AUTH).json()
    assert again["id"] == analysis["id"] and again["cycles"] == analysis["cycles"]
    assert client.get(f"/api/analyses/{analysis['id']}/secret.txt", headers=AUTH).status_code == 404
    assert client.get("/api/analyses/..%2F..%2Fetc/report.html", headers=AUTH).status_code == 404
    assert client.get("/api/analyses/" + "B" * 22 + "/report.html", headers=AUTH).status_code == 404


# ------------------------------------------------------------------ bad uploads
def _assert_error(status: int, body: dict, expected_status: int, *words: str) -> dict:
    assert status == expected_status, body
    error = body["error"]
    assert error["status"] == expected_status
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error


def test_garbage_bytes(client: TestClient) -> None:
    status, body = _upload(client, "walk.mot", bytes(range(256)) * 20)
    error = _assert_error(status, body, 422, "walk.mot", "endheader", "Fix:")
    assert error["file"] == "walk.mot" and error["fix"]
    status, body = _upload(client, "walk.csv", b"\x00\xff\xfe garbage \x01" * 50)
    _assert_error(status, body, 422, "walk.csv")
    status, body = _upload(client, "walk.c3d", b"\x00\xff\xfe garbage \x01" * 50)
    _assert_error(status, body, 422, "walk.c3d", "C3D")


def test_wrong_columns(client: TestClient) -> None:
    table = "time,hip_flex_r,hip_adduction_r\n0,1,2\n0.01,1,2\n"
    status, body = _upload(client, "trial.csv", table.encode())
    error = _assert_error(status, body, 422, "trial.csv")
    assert error["column"] and error["fix"]


def test_radians_declared_as_degrees(client: TestClient, ik_path: Path) -> None:
    def to_radians(header, table):
        angles = [c for c in table.columns if c != "time"]
        table[angles] = np.radians(table[angles])
        return header, table  # header still says inDegrees=yes

    status, body = _upload(client, "rad.mot", _mot_with(ik_path, to_radians))
    error = _assert_error(status, body, 422, "rad.mot", "radians")
    assert "inDegrees" in error["fix"]


def test_nan_values(client: TestClient, ik_path: Path) -> None:
    def hole(header, table):
        table.loc[50, "hip_flexion_r"] = np.nan
        return header, table

    status, body = _upload(client, "gap.mot", _mot_with(ik_path, hole))
    error = _assert_error(status, body, 422, "gap.mot", "NaN")
    assert error["column"] == "hip_flexion_r"


def test_bad_fields(client: TestClient, ik_path: Path) -> None:
    data = ik_path.read_bytes()
    response = client.post("/api/analyses", headers=AUTH, files={"file": ("a.mot", data)})
    _assert_error(response.status_code, response.json(), 422, "mass_kg")
    _assert_error(*_upload(client, "a.mot", data, mass_kg=7), 422, "outside")
    _assert_error(*_upload(client, "a.mot", data, mass_kg="heavy"), 422, "not a number")
    _assert_error(*_upload(client, "a.mot", data, side="middle"), 422, "unknown side")
    _assert_error(*_upload(client, "a.mot", data, height_m=175), 422, "height")
    _assert_error(*_upload(client, "a.mot", data, cycle_start=1.0), 422, "cycle_end")
    _assert_error(
        *_upload(client, "a.mot", data, cycle_start=9.0, cycle_end=10.0), 422, "not inside the trial"
    )
    _assert_error(*_upload(client, "notes.exe", data), 415, "unsupported file type")
    _assert_error(*_upload(client, "empty.mot", b""), 422, "empty")
    plain = client.post("/api/analyses", headers=AUTH, content=b"mass_kg=70", params={})
    _assert_error(plain.status_code, plain.json(), 415, "multipart")


def test_too_many_cycles(predictor: Predictor, ik_path: Path) -> None:
    strict = TestClient(create_app(ServeSettings(token=TOKEN, max_cycles=2), predictor=predictor))
    status, body = _upload(strict, ik_path.name, ik_path.read_bytes())
    _assert_error(status, body, 422, "4 gait cycles", "at most 2", "Fix:")
    assert _upload(strict, ik_path.name, ik_path.read_bytes(), side="right")[0] == 201


def test_file_too_large(client: TestClient) -> None:
    status, body = _upload(client, "big.mot", b"0" * 2_100_000)
    _assert_error(status, body, 413, "larger than this server accepts")


def test_huge_claimed_size_is_refused_before_reading(client: TestClient) -> None:
    """A 1 GB Content-Length is answered 413 without reading the body."""
    import anyio

    app = client.app
    sent: list[dict] = []
    consumed = 0

    async def receive():
        nonlocal consumed
        consumed += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/analyses",
        "raw_path": b"/api/analyses",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"content-type", b"multipart/form-data; boundary=xyz"),
            (b"content-length", str(2**30).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    assert start["status"] == 413 and "larger than" in body["error"]["problem"]
    assert consumed == 0


def test_path_traversal_names_are_only_displayed(client: TestClient, ik_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "pwned.mot"
    for name in (f"../../../../{target}", f"..\\..\\{target.name}", "/etc/passwd.mot", "....//x.mot"):
        status, body = _upload(client, name, ik_path.read_bytes(), side="right")
        assert status == 201
        assert "/" not in body["file"] and "\\" not in body["file"] and not body["file"].startswith(".")
    assert not target.exists()
    status, body = _upload(client, "../../secret/../walk.mot", b"junk")
    assert body["error"]["file"] == "walk.mot"


def test_server_keeps_serving_after_bad_uploads(client: TestClient, ik_path: Path) -> None:
    for name, data in (("a.mot", b"\x00" * 999), ("b.c3d", b"\x01P" + b"\x00" * 510), ("c.csv", b"time\n")):
        assert _upload(client, name, data)[0] in (415, 422)
    status, body = _upload(client, ik_path.name, ik_path.read_bytes())
    assert status == 201 and len(body["cycles"]) == 4


def test_logs_hold_no_patient_data(predictor: Predictor, ik_path: Path, caplog) -> None:
    app = create_app(ServeSettings(token=TOKEN), predictor=predictor)
    quiet = TestClient(app)
    with caplog.at_level(logging.DEBUG):
        _upload(quiet, "Jane_Doe_1957.mot", ik_path.read_bytes(), mass_kg=83.45, height_m=1.71)
        _upload(quiet, "Jane_Doe_1957.csv", b"garbage", mass_kg=83.45)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "analysis" in text  # something is logged…
    for secret in ("Jane", "Doe", "1957", "83.45", "1.71"):
        assert secret not in text  # …but not who or what


def test_data_dir_keeps_files_private_and_purges(predictor: Predictor, ik_path: Path, tmp_path: Path) -> None:
    import os
    import stat

    folder = tmp_path / "data"
    app = create_app(ServeSettings(token=TOKEN, data_dir=folder, retention_s=60.0), predictor=predictor)
    disk = TestClient(app)
    status, body = _upload(disk, ik_path.name, ik_path.read_bytes(), side="right")
    assert status == 201
    stored = folder / body["id"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(stored.stat().st_mode) == 0o700
    assert (stored / "upload.bin").read_bytes() == ik_path.read_bytes()
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in stored.iterdir())
    assert disk.get(body["links"]["report"], headers=AUTH).status_code == 200
    old = stored.stat().st_mtime - 3600
    os.utime(stored, (old, old))
    assert disk.get(body["links"]["report"], headers=AUTH).status_code == 404
    assert not stored.exists()


def test_report_as_pdf(client: TestClient, analysis: dict, monkeypatch) -> None:
    from gait2hip.serve import report

    if not report.pdf_available():
        pytest.skip("WeasyPrint is not installed (pip install 'gait2hip[pdf]')")
    response = client.get(analysis["links"]["report_pdf"], headers=AUTH)
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert response.headers["content-type"] == "application/pdf"
    import weasyprint

    html = client.get(analysis["links"]["report"], headers=AUTH).text
    assert len(weasyprint.HTML(string=html).render().pages) == 1  # the report fits one A4 page
    monkeypatch.setattr(report, "pdf_available", lambda: False)
    import gait2hip.serve.app as app_module

    monkeypatch.setattr(app_module, "pdf_available", lambda: False)
    missing = client.get(analysis["links"]["report_pdf"], headers=AUTH)
    assert missing.status_code == 501 and "print report.html" in missing.json()["error"]["fix"]
