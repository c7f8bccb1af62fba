"""Prediction speed against OpenSim ID + SO, measured on this machine (``gait2hip bench speed``).

For every architecture (paper-sized: the registry defaults) at T = 101 (the bundles' cycle
length) and T = 180 (the Gait2Hip-60 release's), and for both runtimes (PyTorch eager,
``inference_mode``; ONNX Runtime CPU with the graph exported by :mod:`gait2hip.models.onnx`):

* single-cycle latency, p50 and p95 (ms): one cycle of raw angles → z-scoring → model →
  de-standardised outputs, batch 1, after warm-up;
* throughput (cycles/s) at batch 256;
* FLOPs per cycle, counted by ``torch.utils.flop_counter.FlopCounterMode`` (matrix products;
  element-wise work such as Mamba's scan, activations and norms is not counted, and the
  column says so), and the arithmetic rate that throughput implies, next to this machine's
  measured float32 matmul rate (GFLOP/s, 1024×1024 products on the same threads) — the
  distance to the hardware limit;
* OpenSim's inverse dynamics + static optimisation time per gait cycle, measured in the
  same run on a real trial (gait2392 subject01, right cycle 0.618–1.853 s, 6 Hz low-pass as
  in its ID setup; or the Moco/Rajagopal trial for a Rajagopal-family ``--opensim-model``),
  and the speed-up of each model over it (OpenSim s/cycle ÷ model s/cycle, single-cycle
  latency and batch throughput both);
* process CPU time per cycle (model at batch 256, and OpenSim) and the CPU-time ratio: a
  figure that stays fair when other processes load the machine during the run.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gait2hip.bench.timing import flops_per_cycle, latency_ms, matmul_gflops, throughput

#: Cycle lengths benchmarked: the bundles' 101 points and the release's 180.
SEQ_LENS = (101, 180)
THROUGHPUT_BATCH = 256
D_IN, D_OUT = 10, 14
#: Targets of the issue: per-cycle speed-up over OpenSim ID + SO, and single-cycle latency.
TARGET_SPEEDUP = 10_000.0
TARGET_LATENCY_MS = 5.0


@dataclass
class SpeedRow:
    """One model × runtime × cycle length."""

    model: str
    runtime: str
    seq_len: int
    n_parameters: int
    flops_per_cycle: float
    latency_p50_ms: float
    latency_p95_ms: float
    throughput_cycles_s: float
    achieved_gflops: float
    cpu_ms_single: float = float("nan")
    cpu_ms_per_cycle_batch: float = float("nan")
    speedup_latency: float = float("nan")
    speedup_throughput: float = float("nan")
    speedup_cpu: float = float("nan")


@dataclass
class OpenSimTiming:
    """OpenSim ID + SO on one real gait cycle."""

    model: str
    trial: str
    window_s: tuple[float, float]
    frames: int
    inverse_dynamics_s: float
    static_optimization_s: float
    cpu_s: float = float("nan")

    @property
    def per_cycle_s(self) -> float:
        return self.inverse_dynamics_s + self.static_optimization_s


class _EndToEnd(nn.Module):
    """Raw angles → z-score → model → de-standardised outputs (what a bundle computes)."""

    def __init__(self, model: nn.Module, d_in: int, d_out: int) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("input_mean", torch.zeros(d_in))
        self.register_buffer("input_std", torch.ones(d_in))
        self.register_buffer("target_mean", torch.zeros(d_out))
        self.register_buffer("target_std", torch.ones(d_out))

    def forward(self, angles: torch.Tensor) -> torch.Tensor:
        return self.model((angles - self.input_mean) / self.input_std) * self.target_std + self.target_mean


# ---------------------------------------------------------------------------- models
def bench_model(
    name: str,
    *,
    seq_len: int,
    threads: int,
    runtimes: Sequence[str] = ("pytorch", "onnxruntime"),
    batch: int = THROUGHPUT_BATCH,
    max_seconds: float = 2.0,
    workdir: Path | None = None,
    latency_threads: int = 1,
) -> list[SpeedRow]:
    """Latency, throughput and FLOPs of the paper-sized ``name`` at ``seq_len`` per runtime.

    Single-cycle latency runs on ``latency_threads`` (default 1: one cycle is too little work
    to share between threads, and on a loaded machine a second OpenMP thread waiting for a
    busy core has been measured to cost 100× — 450 ms instead of 1.2 ms for the Transformer);
    batch throughput runs on ``threads``.
    """
    from gait2hip.models import build_model

    torch.manual_seed(0)
    model = build_model(name, d_in=D_IN, d_out=D_OUT, seq_len=seq_len).eval()
    wrapped = _EndToEnd(model, D_IN, D_OUT).eval()
    n_parameters = int(sum(p.numel() for p in model.parameters()))
    flops = flops_per_cycle(wrapped, seq_len=seq_len, d_in=D_IN)
    rng = np.random.default_rng(0)
    one = rng.normal(0, 20, (1, seq_len, D_IN)).astype(np.float32)
    many = rng.normal(0, 20, (batch, seq_len, D_IN)).astype(np.float32)
    rows: list[SpeedRow] = []
    for runtime in runtimes:
        if runtime == "pytorch":
            one_t, many_t = torch.from_numpy(one), torch.from_numpy(many)

            def run_one(x=one_t):
                with torch.inference_mode():
                    return wrapped(x)

            def run_many(x=many_t):
                with torch.inference_mode():
                    return wrapped(x)

        elif runtime == "onnxruntime":
            from gait2hip.models.onnx import onnx_session

            path = _onnx_export_for(wrapped, seq_len=seq_len, workdir=workdir, name=name)
            session_one = onnx_session(path, threads=latency_threads)
            session_many = onnx_session(path, threads=threads)

            def run_one(x=one, s=session_one):
                return s.run(None, {"angles": x})

            def run_many(x=many, s=session_many):
                return s.run(None, {"angles": x})

        else:
            raise ValueError(f"unknown runtime {runtime!r}")
        torch.set_num_threads(latency_threads)
        try:
            p50, p95, cpu_one_ms = latency_ms(run_one, max_seconds=max_seconds)
        finally:
            torch.set_num_threads(threads)
        rate, cpu_per_cycle_s = throughput(run_many, batch, max_seconds=max_seconds)
        rows.append(
            SpeedRow(
                model=name,
                runtime=runtime,
                seq_len=seq_len,
                n_parameters=n_parameters,
                flops_per_cycle=flops,
                latency_p50_ms=p50,
                latency_p95_ms=p95,
                throughput_cycles_s=rate,
                achieved_gflops=flops * rate / 1e9,
                cpu_ms_single=cpu_one_ms,
                cpu_ms_per_cycle_batch=cpu_per_cycle_s * 1e3,
            )
        )
    return rows


def _onnx_export_for(wrapped: nn.Module, *, seq_len: int, workdir: Path | None, name: str) -> Path:
    from gait2hip.models.onnx import INPUT_NAME, OUTPUT_NAME

    folder = Path(workdir or tempfile.mkdtemp(prefix="gait2hip-speed-"))
    path = folder / f"{name}-T{seq_len}.onnx"
    with warnings.catch_warnings():  # grad stays on: no fused fast path, which cannot export
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (torch.zeros(2, seq_len, D_IN),),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=18,
            dynamo=False,
        )
    return path


# ---------------------------------------------------------------------------- OpenSim
def _reference_trial(opensim_model: Path | None, shared: Path | None) -> dict[str, Any]:
    """The real trial to label: gait2392 subject01 by default, Moco's for Rajagopal models."""
    from gait2hip.paths import shared_dir

    root = shared_dir(path=shared, required=True)
    assert root is not None
    examples = root / "opensim-examples"
    rajagopal_family = opensim_model is not None and "glmax1_r" in Path(opensim_model).read_text(
        errors="ignore"
    )
    if rajagopal_family:
        from gait2hip.io.opensim import read_storage

        folder = examples / "moco-3d-walking"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its header's nColumns is wrong (README)
            storage = read_storage(folder / "coordinates.sto")
        # 1000 Hz → 100 Hz: static optimisation solves one problem per frame, so the time per
        # cycle is only comparable at a usual IK rate (the gait2392 trial is at 60 Hz)
        return {
            "model": Path(opensim_model),
            "coordinates": storage.data.iloc[::10],
            "in_degrees": bool(storage.header.in_degrees),
            "external_loads": folder / "grf_walk.xml",
            "window": (0.48, 0.48 + 1.144),  # one stride inside the kinematics (README)
            "lowpass_hz": None,
            "trial": "moco-3d-walking at 100 Hz (one 1.144-s stride, 0.48–1.624 s)",
        }
    folder = examples / "gait2392-subject01"
    return {
        "model": Path(opensim_model) if opensim_model else folder / "subject01_simbody.osim",
        "coordinates": folder / "subject01_walk1_ik.mot",
        "external_loads": folder / "subject01_walk1_grf.xml",
        "window": (0.618, 1.853),  # right heel strike → right heel strike (README, GRF events)
        "lowpass_hz": 6.0,
        "trial": "gait2392 subject01 walk1, right cycle 0.618–1.853 s",
    }


def opensim_cycle_time(*, opensim_model: Path | None = None, shared: Path | None = None) -> OpenSimTiming:
    """Wall time of OpenSim inverse dynamics + OpenSim static optimisation on one real cycle.

    Model loading is included in both (that is what labelling a new cycle costs).
    """
    from gait2hip.sim.inverse_dynamics import run_inverse_dynamics
    from gait2hip.sim.static_optimization import run_static_optimization

    trial = _reference_trial(opensim_model, shared)
    common = {
        "model": trial["model"],
        "coordinates": trial["coordinates"],
        "external_loads": trial["external_loads"],
        "time_range": trial["window"],
        "lowpass_hz": trial["lowpass_hz"],
    }
    if "in_degrees" in trial:
        common["in_degrees"] = trial["in_degrees"]
    cpu_started = time.process_time()
    started = time.perf_counter()
    run_inverse_dynamics(**common)
    id_s = time.perf_counter() - started
    started = time.perf_counter()
    result = run_static_optimization(**common, solver="opensim")
    so_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    frames = len(result.forces)
    return OpenSimTiming(
        model=str(trial["model"]),
        trial=trial["trial"],
        window_s=tuple(trial["window"]),
        frames=frames,
        inverse_dynamics_s=id_s,
        static_optimization_s=so_s,
        cpu_s=cpu_s,
    )


def pipeline_latency(*, shared: Path | None = None, max_seconds: float = 2.0) -> dict[str, Any] | None:
    """Latency of the whole prediction of one real cycle with the installed default bundles.

    ``Predictor.predict_trial`` on the gait2392 example's right cycle (0.618–1.853 s): unit
    and sign checks, cubic resampling to the bundles' T, forces + moments models, per-kg
    scaling and both OOD measures. Reading the file is excluded. None when no default
    bundle is installed or the shared examples are absent.
    """
    from gait2hip.data.angles import read_angles
    from gait2hip.errors import Gait2HipInputError
    from gait2hip.models.discovery import default_bundle_names
    from gait2hip.paths import shared_dir
    from gait2hip.predict import Predictor

    root = shared_dir(path=shared)
    if root is None or not default_bundle_names():
        return None
    ik = root / "opensim-examples" / "gait2392-subject01" / "subject01_walk1_ik.mot"
    if not ik.is_file():
        return None
    try:
        predictor = Predictor.from_bundle("default")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            angles = read_angles(ik)
    except Gait2HipInputError:
        return None

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return predictor.predict_trial(angles, mass_kg=72.6, cycles=[(0.618, 1.853)])

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as `gait2hip predict` runs
    try:
        p50, p95, cpu = latency_ms(run, max_seconds=max_seconds)
    finally:
        torch.set_num_threads(threads)
    return {
        "bundles": [b.name for b in predictor.bundles],
        "trial": "gait2392 subject01 walk1, right cycle 0.618–1.853 s",
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "cpu_ms": cpu,
    }


# ---------------------------------------------------------------------------- run
def add_speedups(rows: Sequence[SpeedRow], opensim: OpenSimTiming) -> None:
    """Each row's speed-up over OpenSim: per single cycle (latency), per batch (throughput), CPU time."""
    for row in rows:
        row.speedup_latency = opensim.per_cycle_s / (row.latency_p50_ms / 1e3)
        row.speedup_throughput = opensim.per_cycle_s * row.throughput_cycles_s
        row.speedup_cpu = opensim.cpu_s / (row.cpu_ms_per_cycle_batch / 1e3)


def run_speed_bench(
    *,
    models: Sequence[str],
    threads: int = 2,
    opensim_model: Path | None = None,
    shared: Path | None = None,
    seq_lens: Sequence[int] = SEQ_LENS,
    runtimes: Sequence[str] = ("pytorch", "onnxruntime"),
    measure_opensim: bool = True,
    max_seconds: float = 2.0,
    progress: Callable[[str], None] | None = None,
    opensim_timer: Callable[[], OpenSimTiming] | None = None,
) -> dict[str, Any]:
    """Every measurement of ``gait2hip bench speed`` as a JSON-able dict (no printing).

    ``opensim_timer`` times OpenSim ID + SO on one cycle (default: :func:`opensim_cycle_time` on
    ``opensim_model`` / the shared gait2392 trial); every row's speed-ups are taken against it
    (:func:`add_speedups`).
    """
    from gait2hip.models import available_models

    unknown = [m for m in models if m not in available_models()]
    if unknown:
        from gait2hip.errors import Gait2HipInputError

        raise Gait2HipInputError(
            f"unknown model(s) {', '.join(unknown)}.",
            column="models",
            fix=f"choose from {', '.join(available_models())}.",
        )
    if threads < 1:
        raise ValueError("threads must be ≥ 1")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    say = progress or (lambda text: None)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    try:
        say("matmul GFLOP/s")
        peak = matmul_gflops()
        rows: list[SpeedRow] = []
        with tempfile.TemporaryDirectory(prefix="gait2hip-speed-") as tmp:
            for name in models:
                for seq_len in seq_lens:
                    say(f"{name}, T={seq_len}")
                    rows.extend(
                        bench_model(
                            name,
                            seq_len=seq_len,
                            threads=threads,
                            runtimes=runtimes,
                            max_seconds=max_seconds,
                            workdir=Path(tmp),
                        )
                    )
        say("whole prediction pipeline on a real cycle")
        pipeline = pipeline_latency(shared=shared, max_seconds=max_seconds)
        opensim: OpenSimTiming | None = None
        opensim_note = ""
        if measure_opensim:
            say("OpenSim ID + SO on a real cycle")
            timer = opensim_timer or (lambda: opensim_cycle_time(opensim_model=opensim_model, shared=shared))
            try:
                opensim = timer()
            except ImportError as exc:
                opensim_note = f"OpenSim not available ({exc}); install gait2hip[sim] to measure the speed-up"
        if opensim is not None:
            add_speedups(rows, opensim)
    finally:
        torch.set_num_threads(previous_threads)
    return {
        "threads": threads,
        "torch": torch.__version__,
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "matmul_gflops": peak,
        "load_average_1min": load_before,
        "rows": [asdict(r) for r in rows],
        "opensim": None if opensim is None else {**asdict(opensim), "per_cycle_s": opensim.per_cycle_s},
        "opensim_note": opensim_note,
        "pipeline": pipeline,
        "targets": {"speedup": TARGET_SPEEDUP, "latency_ms": TARGET_LATENCY_MS},
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()
