"""Run the cross-lab experiment on its own (the benchmark runs it too): trained on {simulated,
fukuchi2018, both} × tested on {held-out simulated subjects, held-out fukuchi2018 subjects, the
OpenSim example trials}, one row per configuration (ablation).

Usage (from the repository root; resumes after a kill)::

    PYTHONPATH=$PWD nice python scripts/crosslab_experiment.py --out runs/crosslab --epochs 30 --folds 5

Data: the embedded SIMULATED default cohort (or ``--data``), the embedded REAL fukuchi2018,
the OpenSim examples under the shared folder (``--shared`` or GAIT2HIP_SHARED).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from rich.console import Console

from gait2hip.bench.crosslab import CONFIGS, CrossLabSettings, prepare_crosslab_data, run_crosslab
from gait2hip.bench.realtrials import load_real_trials
from gait2hip.commands.progress import eta_progress
from gait2hip.data import load_dataset
from gait2hip.paths import shared_dir
from gait2hip.report.crosslab import crosslab_figure
from gait2hip.report.tables import crosslab_markdown
from gait2hip.train.protocols import Runtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", default="default", help="the simulated cohort ('default' or an NPZ)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configurations")
    parser.add_argument("--extra", default="{}", help='JSON {"name": ["both", {"flag": true}]}')
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shared", type=Path, default=None)
    parser.add_argument("--figure", type=Path, default=None, help="also draw the figure here (PNG)")
    args = parser.parse_args(argv)
    console = Console()
    extra = {k: (v[0], v[1]) for k, v in json.loads(args.extra).items()}
    settings = CrossLabSettings(
        configs=tuple(c.strip() for c in args.configs.split(",") if c.strip()),
        folds=args.folds,
        epochs=args.epochs,
        extra_configs=extra,
    )
    trials, problems = load_real_trials(shared_dir(path=args.shared) if args.shared else shared_dir())
    for problem in problems:
        console.print(f"[yellow]example trials:[/] {problem}")
    data = prepare_crosslab_data(
        load_dataset(args.data), load_dataset("fukuchi2018"), trials, folds=args.folds
    )
    with eta_progress(console=console, status=True) as progress:
        table = run_crosslab(
            args.out, data, settings, runtime=Runtime(threads=args.threads), progress=progress,
            on_done=lambda message: progress.console.print(message),
        )  # fmt: skip
    pd.set_option("display.width", 250)
    console.print(crosslab_markdown(table), highlight=False)
    (args.out / "crosslab.md").write_text(crosslab_markdown(table) + "\n")
    if args.figure is not None:
        console.print(f"figure: {crosslab_figure(table, args.figure)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
