"""Train the bundle gait2hip ships as ``--model default``: one joint model, simulated + REAL data.

One Transformer predicts the 14 hip-muscle forces and the 3 hip moments (and the hip contact
force when the simulated cohort has it: cohort 2.0's ``contact`` group). It trains on

* the SIMULATED cohort (``--data``, default the embedded one): forces and moments; its healthy
  subjects minus the paper protocol's 20 % hold-out (``numpy.random.default_rng(42)``);
* the REAL dataset ``--real`` (default the embedded fukuchi2018): hip moments only (forces are
  NaN there and the loss is masked, :mod:`gait2hip.data.mixing`); minus 20 % of its subjects
  (the same rule), held out so that the manifest's real-data metrics and OOD false-alarm rate
  come from people the shipped model never saw.

The recipe is the cross-lab experiment's base recipe (:data:`gait2hip.bench.crosslab.BASE_RECIPE`:
gait2hip's, without subject inputs — a clinic does not always know them and fukuchi2018 has
none — and without mirroring) plus the flags the cross-lab table kept (:data:`CHOSEN_FLAGS`,
see the README's real-data section) and non-negative forces. The model is the cross-lab
experiment's small Transformer (``--size small``; ``--size paper`` for the paper's).

Run from the repository root (one command; nice it on a shared machine)::

    PYTHONPATH=$PWD nice python scripts/train_default_bundles.py
    PYTHONPATH=$PWD nice python scripts/train_default_bundles.py --data cohort2.npz --real fukuchi2018

It writes ``gait2hip/resources/bundles/<architecture>-joint-default/`` and removes the other
default bundles of that folder (a default must be unambiguous).
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

from gait2hip.bench.crosslab import BASE_RECIPE, SMALL_TRANSFORMER
from gait2hip.bench.realtrials import load_real_trials
from gait2hip.commands.progress import eta_progress
from gait2hip.data import load_dataset
from gait2hip.data.columns import INPUT_ANGLES, MOMENTS_R, MUSCLE_GROUPS_R
from gait2hip.data.dataset import GaitDataset
from gait2hip.data.mixing import concat_with_missing
from gait2hip.evaluate.crosslab import loso_mean, score_rows, train_mean
from gait2hip.evaluate.metrics import subject_mean, subject_scores
from gait2hip.evaluate.splits import subject_holdout
from gait2hip.models.bundle import load_bundle
from gait2hip.models.datacard import data_card_from_dataset
from gait2hip.models.discovery import INSTALLED_BUNDLES_DIR
from gait2hip.models.manifest import read_manifest
from gait2hip.models.ood import OOD_OUTSIDE_FRACTION_LIMIT, ood_distance, ood_outside_fraction
from gait2hip.paths import shared_dir
from gait2hip.train.protocols import BUDGETS, Runtime, Trainer
from gait2hip.train.recipes import ROBUSTNESS_FLAGS, per_kg

#: Robustness flags the cross-lab table kept (README, "Real people"): they lowered the hip-moment
#: error on labs the models were not trained on (held-out fukuchi2018 subjects, the examples).
CHOSEN_FLAGS: tuple[str, ...] = ("angle_augment", "domain_balanced")
EXTERNAL_COHORT = "patient"


def split(dataset: GaitDataset) -> tuple[GaitDataset, GaitDataset, GaitDataset | None]:
    """(training pool, held-out test subjects, external patients) by the paper's 20 % hold-out."""
    dataset = per_kg(dataset)
    cohort = dataset.meta["cohort"].to_numpy(dtype=str)
    patients = dataset.take(cohort == EXTERNAL_COHORT) if (cohort == EXTERNAL_COHORT).any() else None
    main = dataset.take(cohort != EXTERNAL_COHORT)
    holdout = subject_holdout(main.meta["subject_id"].to_numpy(dtype=str))
    return main.select(subjects=holdout.pool), main.select(subjects=holdout.test), patients


def _finite(value):
    """JSON-able (the manifest allows no NaN)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def ood_share(bundle, dataset: GaitDataset) -> float:
    """Share of ``dataset``'s cycles the bundle's OOD check flags (either rule)."""
    x = dataset.inputs_in_degrees().select_inputs(list(bundle.input_columns)).X
    far = ood_distance(x, bundle.reference) > float(bundle.manifest["ood"]["threshold"])
    outside = ood_outside_fraction(x, bundle.reference) > OOD_OUTSIDE_FRACTION_LIMIT
    return float(np.mean(far | outside))


def evaluate(fitted, bundle, *, train, sim_test, patients, real, real_test, trials) -> dict:
    """The manifest's metrics: simulated test subjects (subject-mean), held-out real subjects and
    the example trials (pooled, skill over the training and the lab's own mean curve), OOD rates."""
    metrics: dict = {"units_forces": "N/kg", "units_moments": "Nm/kg"}
    for label, part in (("test", sim_test), ("patients", patients)):
        if part is None or not len(part):
            continue
        for group, cols in (("forces", MUSCLE_GROUPS_R), ("moments", MOMENTS_R)):
            idx = [fitted.target_columns.index(c) for c in cols]
            scores = subject_mean(
                subject_scores(part.select_targets(cols).Y, fitted.predict(part)[:, :, idx],
                               part.meta["subject_id"].to_numpy(dtype=str))
            )  # fmt: skip
            metrics[f"sim_{label}_{group}"] = scores
        metrics[f"ood_flagged_sim_{label}"] = ood_share(bundle, part)
    idx = [fitted.target_columns.index(c) for c in MOMENTS_R]
    if real_test is not None:
        metrics["real_test_moments"] = score_rows(
            real_test.Y, fitted.predict(real_test)[:, :, idx], columns=MOMENTS_R,
            train_baseline=train_mean(train, real_test, MOMENTS_R),
            lab_baseline=loso_mean(real, MOMENTS_R, test=real_test), base={},
        )  # fmt: skip
        metrics["ood_flagged_real_test"] = ood_share(bundle, real_test)
        # the headline `gait2hip models list` shows: hip moments of REAL people never trained on
        headline = metrics["real_test_moments"]
        metrics.update(
            rmse=headline["rmse"], r2=headline["r2_channel"], units="Nm/kg, held-out real subjects"
        )
    for trial in trials:
        if not all(c in trial.available for c in MOMENTS_R):
            continue
        lab = None if real is None else train_mean(real, trial.dataset, MOMENTS_R)
        metrics[f"trial_{trial.name}_moments"] = score_rows(
            trial.dataset.select_targets(MOMENTS_R).Y, fitted.predict(trial.dataset)[:, :, idx],
            columns=MOMENTS_R, train_baseline=train_mean(train, trial.dataset, MOMENTS_R),
            lab_baseline=lab, base={},
        )  # fmt: skip
        metrics[f"ood_flagged_trial_{trial.name}"] = ood_share(bundle, trial.dataset)
    shifted = sim_test.inputs_in_degrees()
    shifted = shifted._replace(
        X=shifted.X + np.where(np.isin(shifted.input_columns, INPUT_ANGLES), 40.0, 0.0)
    )
    metrics["ood_flagged_sim_test_plus_40deg"] = ood_share(bundle, shifted)
    return _finite(metrics)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="default", help="the simulated cohort: 'default' or an NPZ")
    parser.add_argument("--real", default="fukuchi2018", help="real data (moments only), or 'none'")
    parser.add_argument("--flags", default=",".join(CHOSEN_FLAGS), help=f"of {', '.join(ROBUSTNESS_FLAGS)}")
    parser.add_argument("--architecture", default="transformer")
    parser.add_argument("--size", choices=("small", "paper"), default="small")
    parser.add_argument("--epochs", type=int, default=60, help="fixed epochs (cosine decay to 0)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shared", type=Path, default=None, help="for the OpenSim example trials")
    parser.add_argument("--out", type=Path, default=INSTALLED_BUNDLES_DIR)
    parser.add_argument(
        "--band-only", action="store_true", help="no training: (re)fit the band of the bundle in --out"
    )
    parser.add_argument(
        "--seeds",
        default=None,
        help="e.g. 2026,2027,2028: one member per seed (trained into --members-dir, or reused from "
        "there when already trained), shipped as ONE ensemble bundle with its band refitted",
    )
    parser.add_argument("--members-dir", type=Path, default=Path("runs/default-members"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    console = Console()
    flags = {f.strip(): True for f in args.flags.split(",") if f.strip()}
    unknown = [f for f in flags if f not in ROBUSTNESS_FLAGS]
    if unknown:
        raise SystemExit(f"unknown flag(s) {unknown}; choose from {ROBUSTNESS_FLAGS}")
    recipe = dataclasses.replace(BASE_RECIPE, name="gait2hip-default-joint", nonnegative_forces=True, **flags)
    if args.band_only:
        return band_only(args, console)
    if args.seeds:
        return ensemble(args, console)
    return train_one(args, console, recipe=recipe, flags=flags)


def train_one(args, console: Console, *, recipe, flags: dict) -> int:
    """Train one member (seed ``args.seed``), score it and give it its band; write it to ``args.out``."""
    simulated = load_dataset(args.data)
    sim_name = str(simulated.attrs.get("name") or Path(str(args.data)).stem)
    pool, sim_test, patients = split(simulated)
    real = real_pool = real_test = None
    sources, names = [pool], [sim_name]
    if args.real != "none":
        real = per_kg(load_dataset(args.real))
        held = subject_holdout(real.meta["subject_id"].to_numpy(dtype=str))
        real_pool, real_test = real.select(subjects=held.pool), real.select(subjects=held.test)
        sources, names = [pool, real_pool], [sim_name, str(args.real)]
    train = concat_with_missing(sources, names=names) if len(sources) > 1 else pool
    console.print(
        f"training: {len(pool)} simulated cycles ({pool.meta['subject_id'].nunique()} subjects, "
        f"'{sim_name}', simulated={bool(simulated.attrs.get('simulated'))})"
        + (f" + {len(real_pool)} real cycles ({real_pool.meta['subject_id'].nunique()} subjects, "
           f"'{args.real}'; held out: {sorted(set(real_test.meta['subject_id']))})" if real else "")
        + f"; recipe flags {sorted(flags) or 'none'} + nonnegative_forces",
        highlight=False,
    )  # fmt: skip
    started = time.perf_counter()
    with eta_progress(console=console, unit="epochs", status=True) as progress:
        fitted = Trainer(
            recipe=recipe, architecture=args.architecture,
            budget=dataclasses.replace(BUDGETS["full"], fixed_epochs=args.epochs), target="forces",
            seed=args.seed, runtime=Runtime(threads=args.threads),
            model_overrides=dict(SMALL_TRANSFORMER) if args.size == "small" else None,
        ).fit(train, progress=progress)  # fmt: skip
    seconds = time.perf_counter() - started
    folder = write_bundle(args, fitted, train=train, names=names, recipe=recipe, seconds=seconds)
    trials, problems = load_real_trials(shared_dir(path=args.shared) if args.shared else shared_dir())
    bundle = load_bundle(folder)
    metrics = evaluate(
        fitted, bundle, train=train, sim_test=sim_test, patients=patients, real=real, real_test=real_test,
        trials=trials,
    )  # fmt: skip
    metrics["trial_problems"] = problems
    metrics["test_subjects"] = sorted(set(sim_test.meta["subject_id"]))
    if real_test is not None:
        metrics["real_test_subjects"] = sorted(set(real_test.meta["subject_id"]))
    folder = write_bundle(
        args, fitted, train=train, names=names, recipe=recipe, seconds=seconds, metrics=metrics
    )
    if real_test is not None:
        calibrate_band(folder, sim_test=sim_test, real_test=real_test, real_name=str(args.real))
        console.print("90 % band: hip moments fitted on the held-out REAL subjects, the rest on the "
                      "held-out simulated subjects", highlight=False)  # fmt: skip
    report(console, folder, metrics)
    return 0


class EnsemblePredictor:
    """A bundle's ensemble mean with the ``predict(dataset)`` of a fitted unit (per-kg targets)."""

    def __init__(self, bundle) -> None:
        self.bundle = bundle
        self.target_columns = list(bundle.target_columns)

    def predict(self, dataset: GaitDataset) -> np.ndarray:
        x = dataset.inputs_in_degrees().select_inputs(list(self.bundle.input_columns)).X
        return self.bundle.predict_normalised(x)


def ensemble(args, console: Console) -> int:
    """Train (or reuse) one member per seed, combine them into the shipped bundle, score the ENSEMBLE
    on the same held-out subjects and refit its band (the spread term now has several members)."""
    import json

    from gait2hip.models.ensemble import combine_members

    seeds = [int(s) for s in str(args.seeds).split(",") if s.strip()]
    folders = []
    for seed in seeds:
        out = args.members_dir / f"s{seed}"
        folder = out / f"{args.architecture}-joint-default"
        if not (folder / "manifest.json").is_file():
            console.print(f"member seed {seed}: training into {out}", highlight=False)
            main([*_passthrough(args), "--seed", str(seed), "--out", str(out)])
        else:
            console.print(f"member seed {seed}: reusing {folder}", highlight=False)
        folders.append(folder)
    members = [load_bundle(f) for f in folders]
    target = args.out / f"{args.architecture}-joint-default"
    args.out.mkdir(parents=True, exist_ok=True)
    for other in args.out.iterdir():
        is_bundle = other != target and other.is_dir() and (other / "manifest.json").exists()
        if is_bundle and read_manifest(other).get("default_for"):
            shutil.rmtree(other)
    if target.exists():
        shutil.rmtree(target)
    combine_members(members, target)
    bundle = load_bundle(target)
    simulated = load_dataset(args.data)
    _, sim_test, patients = split(simulated)
    real = per_kg(load_dataset(args.real))
    held = subject_holdout(real.meta["subject_id"].to_numpy(dtype=str))
    real_pool, real_test = real.select(subjects=held.pool), real.select(subjects=held.test)
    pool, _, _ = split(simulated)
    train = concat_with_missing([pool, real_pool], names=[str(simulated.attrs.get("name") or "default"),
                                                          str(args.real)])  # fmt: skip
    trials, problems = load_real_trials(shared_dir(path=args.shared) if args.shared else shared_dir())
    metrics = evaluate(
        EnsemblePredictor(bundle), bundle, train=train, sim_test=sim_test, patients=patients, real=real,
        real_test=real_test, trials=trials,
    )  # fmt: skip
    metrics.update(
        trial_problems=problems,
        test_subjects=sorted(set(sim_test.meta["subject_id"])),
        real_test_subjects=sorted(set(real_test.meta["subject_id"])),
        member_real_test_rmse={
            str(s): m.manifest["metrics"].get("rmse") for s, m in zip(seeds, members, strict=True)
        },
    )
    manifest = target / "manifest.json"
    data = json.loads(manifest.read_text())
    data["metrics"] = metrics  # the hashes cover member files only
    data["description"] = data["description"].replace("Default joint model", f"Default joint model, "
                                                      f"{len(seeds)}-member ensemble")  # fmt: skip
    data.setdefault("extra", {})["train_seconds"] = sum(
        float(m.manifest.get("extra", {}).get("train_seconds", 0.0)) for m in members
    )
    manifest.write_text(json.dumps(data, indent=1) + "\n")
    calibrate_band(target, sim_test=sim_test, real_test=real_test, real_name=str(args.real))
    console.print(f"{len(seeds)} members (seeds {seeds}); 90 % band refitted with the member spread",
                  highlight=False)  # fmt: skip
    report(console, target, metrics)
    return 0


def _passthrough(args) -> list[str]:
    """The command-line options a member's training shares with the ensemble run."""
    argv = ["--data", str(args.data), "--real", str(args.real), "--flags", str(args.flags),
            "--architecture", args.architecture, "--size", args.size, "--epochs", str(args.epochs),
            "--threads", str(args.threads)]  # fmt: skip
    return argv + (["--shared", str(args.shared)] if args.shared else [])


def calibrate_band(folder: Path, *, sim_test, real_test, real_name: str) -> Path:
    """Give the bundle its 90 % band (:func:`gait2hip.bench.calibration.calibrate_joint_bundle`):
    moments from the held-out real subjects, forces and contact force from the held-out simulated
    ones — subjects it was never trained on."""
    from gait2hip.bench.calibration import calibrate_joint_bundle, source_from
    from gait2hip.data.columns import MOMENTS_R

    bundle = load_bundle(folder)
    return calibrate_joint_bundle(
        bundle,
        simulated=source_from(bundle, sim_test, "simulated held-out", real=False),
        real=source_from(bundle, real_test, f"{real_name} held-out", real=True),
        out=folder,
        real_targets=MOMENTS_R,
    )


def band_only(args, console: Console) -> int:
    """Refit the band of an existing default bundle on the same held-out subjects it was scored on."""
    import json

    folder = args.out / f"{args.architecture}-joint-default"
    _, sim_test, _ = split(load_dataset(args.data))
    real = per_kg(load_dataset(args.real))
    held = subject_holdout(real.meta["subject_id"].to_numpy(dtype=str))
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text())
    data["metrics"]["test_subjects"] = sorted(set(sim_test.meta["subject_id"]))
    data["metrics"]["real_test_subjects"] = list(held.test)
    manifest.write_text(json.dumps(data, indent=1) + "\n")  # the hashes cover member files only
    calibrate_band(folder, sim_test=sim_test, real_test=real.select(subjects=held.test), real_name=args.real)
    console.print(f"wrote {folder}: 90 % band refitted on the held-out subjects", highlight=False)
    return 0


def write_bundle(args, fitted, *, train, names, recipe, seconds, metrics=None) -> Path:
    """Save the joint bundle (default for forces and moments); drop the folder's other defaults."""
    args.out.mkdir(parents=True, exist_ok=True)
    folder = args.out / f"{args.architecture}-joint-default"
    for other in args.out.iterdir():
        is_bundle = other != folder and other.is_dir() and (other / "manifest.json").exists()
        if is_bundle and read_manifest(other).get("default_for"):
            shutil.rmtree(other)
    if folder.exists():
        shutil.rmtree(folder)
    card = data_card_from_dataset(
        train,
        description=f"SIMULATED cohort '{names[0]}' (forces, moments; paper hold-out removed)"
        + (f" + REAL '{names[1]}' (hip moments only; 20 % of subjects held out)" if len(names) > 1 else ""),
    )
    # muscle forces are learnt from simulation only: the bundle stays marked simulated
    card.update(simulated=True, simulated_sources=[names[0]], real_sources=list(names[1:]))
    fitted.save_bundle(
        folder,
        data_card=card,
        metrics=metrics or {},
        description=(
            f"Default joint model ({args.architecture}, {args.size}): hip moments from SIMULATED "
            + (f"+ REAL ({names[1]}) " if len(names) > 1 else "")
            + "data, muscle forces from SIMULATED data only (≥ 0 by construction)"
        ),
        default_for="forces+moments",
        extra={
            "recipe": recipe.to_dict(), "epochs": fitted.final_epochs, "seed": args.seed,
            "sources": names, "train_cycles": int(fitted.n_train_cycles), "size": args.size,
            "train_seconds": round(seconds, 1), "script": "scripts/train_default_bundles.py",
        },
    )  # fmt: skip
    return folder


def report(console: Console, folder: Path, metrics: dict) -> None:
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    console.print(f"[green]wrote[/] {folder} ({size:.2f} MB)")
    for key, value in metrics.items():
        if isinstance(value, dict) and "rmse" in value:
            extra = ", ".join(
                f"{k} {value[k]:.3f}" for k in ("r2_flexion", "r2_adduction", "r2_rotation", "r2_channel",
                                                 "skill_train_mean", "skill_lab_mean")
                if isinstance(value.get(k), float)
            )  # fmt: skip
            console.print(f"  {key}: RMSE {value['rmse']:.4f}; {extra}", highlight=False)
        elif key.startswith("ood_"):
            console.print(f"  {key}: {value:.1%}", highlight=False)


if __name__ == "__main__":
    sys.exit(main())
