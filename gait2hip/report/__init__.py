"""The benchmark report (Markdown + HTML) and its figures: :func:`gait2hip.report.report.write_report`."""
