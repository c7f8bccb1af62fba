"""The benchmark report (Markdown + HTML) and its figures, rebuilt from a finished run folder:
:func:`gait2hip.report.write.write_report` (tables: :mod:`~gait2hip.report.tables`, run folder:
:mod:`~gait2hip.report.rundata`)."""
