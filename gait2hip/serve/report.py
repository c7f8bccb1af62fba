"""The one-page patient report: HTML with inline SVG figures, printable to PDF from any browser
(and as a PDF file with WeasyPrint when the optional extra ``gait2hip[pdf]`` is installed).

Self-contained (no scripts, no external fonts or images) so that it can be saved, archived and
printed as is. Built from the analysis's JSON answer only (:func:`gait2hip.serve.analysis.analyse`).
"""

from __future__ import annotations

import datetime as dt
import functools
from html import escape
from typing import Any

import numpy as np

RIGHT_COLOUR = "#c0392b"
LEFT_COLOUR = "#1f5fa8"
BAND_COLOUR = "#d9d9d9"


def _path(xs: list[float], ys: list[float | None], sx, sy) -> str:
    parts, pen = [], "M"
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            pen = "M"
            continue
        parts.append(f"{pen}{sx(x):.1f},{sy(y):.1f}")
        pen = "L"
    return "".join(parts)


def chart_svg(
    target: dict[str, Any], cycles: list[dict[str, Any]], percent: list[float], *, width=138, height=92
) -> str:
    """One output's per-kg curves (right red, left blue) over the training band (grey), as SVG."""
    key, band = target["key"], target["normative"]
    series = [(c["side"], c["curves"][key]["per_kg"]) for c in cycles]
    values = [v for _, ys in series for v in ys if v is not None]
    if band:
        mean, sd = np.array(band["mean"], dtype=float), np.array(band["sd"], dtype=float)
        values += list(mean - sd) + list(mean + sd)
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:
        hi = lo + 1.0
    left, right, top, bottom = 27, 3, 12, 14
    sx = lambda x: left + (width - left - right) * x / 100.0  # noqa: E731
    sy = lambda y: top + (height - top - bottom) * (hi - y) / (hi - lo)  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(target["label"])}">',
        f'<text x="{width / 2:.0f}" y="9" font-size="8" text-anchor="middle" font-weight="bold">'
        f"{escape(target['label'])}</text>",
    ]
    if band:
        grid = band["percent"]
        upper = [(sx(x), sy(m + s)) for x, m, s in zip(grid, mean, sd, strict=True)]
        lower = [(sx(x), sy(m - s)) for x, m, s in zip(grid, mean, sd, strict=True)][::-1]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower)
        out.append(f'<polygon points="{points}" fill="{BAND_COLOUR}" stroke="none"/>')
        out.append(
            f'<path d="{_path(grid, list(mean), sx, sy)}" fill="none" stroke="#999" stroke-width="0.8"/>'
        )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#bbb" '
        'stroke-width="0.5"/>'
    )
    for side, ys in series:
        colour = RIGHT_COLOUR if side == "right" else LEFT_COLOUR
        out.append(
            f'<path d="{_path(percent, ys, sx, sy)}" fill="none" stroke="{colour}" stroke-width="1.2"/>'
        )
    axis = (
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
        'fill="none" stroke="#666" stroke-width="0.6"/>'
        f'<text x="{left - 2}" y="{top + 7}" font-size="6.5" text-anchor="end">{hi:.3g}</text>'
        f'<text x="{left - 2}" y="{height - bottom}" font-size="6.5" text-anchor="end">{lo:.3g}</text>'
        f'<text x="{left - 2}" y="{height - 3}" font-size="6.5" text-anchor="end">'
        f"{escape(target['unit_per_kg'])}</text>"
        f'<text x="{left}" y="{height - 5}" font-size="6.5">0</text>'
        f'<text x="{width - right}" y="{height - 5}" font-size="6.5" text-anchor="end">100 % cycle</text>'
    )
    out.append(axis)
    out.append("</svg>")
    return "".join(out)


def _side_means(cycles: list[dict[str, Any]], side: str, field: str) -> str:
    values = [c["timing"][field] for c in cycles if c["side"] == side and c["timing"][field] is not None]
    return f"{np.mean(values):.1f}" if values else "–"


_STYLE = """
@page { size: A4; margin: 12mm; }
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 10px; color: #222;
       max-width: 190mm; margin: 0 auto; }
h1 { font-size: 15px; margin: 0 0 4px; } h2 { font-size: 11px; margin: 6px 0 3px; }
table { border-collapse: collapse; }
td, th { padding: 0 6px; border-bottom: 1px solid #ddd; text-align: left; font-size: 9px; }
.cols { display: flex; gap: 18px; align-items: flex-start; }
.warn { border: 2px solid #b9770e; background: #fdf2e0; padding: 4px 8px; margin: 4px 0; }
.ok { border: 1px solid #1e8449; background: #eafaf1; padding: 4px 8px; margin: 4px 0; }
.sim, .warn, .ok { break-inside: avoid; }
.sim { color: #7b241c; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 2px; }
.legend span { display: inline-block; width: 14px; height: 3px;
                vertical-align: middle; margin: 0 3px 0 10px; }
.small { color: #555; font-size: 8px; margin: 2px 0; }
@media print { .noprint { display: none; } }
"""


def render_report(result: dict[str, Any], *, created: dt.datetime | None = None) -> str:
    """The report of one analysis as a complete HTML document."""
    created = created or dt.datetime.now(dt.UTC)
    cycles, targets = result["cycles"], result["targets"]
    ood = result["ood_summary"]
    rows = [
        ("File", escape(result["file"])),
        ("Body mass", f"{result['mass_kg']:g} kg"),
        ("Height", f"{result['height_m']:g} m" if result.get("height_m") else "–"),
        ("Strides analysed", f"{len(cycles)} ({', '.join(sorted({c['side'] for c in cycles}))})"),
        ("Model", escape(", ".join(result["model"]["bundles"]))),
        ("Report made", created.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    info = "".join(
        f"<tr><th>{a}</th><td>{x}</td><th>{b}</th><td>{y}</td></tr>"
        for (a, x), (b, y) in zip(rows[:3], rows[3:], strict=True)
    )
    verdict_class = "warn" if ood["flag"] else "ok"
    heading = "Caution" if ood["flag"] else "In range"
    verdict = f'<div class="{verdict_class}"><b>{heading}:</b> {escape(ood["message"])}</div>'
    timing = "".join(
        f"<tr><td>{side}</td><td>{sum(c['side'] == side for c in cycles)}</td>"
        f"<td>{_side_means(cycles, side, 'stance_percent')}</td>"
        f"<td>{_side_means(cycles, side, 'swing_percent')}</td>"
        f"<td>{np.mean([c['stride_s'] for c in cycles if c['side'] == side]):.2f}</td></tr>"
        for side in ("right", "left")
        if any(c["side"] == side for c in cycles)
    )
    sym = result["symmetry"]
    if sym["available"]:
        sym_rows = "".join(
            f"<tr><td>{escape(v['label'])}</td><td>{v['right_peak']:.2f}</td><td>{v['left_peak']:.2f}</td>"
            f"<td>{v['si_percent']:+.1f}</td></tr>"
            for v in sym["indices"].values()
            if v["si_percent"] is not None
        )
        symmetry = (
            "<table><tr><th>Output</th><th>Right peak</th><th>Left peak</th><th>SI %</th></tr>"
            f"{sym_rows}</table><p class='small'>{escape(sym['method'])} "
            "Peaks in N/kg, Nm/kg or, for the contact force, % body weight.</p>"
        )
    else:
        symmetry = f"<p>Not available: {escape(sym['reason'])}</p>"
    charts = "".join(chart_svg(t, cycles, result["percent"]) for t in targets)
    notes = "".join(f"<li>{escape(n)}</li>" for n in result.get("notes", []))
    simulated = (
        f'<p class="sim">{escape(result["model"]["note"])}</p>' if result["model"]["simulated"] else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hip loading report – {escape(result["file"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Hip muscle forces and hip moments during walking</h1>
<table>{info}</table>
{verdict}
{simulated}
<h2>Curves per kg body mass over the gait cycle</h2>
<p class="legend small"><span style="background:{RIGHT_COLOUR}"></span>right hip
<span style="background:{LEFT_COLOUR}"></span>left hip
<span style="background:{BAND_COLOUR};height:8px"></span>training cohort mean ± 1 SD</p>
<div class="charts">{charts}</div>
<div class="cols"><div>
<h2>Stance and swing (mean per side)</h2>
<table><tr><th>Side</th><th>Strides</th><th>Stance %</th><th>Swing %</th><th>Stride (s)</th></tr>
{timing}</table>
<p class="small">Toe-off: {escape(cycles[0]["timing"]["toe_off_method"]) if cycles else "–"}.</p>
</div><div>
<h2>Left / right symmetry of peak values</h2>
{symmetry}
</div></div>
{f"<h2>Notes</h2><ul class='small'>{notes}</ul>" if notes else ""}
<p class="small">Out-of-distribution check: {escape(ood["method"])} Generated by gait2hip on this computer;
no data left it.</p>
</body></html>
"""


@functools.cache
def pdf_available() -> bool:
    """True when WeasyPrint (the optional extra ``gait2hip[pdf]``) and its system libraries load."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def report_pdf(html: str) -> bytes:
    """The report as a PDF (WeasyPrint). Nothing outside the document may be fetched (only ``data:``)."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
