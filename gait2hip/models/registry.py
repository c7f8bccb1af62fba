"""Model registry: architectures by name, built from one JSON-able dataclass config.

Every architecture is one module holding a ``@dataclass`` config (subclass of :class:`SequenceModelConfig`)
and an ``nn.Module`` whose constructor takes that config and keeps it as ``model.config``. All models map
``x [batch, T, d_in]`` (float32) to ``[batch, T, d_out]``. Adding an architecture is one new file plus one
``register_model`` line at the bottom of this module.

Examples
--------
>>> import dataclasses
>>> from gait2hip.models import build_model
>>> model = build_model("transformer", d_in=10, d_out=14, seq_len=101)
>>> same = build_model(model.architecture, **dataclasses.asdict(model.config))
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from gait2hip.errors import Gait2HipInputError
from gait2hip.models.base import SequenceModelConfig
from gait2hip.models.constraints import ConstrainedModel, needs_wrapper
from gait2hip.models.lstm import LSTMRegressor
from gait2hip.models.mamba import MambaRegressor
from gait2hip.models.tcn import TCNRegressor
from gait2hip.models.transformer import TransformerRegressor

_REGISTRY: dict[str, type[nn.Module]] = {}


def register_model(name: str, model_class: type[nn.Module]) -> type[nn.Module]:
    """Register an architecture under ``name``.

    Parameters
    ----------
    name
        Lower-case identifier used by the CLI (``--models``), bundles and :func:`build_model`.
    model_class
        An ``nn.Module`` subclass with a class attribute ``config_class`` (a dataclass derived from
        :class:`SequenceModelConfig`) and a constructor ``model_class(config)``.

    Returns
    -------
    type
        ``model_class`` itself, with ``model_class.architecture = name`` set.
    """
    if not name or name != name.lower() or not name.replace("_", "").isalnum():
        raise ValueError(f"architecture name must be lower-case alphanumeric, got {name!r}")
    config_class = getattr(model_class, "config_class", None)
    if config_class is None or not dataclasses.is_dataclass(config_class):
        raise TypeError(f"{model_class.__name__} needs a dataclass 'config_class' attribute")
    if not issubclass(config_class, SequenceModelConfig):
        raise TypeError(f"{config_class.__name__} must derive from SequenceModelConfig")
    if name in _REGISTRY and _REGISTRY[name] is not model_class:
        raise ValueError(f"architecture {name!r} is already registered to {_REGISTRY[name].__name__}")
    model_class.architecture = name
    _REGISTRY[name] = model_class
    return model_class


def available_models() -> list[str]:
    """Names of the registered architectures, in registration order."""
    return list(_REGISTRY)


def model_class(name: str) -> type[nn.Module]:
    """The ``nn.Module`` class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise Gait2HipInputError(
            f"unknown model architecture {name!r}.",
            fix=f"choose one of: {', '.join(available_models())}.",
        ) from None


def model_config_class(name: str) -> type[SequenceModelConfig]:
    """The config dataclass of the architecture ``name`` (to list its hyper-parameters)."""
    return model_class(name).config_class


def make_config(name: str, **fields: Any) -> SequenceModelConfig:
    """Build and validate the config of ``name`` from keyword fields; unknown fields are refused."""
    config_class = model_config_class(name)
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise Gait2HipInputError(
            f"unknown hyper-parameter(s) {', '.join(unknown)} for model {name!r}.",
            column=unknown[0],
            fix=f"use only: {', '.join(sorted(known))}.",
        )
    try:
        return config_class(**fields)
    except TypeError as error:  # a required field (d_in, d_out) is missing
        raise Gait2HipInputError(
            f"cannot configure model {name!r}: {error}.", fix="pass d_in and d_out at least."
        ) from None


def build_model(name: str, **fields: Any) -> nn.Module:
    """Build the architecture ``name`` with hyper-parameters ``fields`` (defaults: the paper's).

    Parameters
    ----------
    name
        A name from :func:`available_models`.
    **fields
        Config fields; ``d_in`` and ``d_out`` are required. ``dataclasses.asdict(model.config)``
        rebuilds the same architecture.

    Returns
    -------
    torch.nn.Module
        The model, in training mode, with ``model.config`` and ``model.architecture`` set.
    """
    config = make_config(name, **fields)
    if not needs_wrapper(config):
        return model_class(name)(config)
    inner_config = dataclasses.replace(
        config,
        d_in=config.d_in * (2 if config.offset_free else 1),
        offset_free=False,
        nonnegative=(),
        output_mean=(),
        output_scale=(),
        output_prior=(),
    )
    model = ConstrainedModel(model_class(name)(inner_config), config)
    model.architecture = name
    return model


def model_spec(model: nn.Module) -> dict[str, Any]:
    """JSON-able description of a built model: architecture name, config fields, parameter count."""
    return {
        "architecture": model.architecture,
        "config": dataclasses.asdict(model.config),
        "n_parameters": count_parameters(model),
    }


def build_model_from_spec(spec: dict[str, Any]) -> nn.Module:
    """Inverse of :func:`model_spec` (the parameter count is ignored): a fresh, untrained model."""
    return build_model(spec["architecture"], **spec["config"])


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --- Built-in architectures: one line each. A new architecture is one file + one line here. ---------
register_model("lstm", LSTMRegressor)
register_model("transformer", TransformerRegressor)
register_model("mamba", MambaRegressor)
register_model("tcn", TCNRegressor)
