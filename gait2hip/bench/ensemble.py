"""Cost of the ensemble and band at inference: single-cycle latency, ONNX Runtime and PyTorch.

For M members, an M-member copy of a bundle (its band kept) is exported as ONE ONNX graph
(:mod:`gait2hip.models.onnx`: every member, the band and the OOD ratio in the graph) and timed
on one cycle at T = seq_len with ``threads`` intra-op threads; the PyTorch time is
:meth:`~gait2hip.models.bundle.Bundle.predict_members` (band arithmetic excluded). The members of
the copy share weights, which does not change the arithmetic, hence the timing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gait2hip.bench.speed import latency_ms
from gait2hip.models.bundle import Bundle, load_bundle


def _perturbed(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    copy = deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in copy.parameters():
            p.add_(1e-4 * p.abs().mean() * torch.randn(p.shape, generator=generator))
    return copy


def ensemble_latency(
    bundle: Bundle, *, members: Sequence[int] = (1, 3, 5), threads: int = 2, max_seconds: float = 2.0
) -> list[dict[str, Any]]:
    """One row per member count: ONNX Runtime and PyTorch p50/p95 latency of one cycle (ms)."""
    from gait2hip.models.bundle import save_bundle
    from gait2hip.models.ensemble import spec_from_bundle
    from gait2hip.models.onnx import INPUT_NAME, export_onnx, onnx_session

    torch.set_num_threads(threads)
    x = np.asarray(bundle.reference.get("input_mean_curve"), dtype=np.float32)[None]
    rows = []
    with tempfile.TemporaryDirectory(prefix="gait2hip-ensemble-") as tmp:
        for m in members:
            folder = Path(tmp) / f"m{m}"
            copies = [_perturbed(bundle.model, seed) for seed in range(1, m)]
            combined = load_bundle(save_bundle(folder, spec_from_bundle(bundle, members=copies)))
            path = export_onnx(combined, Path(tmp) / f"m{m}.onnx")
            session = onnx_session(path, threads=threads)
            onnx_p50, onnx_p95, _ = latency_ms(
                lambda s=session: s.run(None, {INPUT_NAME: x}), max_seconds=max_seconds
            )
            torch_p50, torch_p95, _ = latency_ms(
                lambda c=combined: c.predict_members(x), max_seconds=max_seconds
            )
            rows.append(
                {
                    "members": m,
                    "band_in_graph": bool(combined.has_band),
                    "seq_len": combined.seq_len,
                    "threads": threads,
                    "onnx_p50_ms": onnx_p50,
                    "onnx_p95_ms": onnx_p95,
                    "torch_p50_ms": torch_p50,
                    "torch_p95_ms": torch_p95,
                    "onnx_mb": path.stat().st_size / 1e6,
                }
            )
    return rows
