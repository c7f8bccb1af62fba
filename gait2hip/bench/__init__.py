"""Experiments: the benchmark (:mod:`~gait2hip.bench.benchmark` and its steps), prediction speed vs
OpenSim (:mod:`~gait2hip.bench.speed`, :mod:`~gait2hip.bench.model_timing`), labelling throughput
(:mod:`~gait2hip.bench.labelling`) and the real trials they score on (:mod:`~gait2hip.bench.realtrials`).

Library code: typed settings in, files and dicts out, progress through callbacks; the command
layer (:mod:`gait2hip.commands`) prints.
"""
