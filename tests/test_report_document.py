"""The report document renders the same content to Markdown and HTML."""

from __future__ import annotations

import pandas as pd

from gait2hip.report.document import Document


def test_markdown_and_html_carry_the_same_blocks():
    doc = Document("T")
    doc.banner("SIMULATED DATA")
    doc.heading("Section")
    doc.paragraph("ratio **0.8** for `forces`")
    doc.table(pd.DataFrame({"model": ["lstm"], "RMSE": ["0.1 | 0.2"]}), "caption")
    doc.image("figures/a.png", "a figure")
    md, html = doc.to_markdown(), doc.to_html()
    assert "> **SIMULATED DATA**" in md and "## Section" in md
    assert "| model | RMSE |" in md and "0.1 \\| 0.2" in md and "![a figure](figures/a.png)" in md
    assert "<strong>0.8</strong>" in html and "<code>forces</code>" in html and "<table" in html
    assert "src='figures/a.png'" in html and "class='banner'" in html
