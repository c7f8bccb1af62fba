"""Train the model bundles gait2hip ships as ``--model default``.

One Transformer for the 14 hip-muscle forces and one for the 3 hip moments, trained on the
embedded (SIMULATED) default cohort with gait2hip's recipe, minus the two flags a clinic
cannot feed: subject inputs (height is not asked for by ``gait2hip predict``) and joint
targets (one bundle per target keeps each small and replaceable). The paper protocol's
subject holdout (20 % of the healthy subjects, ``numpy.random.default_rng(42)``) is kept out
of training, and the bundle's manifest records the metrics on it (and on the simulated
patients, never trained on).

Run from the repository root (nice it; it takes a while on 2 cores)::

    nice .venv/bin/python scripts/train_default_bundles.py --epochs 60

It writes ``gait2hip/resources/bundles/transformer-{forces,moments}-default/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from gait2hip.commands.progress import eta_progress
from gait2hip.data import load_dataset
from gait2hip.evaluate.metrics import subject_mean, subject_scores
from gait2hip.evaluate.splits import subject_holdout
from gait2hip.models.bundle import load_bundle
from gait2hip.models.datacard import data_card_from_dataset
from gait2hip.models.discovery import INSTALLED_BUNDLES_DIR
from gait2hip.train.protocols import BUDGETS, Runtime, Trainer
from gait2hip.train.recipes import GAIT2HIP_RECIPE, per_kg

DEFAULT_RECIPE = dataclasses.replace(
    GAIT2HIP_RECIPE, name="gait2hip-default-bundle", joint_targets=False, subject_inputs=False
)
EXTERNAL_COHORT = "patient"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="default", help="'default' or a gait2hip NPZ")
    parser.add_argument("--architecture", default="transformer")
    parser.add_argument("--epochs", type=int, default=60, help="fixed epochs (cosine decay to 0)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--targets", default="forces,moments")
    parser.add_argument("--out", type=Path, default=INSTALLED_BUNDLES_DIR)
    args = parser.parse_args(argv)
    console = Console()

    dataset = per_kg(load_dataset(args.data))
    cohort = dataset.meta["cohort"].to_numpy(dtype=str)
    patients = dataset.take(cohort == EXTERNAL_COHORT) if (cohort == EXTERNAL_COHORT).any() else None
    main_cohort = dataset.take(cohort != EXTERNAL_COHORT)
    holdout = subject_holdout(main_cohort.meta["subject_id"].to_numpy(dtype=str))
    pool = main_cohort.select(subjects=holdout.pool)
    test = main_cohort.select(subjects=holdout.test)
    name = dataset.attrs.get("name") or Path(str(dataset.attrs.get("path", args.data))).name
    console.print(
        f"{name}: {len(pool)} training cycles ({len(holdout.pool)} subjects), {len(test)} test cycles "
        f"({len(holdout.test)} subjects), {0 if patients is None else len(patients)} patient cycles; "
        f"simulated={bool(dataset.attrs.get('simulated'))}",
        highlight=False,
    )
    budget = dataclasses.replace(BUDGETS["full"], fixed_epochs=args.epochs)
    card = data_card_from_dataset(
        pool,
        description=(
            f"{'SIMULATED ' if dataset.attrs.get('simulated') else ''}cohort '{name}': the healthy "
            f"subjects of the paper protocol's training pool ({len(holdout.pool)} subjects); "
            + str(dataset.attrs.get("description", ""))
        ).strip(),
    )
    card["name"] = str(name) + (" (PRELIMINARY)" if dataset.attrs.get("preliminary") else "")

    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        started = time.perf_counter()
        with eta_progress(console=console, unit="epochs", status=True) as progress:
            trainer = Trainer(
                recipe=DEFAULT_RECIPE,
                architecture=args.architecture,
                budget=budget,
                target=target,
                seed=args.seed,
                runtime=Runtime(threads=args.threads),
            )
            fitted = trainer.fit(pool, progress=progress)
        metrics: dict = {
            "protocol": "paper subject holdout (20 % of healthy subjects, default_rng(42)); "
            "subject-mean metrics",
            "units": fitted.target_units[0],
            "test_subjects": list(holdout.test),
        }
        for label, part in (("test", test), ("patients", patients)):
            if part is None or len(part) == 0:
                continue
            y_true = part.select_targets(fitted.target_columns).Y
            scores = subject_mean(
                subject_scores(y_true, fitted.predict(part), part.meta["subject_id"].to_numpy(dtype=str))
            )
            prefix = "" if label == "test" else "patients_"
            metrics.update({f"{prefix}{k}": v for k, v in scores.items()})
        metrics["r2"] = metrics.get("r2_paper")
        folder = args.out / f"{args.architecture}-{target}-default"
        if folder.exists():
            shutil.rmtree(folder)
        fitted.save_bundle(
            folder,
            data_card=card,
            metrics=metrics,
            description=(
                f"Default {target} model ({args.architecture}, gait2hip recipe) trained on the "
                f"{'SIMULATED ' if dataset.attrs.get('simulated') else ''}embedded cohort '{name}'"
                + (
                    f" — PRELIMINARY cohort ({len(holdout.pool)} training subjects)"
                    if dataset.attrs.get("preliminary")
                    else ""
                )
            ),
            default_for=target,
            extra={
                "recipe": DEFAULT_RECIPE.to_dict(),
                "epochs": fitted.final_epochs,
                "seed": args.seed,
                "train_cycles": int(fitted.n_train_cycles),
                "train_seconds": round(time.perf_counter() - started, 1),
                "script": "scripts/train_default_bundles.py",
            },
        )
        bundle = load_bundle(folder)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        console.print(
            f"[green]wrote[/] {folder} ({size:.2f} MB): test RMSE {metrics.get('rmse', np.nan):.4g} "
            f"{metrics['units']}, R² {metrics.get('r2_paper', np.nan):.3f}; "
            f"patients RMSE {metrics.get('patients_rmse', np.nan):.4g}; OOD threshold "
            f"{bundle.manifest['ood']['threshold']:.2f}",
            highlight=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
