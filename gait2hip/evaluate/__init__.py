"""Scoring only: the subject hold-out, metrics, the mean-curve baseline, paired statistics, the
per-cohort / per-cadence / per-subject tables and real-trial scoring. Nothing here trains,
simulates, predicts or prints (the experiments that produce what is scored live in :mod:`gait2hip.bench`).

Submodules are imported on demand (``from gait2hip.evaluate.metrics import subject_scores``).
"""
