"""Sequence models mapping joint-angle cycles ``[batch, T, d_in]`` to hip outputs ``[batch, T, d_out]``.

Use the registry::

    from gait2hip.models import build_model, available_models
    model = build_model("mamba", d_in=10, d_out=14, seq_len=101)

Architectures: ``lstm``, ``transformer``, ``mamba`` (the Gait2Hip-60 baselines, paper defaults) and
``tcn`` (a dilated temporal CNN, registered with one line to show how a fourth is added).
"""

from gait2hip.models.base import SequenceModelConfig, check_model_input
from gait2hip.models.registry import (
    available_models,
    build_model,
    build_model_from_spec,
    count_parameters,
    make_config,
    model_class,
    model_config_class,
    model_spec,
    register_model,
)

__all__ = [
    "SequenceModelConfig",
    "available_models",
    "build_model",
    "build_model_from_spec",
    "check_model_input",
    "count_parameters",
    "make_config",
    "model_class",
    "model_config_class",
    "model_spec",
    "register_model",
]
