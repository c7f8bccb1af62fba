"""A tiny document model rendered both to Markdown and to standalone HTML (one source, two files)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1180px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
.banner { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6em 1em; font-weight: 600; }
img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #555; margin-bottom: 1.5em; }
code, pre { background: #f6f6f6; } pre { padding: 0.6em; overflow-x: auto; }
"""


@dataclass
class Document:
    """Blocks: ('h', level, text) | ('p', text) | ('banner', text) | ('code', text)
    | ('table', frame, caption) | ('img', relative path, caption) | ('list', items)."""

    title: str
    blocks: list[tuple] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("h", level, text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("p", text))

    def banner(self, text: str) -> None:
        self.blocks.append(("banner", text))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("list", items))

    def table(self, frame: pd.DataFrame, caption: str | None = None) -> None:
        self.blocks.append(("table", frame, caption))

    def image(self, path: str, caption: str) -> None:
        self.blocks.append(("img", path, caption))

    # ------------------------------------------------------------------ renderers
    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for block in self.blocks:
            kind = block[0]
            if kind == "h":
                lines += ["#" * block[1] + " " + block[2], ""]
            elif kind == "p":
                lines += [block[1], ""]
            elif kind == "banner":
                lines += [f"> **{block[1]}**", ""]
            elif kind == "code":
                lines += ["```", block[1], "```", ""]
            elif kind == "list":
                lines += [f"- {item}" for item in block[1]] + [""]
            elif kind == "table":
                if block[2]:
                    lines += [f"*{block[2]}*", ""]
                lines += [_markdown_table(block[1]), ""]
            elif kind == "img":
                lines += [f"![{block[2]}]({block[1]})", "", f"*{block[2]}*", ""]
        return "\n".join(lines)

    def to_html(self) -> str:
        parts = [
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(self.title)}</h1>"
        ]
        for block in self.blocks:
            kind = block[0]
            if kind == "h":
                parts.append(f"<h{block[1]}>{html.escape(block[2])}</h{block[1]}>")
            elif kind == "p":
                parts.append(f"<p>{_inline(block[1])}</p>")
            elif kind == "banner":
                parts.append(f"<div class='banner'>{_inline(block[1])}</div>")
            elif kind == "code":
                parts.append(f"<pre><code>{html.escape(block[1])}</code></pre>")
            elif kind == "list":
                parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block[1]) + "</ul>")
            elif kind == "table":
                if block[2]:
                    parts.append(f"<p><em>{_inline(block[2])}</em></p>")
                parts.append(block[1].to_html(index=False, border=0, na_rep="–", escape=True))
            elif kind == "img":
                parts.append(
                    f"<figure><img src='{html.escape(block[1])}' alt='{html.escape(block[2])}'>"
                    f"<figcaption>{_inline(block[2])}</figcaption></figure>"
                )
        parts.append("</body></html>")
        return "\n".join(parts)


def _inline(text: str) -> str:
    """Escape, then render `code` and **bold** spans."""
    escaped = html.escape(text)
    out, code, bold = [], False, False
    i = 0
    while i < len(escaped):
        if escaped.startswith("**", i):
            out.append("</strong>" if bold else "<strong>")
            bold = not bold
            i += 2
        elif escaped[i] == "`":
            out.append("</code>" if code else "<code>")
            code = not code
            i += 1
        else:
            out.append(escaped[i])
            i += 1
    return "".join(out)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(no rows)"
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
