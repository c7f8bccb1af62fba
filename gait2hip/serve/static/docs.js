// Renders the service's OpenAPI schema (fetched with the token) as plain HTML.
"use strict";

function el(name, text) { const e = document.createElement(name); if (text !== undefined) e.textContent = text; return e; }

async function load(event) {
  if (event) event.preventDefault();
  const token = document.getElementById("token").value.trim();
  sessionStorage.setItem("gait2hip-token", token);
  const response = await fetch("/openapi.json", { headers: { Authorization: "Bearer " + token } });
  const body = await response.json().catch(() => null);
  const error = document.getElementById("error");
  if (!response.ok) {
    error.textContent = (body && body.error && body.error.message) || "failed: " + response.status;
    error.hidden = false;
    return;
  }
  error.hidden = true;
  const out = document.getElementById("endpoints");
  out.replaceChildren(el("h2", body.info.title + " " + body.info.version), el("p", body.info.description));
  for (const [path, methods] of Object.entries(body.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const section = el("section");
      section.append(el("h3", method.toUpperCase() + " " + path), el("p", op.summary || ""));
      const params = (op.parameters || []).map((p) => `${p.name} (${p.in})`);
      if (params.length) section.append(el("p", "Parameters: " + params.join(", ")));
      const form = op.requestBody && op.requestBody.content && op.requestBody.content["multipart/form-data"];
      if (form) {
        const list = el("ul");
        for (const [name, prop] of Object.entries(form.schema.properties || {})) {
          const required = (form.schema.required || []).includes(name) ? " (required)" : "";
          list.append(el("li", `${name}: ${prop.description || prop.type}${required}`));
        }
        section.append(el("p", "Form fields (multipart/form-data):"), list);
      }
      section.append(el("p", "Responses: " + Object.keys(op.responses || {}).join(", ")));
      out.append(section);
    }
  }
  document.getElementById("raw").textContent = JSON.stringify(body, null, 2);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("token").value = sessionStorage.getItem("gait2hip-token") || "";
  document.getElementById("docs-form").addEventListener("submit", load);
  if (document.getElementById("token").value) load();
});
