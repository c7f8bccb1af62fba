"""Registry: names, build from config, round trip through asdict/spec, errors, adding an architecture."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from gait2hip.errors import Gait2HipInputError
from gait2hip.models import (
    SequenceModelConfig,
    available_models,
    build_model,
    build_model_from_spec,
    model_config_class,
    model_spec,
    register_model,
)
from gait2hip.models import registry as registry_module

torch.set_num_threads(1)


def test_builtin_architectures_registered():
    assert available_models()[:4] == ["lstm", "transformer", "mamba", "tcn"]


def test_paper_defaults():
    lstm = build_model("lstm", d_in=10, d_out=14).config
    assert (lstm.hidden_size, lstm.num_layers, lstm.bidirectional) == (128, 2, False)
    tr = build_model("transformer", d_in=10, d_out=14, seq_len=180)
    c = tr.config
    assert (c.d_model, c.n_heads, c.n_layers, c.dim_feedforward, c.dropout) == (128, 4, 2, 256, 0.1)
    # learned positional embedding over seq_len positions
    assert isinstance(tr.pos_embed, nn.Embedding) and tr.pos_embed.num_embeddings == 180
    m = build_model("mamba", d_in=10, d_out=3).config
    assert (m.d_model, m.d_state, m.d_conv, m.expand, m.n_layers) == (128, 16, 4, 2, 2)


@pytest.mark.parametrize("name", ["lstm", "transformer", "mamba", "tcn"])
def test_round_trip_from_config_rebuilds_same_architecture(name):
    torch.manual_seed(0)
    model = build_model(name, d_in=10, d_out=3, seq_len=40)
    config = dataclasses.asdict(model.config)
    json.dumps(config)  # JSON-able for bundles
    twin = build_model(name, **config)
    assert twin.config == model.config
    twin.load_state_dict(model.state_dict())  # same parameter names and shapes
    model.eval(), twin.eval()
    x = torch.randn(2, 40, 10)
    torch.testing.assert_close(twin(x), model(x))
    spec = json.loads(json.dumps(model_spec(model)))
    assert spec["architecture"] == name and spec["n_parameters"] > 0
    assert build_model_from_spec(spec).config == model.config


def test_unknown_name_and_field_are_clear_errors():
    with pytest.raises(Gait2HipInputError, match="choose one of: lstm"):
        build_model("gru", d_in=10, d_out=3)
    with pytest.raises(Gait2HipInputError, match="hidden_units"):
        build_model("lstm", d_in=10, d_out=3, hidden_units=5)
    with pytest.raises(Gait2HipInputError, match="d_in and d_out"):
        build_model("lstm", d_in=10)
    with pytest.raises(Gait2HipInputError, match="n_heads"):
        build_model("transformer", d_in=10, d_out=3, d_model=30, n_heads=4)
    with pytest.raises(Gait2HipInputError, match="dropout"):
        build_model("mamba", d_in=10, d_out=3, dropout=1.5)
    with pytest.raises(Gait2HipInputError, match="integer"):
        build_model("lstm", d_in=10.0, d_out=3)


def test_config_class_lists_hyperparameters():
    fields = {f.name for f in dataclasses.fields(model_config_class("mamba"))}
    assert {"d_in", "d_out", "seq_len", "d_model", "d_state", "bidirectional"} <= fields


def test_fourth_architecture_is_one_class_and_one_line(monkeypatch):
    """What tcn.py shows: a config dataclass + an nn.Module + one register_model line."""
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))

    @dataclasses.dataclass(kw_only=True)
    class FrameMLPConfig(SequenceModelConfig):
        hidden: int = 32

    class FrameMLP(nn.Module):
        config_class = FrameMLPConfig

        def __init__(self, config):
            super().__init__()
            self.config = config
            self.net = nn.Sequential(
                nn.Linear(config.d_in, config.hidden), nn.GELU(), nn.Linear(config.hidden, config.d_out)
            )

        def forward(self, x):
            return self.net(x)

    register_model("framemlp", FrameMLP)
    assert "framemlp" in available_models()
    model = build_model("framemlp", d_in=10, d_out=3, hidden=8)
    assert model.architecture == "framemlp"
    assert model(torch.randn(2, 7, 10)).shape == (2, 7, 3)
    with pytest.raises(ValueError, match="already registered"):
        register_model("framemlp", type("Other", (FrameMLP,), {}))


def test_tcn_is_registered_by_one_line():
    text = Path(registry_module.__file__).read_text(encoding="utf-8")
    assert text.count('register_model("tcn", TCNRegressor)') == 1
