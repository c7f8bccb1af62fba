"""The training loop: determinism, early stopping, fixed-epoch retraining, normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gait2hip.models import build_model
from gait2hip.train.loop import TrainConfig, predict, train_model
from gait2hip.train.normalize import Standardizer

torch.set_num_threads(1)


def _data(seed: int = 0, n: int = 24, t: int = 21):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, 10)).astype(np.float32)
    Y = np.stack([X[..., 0] * 2 + X[..., 3], np.sin(X[..., 1])], axis=-1).astype(np.float32)
    return X, Y


def _builder():
    return build_model("lstm", d_in=10, d_out=2, seq_len=21, hidden_size=8, num_layers=1)


def test_same_seed_same_metrics_different_seed_differs():
    X, Y = _data()
    config = TrainConfig(lr=1e-2, batch_size=8, max_epochs=3, seed=7)
    a = train_model(_builder, X, Y, config=config, epochs=3)
    b = train_model(_builder, X, Y, config=config, epochs=3)
    c = train_model(_builder, X, Y, config=TrainConfig(lr=1e-2, batch_size=8, max_epochs=3, seed=8), epochs=3)
    pa, pb, pc = predict(a.model, X), predict(b.model, X), predict(c.model, X)
    rmse = [float(np.sqrt(np.mean((p - Y) ** 2))) for p in (pa, pb, pc)]
    assert abs(rmse[0] - rmse[1]) < 1e-6
    np.testing.assert_allclose(pa, pb, atol=1e-6)
    assert abs(rmse[0] - rmse[2]) > 1e-6
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]


def test_training_reduces_the_loss():
    X, Y = _data()
    result = train_model(_builder, X, Y, config=TrainConfig(lr=1e-2, batch_size=8, seed=0), epochs=15)
    assert result.history[-1]["train_loss"] < 0.5 * result.history[0]["train_loss"]
    assert result.best_epoch == result.epochs_run == 15
    assert np.isnan(result.best_val_loss)


def test_early_stopping_restores_the_best_epoch():
    X, Y = _data()
    Xv, Yv = _data(seed=1, n=8)
    config = TrainConfig(lr=5e-2, batch_size=8, max_epochs=40, patience=3, seed=0)
    result = train_model(_builder, X, Y, X_val=Xv, Y_val=Yv, config=config)
    losses = [h["val_loss"] for h in result.history]
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.best_val_loss == pytest.approx(min(losses))
    assert result.epochs_run <= result.best_epoch + config.patience
    restored = float(np.mean((predict(result.model, Xv) - Yv) ** 2))
    assert restored == pytest.approx(result.best_val_loss, rel=1e-5)


def test_cosine_schedule_decays_to_zero():
    X, Y = _data(n=16)
    config = TrainConfig(lr=1e-2, batch_size=8, schedule="cosine", warmup_epochs=1, seed=0)
    result = train_model(_builder, X, Y, config=config, epochs=4)
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] == pytest.approx(1e-2)  # end of warm-up
    assert lrs[-1] == pytest.approx(0.0, abs=1e-9)
    assert lrs == sorted(lrs, reverse=True)


def test_invalid_settings_are_refused():
    X, Y = _data(n=4)
    with pytest.raises(ValueError):
        TrainConfig(schedule="linear")
    with pytest.raises(ValueError):
        train_model(_builder, X, Y, X_val=X, Y_val=Y, epochs=2, config=TrainConfig())


def test_standardizer_uses_training_statistics():
    X, _ = _data()
    norm = Standardizer.fit(X * 3 + 5)
    z = norm.transform(X * 3 + 5)
    np.testing.assert_allclose(z.reshape(-1, 10).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.reshape(-1, 10).std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(norm.inverse(z), X * 3 + 5, atol=1e-4)
    assert norm.eps == 1e-8
    identity = Standardizer.identity(2)
    np.testing.assert_array_equal(identity.transform(np.ones((1, 2, 2))), np.ones((1, 2, 2)))


def test_auto_device_on_a_cpu_only_machine_trains_exactly_as_cpu():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 'auto' would train there")
    X, Y = _data()
    runs = [
        train_model(_builder, X, Y, config=TrainConfig(seed=3, lr=1e-3, device=device), epochs=3)
        for device in ("cpu", "auto")
    ]
    assert next(runs[1].model.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(predict(runs[0].model, X), predict(runs[1].model, X))


def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    X, Y = _data()
    with pytest.raises(ValueError, match="no CUDA GPU"):
        train_model(_builder, X, Y, config=TrainConfig(device="cuda"), epochs=1)
    with pytest.raises(ValueError, match="device must be"):
        TrainConfig(device="tpu")


def _assert_same_history(a: list[dict], b: list[dict]) -> None:
    """Epoch records equal, NaN validation losses (no validation set) included."""
    assert [h.keys() for h in a] == [h.keys() for h in b]
    for key in a[0]:
        np.testing.assert_array_equal([h[key] for h in a], [h[key] for h in b])


class _KillAfter:
    """A progress stand-in that kills the run (as Ctrl-C or a lost machine would) after N epochs."""

    def __init__(self, epochs: int) -> None:
        self.epochs, self.seen = epochs, 0

    def add_task(self, description, total, **fields):
        self.seen = fields.get("completed", 0)
        return 0

    def update(self, task, advance=0, **kwargs):
        self.seen += advance
        if advance and self.seen >= self.epochs:
            raise KeyboardInterrupt


@pytest.mark.parametrize("validating", [False, True])
def test_a_killed_run_resumes_from_its_checkpoint_to_the_same_weights(tmp_path, validating):
    X, Y = _data()
    Xv, Yv = _data(seed=1, n=8)
    config = TrainConfig(lr=5e-2, batch_size=8, max_epochs=12, patience=4, seed=3)
    kwargs = {"X_val": Xv, "Y_val": Yv} if validating else {"epochs": 12}
    # a Transformer has dropout, so the restored global random state matters too
    build = lambda: build_model("transformer", d_in=10, d_out=2, seq_len=21, d_model=16, n_heads=2)  # noqa: E731
    whole = train_model(build, X, Y, config=config, **kwargs)

    checkpoint = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train_model(
            build,
            X,
            Y,
            config=config,
            progress=_KillAfter(5),
            checkpoint=checkpoint,
            checkpoint_seconds=0,
            **kwargs,
        )
    assert checkpoint.exists()
    resumed = train_model(build, X, Y, config=config, checkpoint=checkpoint, **kwargs)
    assert not checkpoint.exists()  # removed once the run has ended
    _assert_same_history(resumed.history, whole.history)
    assert resumed.best_epoch == whole.best_epoch
    for name, value in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value, rtol=0, atol=0)


def test_a_checkpoint_of_other_settings_or_data_is_ignored(tmp_path):
    X, Y = _data()
    config = TrainConfig(lr=1e-2, batch_size=8, max_epochs=4, seed=0)
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train_model(
            _builder,
            X,
            Y,
            config=config,
            epochs=4,
            progress=_KillAfter(2),
            checkpoint=checkpoint,
            checkpoint_seconds=0,
        )
    fresh = train_model(_builder, X * 2, Y, config=config, epochs=4)
    other_data = train_model(_builder, X * 2, Y, config=config, epochs=4, checkpoint=checkpoint)
    _assert_same_history(other_data.history, fresh.history)
    checkpoint.write_bytes(b"not a checkpoint")  # e.g. truncated by a full disk
    again = train_model(_builder, X * 2, Y, config=config, epochs=4, checkpoint=checkpoint)
    _assert_same_history(again.history, fresh.history)
