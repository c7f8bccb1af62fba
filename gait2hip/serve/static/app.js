// gait2hip clinic page: upload a trial, draw the curves, fetch the downloads. No external resources.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = { right: "#c0392b", left: "#1f5fa8" };
let current = null; // the last analysis (JSON)

function $(id) { return document.getElementById(id); }

function token() { return $("token").value.trim(); }

function authHeaders() { return { Authorization: "Bearer " + token() }; }

function showError(body, fallback) {
  const box = $("error");
  box.replaceChildren();
  const err = (body && body.error) || { problem: fallback };
  const head = document.createElement("b");
  head.textContent = "Could not analyse: ";
  box.append(head, document.createTextNode(err.problem || fallback));
  const details = [];
  if (err.file) details.push("File: " + err.file);
  if (err.column) details.push("Column: " + err.column);
  if (err.fix) details.push("What to do: " + err.fix);
  for (const line of details) {
    const p = document.createElement("div");
    p.textContent = line;
    box.append(p);
  }
  box.hidden = false;
}

async function analyse(event) {
  event.preventDefault();
  $("error").hidden = true;
  sessionStorage.setItem("gait2hip-token", token());
  const form = new FormData();
  const file = $("file").files[0];
  if (!file) { showError(null, "choose a file."); return; }
  form.append("file", file, file.name);
  form.append("mass_kg", $("mass").value);
  if ($("height").value) form.append("height_m", $("height").value);
  form.append("side", $("side").value);
  if ($("cycle-start").value || $("cycle-end").value) {
    form.append("cycle_start", $("cycle-start").value);
    form.append("cycle_end", $("cycle-end").value);
  }
  $("status").textContent = "Analysing…";
  $("analyse").disabled = true;
  try {
    const response = await fetch("/api/analyses", { method: "POST", body: form, headers: authHeaders() });
    const body = await response.json().catch(() => null);
    if (!response.ok) { showError(body, "the server answered " + response.status + "."); return; }
    current = body;
    render();
    $("status").textContent = "Done: " + body.cycles.length + " stride(s).";
  } catch (error) {
    showError(null, "the server could not be reached (" + error + ").");
  } finally {
    $("analyse").disabled = false;
    if (!$("error").hidden) $("status").textContent = "";
  }
}

function unitMode() { return document.querySelector('input[name="unit"]:checked').value; }

function chart(target, cycles, percent, mode, mass) {
  const width = 300, height = 190, left = 44, right = 8, top = 20, bottom = 26;
  // the band is per kg (contact force: %BW); display_to_raw turns it into N or Nm per kg of mass
  const scale = mode === "per_kg" ? 1 : mass * (target.display_to_raw ?? 1);
  const band = target.normative;
  const values = [];
  for (const c of cycles) for (const v of c.curves[target.key][mode]) if (v !== null) values.push(v);
  let bandRows = [];
  if (band) {
    bandRows = band.percent.map((x, i) => [x, band.mean[i] * scale, band.sd[i] * scale]);
    for (const [, m, s] of bandRows) values.push(m - s, m + s);
  }
  let lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  if (hi - lo < 1e-9) hi = lo + 1;
  const sx = (x) => left + (width - left - right) * x / 100;
  const sy = (y) => top + (height - top - bottom) * (hi - y) / (hi - lo);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("data-target", target.key);
  const add = (name, attrs, text) => {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  add("text", { x: width / 2, y: 13, "font-size": 12, "text-anchor": "middle", "font-weight": "bold" }, target.label);
  if (band) {
    const upper = bandRows.map(([x, m, s]) => `${sx(x).toFixed(1)},${sy(m + s).toFixed(1)}`);
    const lower = bandRows.map(([x, m, s]) => `${sx(x).toFixed(1)},${sy(m - s).toFixed(1)}`).reverse();
    add("polygon", { points: upper.concat(lower).join(" "), fill: "#d9d9d9", stroke: "none" });
    add("path", { d: line(bandRows.map(([x, m]) => [x, m]), sx, sy), fill: "none", stroke: "#999", "stroke-width": 1 });
  }
  add("line", { x1: left, x2: width - right, y1: sy(0), y2: sy(0), stroke: "#bbb", "stroke-width": 0.6 });
  for (const c of cycles) {
    const points = percent.map((x, i) => [x, c.curves[target.key][mode][i]]);
    add("path", { d: line(points, sx, sy), fill: "none", stroke: COLOURS[c.side], "stroke-width": 1.6,
      class: "curve " + c.side });
  }
  add("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, fill: "none",
    stroke: "#666", "stroke-width": 0.7 });
  add("text", { x: left - 3, y: top + 9, "font-size": 10, "text-anchor": "end" }, hi.toPrecision(3));
  add("text", { x: left - 3, y: height - bottom, "font-size": 10, "text-anchor": "end" }, lo.toPrecision(3));
  const unit = mode === "per_kg" ? target.unit_per_kg : target.unit;
  add("text", { x: 4, y: (top + height - bottom) / 2, "font-size": 10 }, unit);
  add("text", { x: left, y: height - 8, "font-size": 10 }, "0");
  add("text", { x: width - right, y: height - 8, "font-size": 10, "text-anchor": "end" }, "100 % gait cycle");
  return svg;
}

function line(points, sx, sy) {
  let d = "", pen = "M";
  for (const [x, y] of points) {
    if (y === null || y === undefined) { pen = "M"; continue; }
    d += `${pen}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
    pen = "L";
  }
  return d;
}

function row(table, cells, header) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement(header ? "th" : "td");
    td.textContent = cell === null || cell === undefined ? "–" : String(cell);
    tr.append(td);
  }
  table.append(tr);
}

function render() {
  const r = current;
  $("results").hidden = false;
  $("result-title").textContent = `${r.file} · ${r.mass_kg} kg · ${r.cycles.length} stride(s)`;
  const verdict = $("verdict");
  verdict.className = r.ood_summary.flag ? "warn" : "ok";
  verdict.replaceChildren();
  const head = document.createElement("b");
  head.textContent = r.ood_summary.flag ? "Caution: " : "In range: ";
  verdict.append(head, document.createTextNode(r.ood_summary.message));
  $("simulated").textContent = r.model.simulated ? r.model.note : "";
  $("notes").replaceChildren(...r.notes.map((n) => { const li = document.createElement("li"); li.textContent = n; return li; }));
  $("download-pdf").hidden = !r.links.report_pdf;
  const charts = $("charts");
  const drawn = r.cycles.filter((c) => c.ood.level !== "unreliable");
  charts.replaceChildren(...r.targets.map((t) => chart(t, drawn, r.percent, unitMode(), r.mass_kg)));
  const cycles = $("cycles-table");
  cycles.replaceChildren();
  row(cycles, ["#", "side", "start (s)", "stride (s)", "stance %", "swing %", "walking pattern"], true);
  for (const c of r.cycles) {
    row(cycles, [c.cycle, c.side, c.start_s, c.stride_s, c.timing.stance_percent, c.timing.swing_percent,
      c.ood.level_words ?? (c.ood.flag ? "outside training range" : "within training range")]);
  }
  const sym = $("symmetry-table");
  sym.replaceChildren();
  if (r.symmetry.available) {
    row(sym, ["output", "right peak", "left peak", "SI %"], true);
    for (const v of Object.values(r.symmetry.indices)) {
      row(sym, [v.label + " (" + v.unit + ")", v.right_peak, v.left_peak, v.si_percent]);
    }
    $("symmetry-note").textContent = r.symmetry.method;
  } else {
    $("symmetry-note").textContent = "Not available: " + r.symmetry.reason;
  }
}

async function fetchBlob(name) {
  const links = { "report.html": "report", "report.pdf": "report_pdf", "curves.csv": "curves", "cycles.zip": "cycles" };
  const response = await fetch(current.links[links[name]], { headers: authHeaders() });
  if (!response.ok) { showError(await response.json().catch(() => null), "download failed."); return null; }
  return response.blob();
}

async function download(name) {
  const blob = await fetchBlob(name);
  if (!blob) return;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "gait2hip-" + current.file.replace(/\.[^.]*$/, "") + "-" + name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function showReport() {
  const blob = await fetchBlob("report.html");
  if (!blob) return;
  const frame = $("report-frame");
  frame.src = URL.createObjectURL(blob);
  frame.hidden = false;
  frame.scrollIntoView();
}

document.addEventListener("DOMContentLoaded", () => {
  $("token").value = sessionStorage.getItem("gait2hip-token") || "";
  $("upload-form").addEventListener("submit", analyse);
  for (const radio of document.querySelectorAll('input[name="unit"]')) radio.addEventListener("change", () => current && render());
  $("show-report").addEventListener("click", showReport);
  $("download-report").addEventListener("click", () => download("report.html"));
  $("download-pdf").addEventListener("click", () => download("report.pdf"));
  $("download-csv").addEventListener("click", () => download("curves.csv"));
  $("download-zip").addEventListener("click", () => download("cycles.zip"));
});
