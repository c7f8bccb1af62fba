"""ONNX export of model bundles, with the normalisation baked in and a parity check.

The exported graph maps joint angles to targets in the bundle's units:

    angles [batch, seq_len, D_in] (float32, bundle input units: degrees)
      → (angles − input_mean) / input_std → model → × target_std + target_mean (if any)
      → targets [batch, seq_len, D_out] (float32, bundle target units: N/kg, Nm/kg)

An ensemble bundle is exported as ONE graph holding every member (``targets`` is their mean); a
bundle with a calibrated band adds the outputs ``lower`` and ``upper`` [batch, seq_len, D_out]
(the central 90 % interval, :mod:`gait2hip.models.uncertainty`, computed in the graph: member
spread, and the OOD inflation from the PCA distance of the angle curves, also in the graph) and
``ood_ratio`` [batch] (OOD distance / threshold). So an ONNX Runtime user needs no gait2hip
code: only the column order, which the file's
metadata (``metadata_props``) records together with the units and the whole bundle
manifest (``gait2hip_manifest``, JSON). The batch dimension is dynamic; the time dimension
is fixed at ``seq_len`` (the Transformer's learned positions and any unrolled scan are built
for it; Mamba's selective scan switches itself to an export-friendly unrolled form while being
exported, see :func:`gait2hip.models.selective_scan.scan_backend`). Resample each gait cycle
to ``seq_len`` points (0–100 %) before calling it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gait2hip.models.bundle import Bundle, load_bundle

ONNX_OPSET = 18
INPUT_NAME = "angles"
OUTPUT_NAME = "targets"
BAND_OUTPUTS = ("lower", "upper", "ood_ratio")


class NormalisedModel(nn.Module):
    """A bundle's members with the input z-scoring, target de-standardisation, output offset and
    (with a band) the band limits and OOD ratio built in."""

    def __init__(self, bundle: Bundle) -> None:
        super().__init__()
        self.members = nn.ModuleList(bundle.ensemble)
        offsets = bundle.reference.get("output_offset")
        n_members, shape = len(bundle.ensemble), (bundle.seq_len, len(bundle.target_columns))
        offset = np.zeros((n_members, *shape)) if offsets is None else np.asarray(offsets)
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32))
        self.with_band = bundle.has_band and bundle.has_ood
        if self.with_band:
            ref = bundle.reference
            for key in ("band_lo", "band_hi", "band_spread", "ood_center", "ood_components", "ood_variances"):
                self.register_buffer(key, torch.tensor(np.asarray(ref[key]), dtype=torch.float32))
            self.register_buffer(
                "ood_channels", torch.tensor(np.asarray(ref["ood_channels"]), dtype=torch.long)
            )
            self.rho = float(ref["ood_residual_variance"][0])
            self.threshold = float(bundle.manifest["ood"]["threshold"])
        norm = bundle.manifest["normalisation"]
        self.register_buffer("input_mean", torch.tensor(norm["input"]["mean"], dtype=torch.float32))
        self.register_buffer("input_std", torch.tensor(norm["input"]["std"], dtype=torch.float32))
        target = norm.get("target") or {
            "mean": [0.0] * len(bundle.target_columns),
            "std": [1.0] * len(bundle.target_columns),
        }
        self.register_buffer("target_mean", torch.tensor(target["mean"], dtype=torch.float32))
        self.register_buffer("target_std", torch.tensor(target["std"], dtype=torch.float32))

    def forward(self, angles: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        z = (angles - self.input_mean) / self.input_std
        outputs = torch.stack(
            [
                member(z) * self.target_std + self.target_mean + self.offset[m]
                for m, member in enumerate(self.members)
            ]
        )
        mean = outputs.mean(dim=0)
        if not self.with_band:
            return mean
        spread = outputs.std(dim=0, unbiased=False) if len(self.members) > 1 else torch.zeros_like(mean)
        flat = angles.index_select(2, self.ood_channels).reshape(angles.shape[0], -1) - self.ood_center
        scores = flat @ self.ood_components.T
        residual = flat - scores @ self.ood_components
        distance = torch.sqrt(
            (scores**2 / self.ood_variances).sum(dim=1) + (residual**2).sum(dim=1) / self.rho
        )
        ratio = distance / self.threshold
        reference = self.band_spread
        spread_factor = torch.where(
            reference > 0, torch.clamp(spread / torch.clamp(reference, min=1e-12), min=1.0), 1.0
        )
        scale = spread_factor * torch.clamp(ratio, min=1.0)[:, None, None]
        return mean, mean + self.band_lo * scale, mean + self.band_hi * scale, ratio


def _as_bundle(bundle: Bundle | str | Path) -> Bundle:
    return bundle if isinstance(bundle, Bundle) else load_bundle(bundle)


def export_onnx(
    bundle: Bundle | str | Path,
    out: str | Path,
    *,
    opset: int = ONNX_OPSET,
    exporter: str = "auto",
) -> Path:
    """Export a bundle to ONNX with the normalisation baked in (see the module docstring).

    Parameters
    ----------
    bundle
        A loaded bundle, a bundle folder or an installed bundle name.
    out
        The ``.onnx`` file to write.
    opset
        ONNX opset (≥ 17).
    exporter
        'torchscript' (``torch.onnx.export(dynamo=False)``: fast, traces Python loops into
        an unrolled graph at ``seq_len``), 'dynamo' (``torch.export`` based), or 'auto'
        (torchscript, then dynamo if it fails).

    Returns
    -------
    Path
        The written file, with metadata_props: ``gait2hip_manifest``, ``input_columns``,
        ``input_units``, ``target_columns``, ``target_units``, ``seq_len``, ``normalisation``.
    """
    import onnx  # noqa: F401 - a missing onnx package fails here, before any export

    if exporter not in ("auto", "torchscript", "dynamo"):
        raise ValueError("exporter must be 'auto', 'torchscript' or 'dynamo'")
    if opset < 17:
        raise ValueError("opset must be ≥ 17")
    bundle = _as_bundle(bundle)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wrapper = NormalisedModel(bundle).eval()
    outputs = [OUTPUT_NAME, *(BAND_OUTPUTS if wrapper.with_band else ())]
    example = torch.zeros(2, bundle.seq_len, len(bundle.input_columns))
    attempts = ["torchscript", "dynamo"] if exporter == "auto" else [exporter]
    errors: list[str] = []
    for attempt in attempts:
        try:
            _export_graph(wrapper, example, out, outputs=outputs, opset=opset, exporter=attempt)
            break
        except Exception as exc:  # the next exporter may succeed where this one cannot
            errors.append(f"{attempt}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    else:
        raise RuntimeError(f"ONNX export of {bundle.name} failed: " + " | ".join(errors))
    _finish_file(out, bundle, outputs)
    return out


def _export_graph(
    wrapper: nn.Module, example: torch.Tensor, out: Path, *, outputs: list[str], opset: int, exporter: str
) -> None:
    """``torch.onnx.export`` with one exporter: 'torchscript' or 'dynamo' (batch axis dynamic)."""
    with warnings.catch_warnings():  # grad stays on: no fused fast path, which cannot export
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            axes = {name: {0: "batch"} for name in (INPUT_NAME, *outputs)}
            dynamic = {"dynamic_axes": axes, "dynamo": False}
        else:
            batch = torch.export.Dim("batch", min=1, max=65536)
            dynamic = {"dynamic_shapes": ({0: batch},), "dynamo": True, "verbose": False}
        torch.onnx.export(
            wrapper,
            (example,),
            str(out),
            input_names=[INPUT_NAME],
            output_names=outputs,
            opset_version=opset,
            **dynamic,
        )


def _finish_file(out: Path, bundle: Bundle, outputs: list[str]) -> None:
    """Write the metadata (manifest, columns, units, input conventions) and a doc string into the
    exported file, check it and save it as one self-contained file."""
    import onnx

    model_proto = onnx.load(str(out))
    manifest = bundle.manifest
    metadata = {
        "gait2hip_manifest": json.dumps(manifest),
        "input_columns": ",".join(bundle.input_columns),
        "input_units": ",".join(bundle.input_units),
        "target_columns": ",".join(bundle.target_columns),
        "target_units": ",".join(bundle.target_units),
        "seq_len": str(bundle.seq_len),
        "normalisation": "baked in: input is raw angles in input_units, output is targets in target_units",
        "simulated_training_data": str(bundle.simulated).lower(),
        **input_conventions(bundle.seq_len),
        "members": str(len(bundle.ensemble)),
        "outputs": ",".join(outputs),
    }
    del model_proto.metadata_props[:]
    for key, value in metadata.items():
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, value
    model_proto.producer_name = "gait2hip"
    model_proto.doc_string = (
        f"gait2hip bundle {bundle.name} ({bundle.architecture}): {INPUT_NAME} "
        f"[batch, {bundle.seq_len}, {len(bundle.input_columns)}] → {OUTPUT_NAME} "
        f"[batch, {bundle.seq_len}, {len(bundle.target_columns)}]; see metadata_props"
    )
    onnx.checker.check_model(model_proto)
    # save_model with external data off keeps one self-contained file
    onnx.save_model(model_proto, str(out), save_as_external_data=False)
    for leftover in out.parent.glob(out.name + ".data"):
        leftover.unlink()


def onnx_session(path: str | Path, *, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (sequential execution)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def input_conventions(seq_len: int) -> dict[str, str]:
    """What an ONNX file's input must be, stated in its metadata so it cannot be fed wrong data silently."""
    return {
        "angle_units": "degrees (not radians)",
        "knee_sign": "knee flexion POSITIVE (gait2392/Gait2354 IK gives it negative: negate those knees)",
        "sign_convention": "OpenSim gait-model coordinates: hip flexion, adduction, internal rotation "
        "positive; ankle dorsiflexion positive; left leg with the same anatomical signs as the right",
        "side": "predicts the RIGHT hip; for the left hip feed the angles with _r and _l columns swapped",
        "cycle_definition": "one gait cycle: heel strike to the next heel strike of the same foot (the "
        "predicted hip's leg)",
        "resampling": f"each cycle resampled (cubic spline) to {seq_len} evenly spaced points, 0-100 % "
        "of the cycle",
        "moment_convention": "INTERNAL joint moments, OpenSim inverse-dynamics sign convention (positive = "
        "moment in the coordinate's positive direction); external moments are the negative",
        "output_per_kg": "targets in N/kg or Nm/kg: multiply by body mass (kg)",
    }


def onnx_metadata(path: str | Path) -> dict[str, str]:
    """The gait2hip metadata stored in an exported file."""
    return dict(onnx_session(path).get_modelmeta().custom_metadata_map)


def onnx_parity(
    bundle: Bundle | str | Path,
    onnx_path: str | Path,
    *,
    inputs: np.ndarray | None = None,
    batch: int = 4,
    seed: int = 0,
) -> float:
    """Largest |ONNX Runtime − PyTorch| over a batch of cycles, in the bundle's target units.

    ``inputs`` default: the training mean angle curves plus noise of one training SD
    (or N(0, 30°) when the bundle has no reference), ``batch`` cycles.
    """
    bundle = _as_bundle(bundle)
    if inputs is None:
        rng = np.random.default_rng(seed)
        shape = (batch, bundle.seq_len, len(bundle.input_columns))
        if "input_mean_curve" in bundle.reference:
            mean, sd = bundle.reference["input_mean_curve"], bundle.reference["input_sd_curve"]
            inputs = mean + sd * rng.standard_normal(shape)
        else:
            inputs = 30.0 * rng.standard_normal(shape)
    inputs = np.asarray(inputs, dtype=np.float32)
    expected = bundle.predict_normalised(inputs)
    session = onnx_session(onnx_path)
    got = session.run(None, {INPUT_NAME: inputs})[0]
    return float(np.max(np.abs(got - expected)))
