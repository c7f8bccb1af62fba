"""Evaluation: subject splits, the paper and gait2hip protocols, metrics, baseline, statistics,
the real-trial check and ``gait2hip benchmark`` (:mod:`gait2hip.evaluate.benchmark`).

Submodules are imported on demand (``from gait2hip.evaluate.metrics import scores``) so that
``gait2hip bench speed`` (:mod:`gait2hip.evaluate.speed`) does not pay for the benchmark's imports.
"""
