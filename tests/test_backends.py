"""Executors: the local pool and Ray give the same outputs for labelling, cohorts and the benchmark,
and a Ray worker killed mid-run loses nothing (its unit runs again, finished units are kept)."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import requires_opensim, tiny_settings
from typer.testing import CliRunner

from gait2hip.backends import Backend, LocalExecutor, Resources, drain, open_executor
from gait2hip.cli import app
from gait2hip.errors import Gait2HipInputError

HAS_RAY = importlib.util.find_spec("ray") is not None
requires_ray = pytest.mark.skipif(
    not HAS_RAY, reason="ray is not installed (pip install 'gait2hip[distributed]')"
)
RAY = Backend("ray")


def _square(x: int, *, offset: int = 0) -> int:
    return x * x + offset


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise Gait2HipInputError("three is not allowed.", fix="use another number.")
    return x


def test_backend_options_are_checked():
    with pytest.raises(Gait2HipInputError, match="unknown backend"):
        Backend("spark")
    with pytest.raises(Gait2HipInputError, match="address of a Ray cluster"):
        Backend("local", address="10.0.0.1:6379")


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_returns_every_result_with_its_index(workers):
    polled = []
    with open_executor(None, workers=workers) as executor:
        assert isinstance(executor, LocalExecutor)
        results = dict(
            executor.map_unordered(_square, [1, 2, 3], shared={"offset": 10}, poll=lambda: polled.append(1))
        )
        with executor.message_queue() as queue:
            queue.put(("a", 1))
            queue.put(("b", 2))
            assert drain(queue) == [("a", 1), ("b", 2)] and drain(queue) == []
    assert results == {0: 11, 1: 14, 2: 19} and polled


def test_resources_become_ray_options():
    assert Resources(cpus=2, memory_mb=512, gpus=1).ray_options() == {
        "num_cpus": 2, "num_gpus": 1, "memory": 512 * 1024 * 1024,
    }  # fmt: skip
    assert "memory" not in Resources().ray_options()


# ---------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_session():
    """A local Ray instance of 2 CPUs for this module (the executors use it, never shut it down)."""
    if not HAS_RAY:
        pytest.skip("ray is not installed (pip install 'gait2hip[distributed]')")
    import ray

    # this test module is not importable in Ray's workers: send its functions by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@requires_ray
def test_ray_executor_results_errors_and_a_killed_worker(ray_session, tmp_path):
    with open_executor(RAY, workers=2) as executor:
        assert dict(executor.map_unordered(_square, [1, 2, 3], shared={"offset": 1})) == {0: 2, 1: 5, 2: 10}
        # a unit's own error comes back as itself (one clear error, not a Ray traceback)
        with pytest.raises(Gait2HipInputError, match="three is not allowed"):
            list(executor.map_unordered(_fail_on_three, [1, 3]))
        marker = str(tmp_path / "killed")

        def dies_once(x: int) -> int:  # the worker process dies on the first attempt of unit 2
            if x == 2 and not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
            return x * 10

        assert dict(executor.map_unordered(dies_once, [1, 2, 3])) == {0: 10, 1: 20, 2: 30}
    assert os.path.exists(marker)
    assert ray_session.is_initialized()  # the executor used the session it found, and left it


# ---------------------------------------------------------------- labelling a manifest
@pytest.fixture(scope="module")
def manifest(tmp_path_factory, shared):
    """Two trials of the gait2392 example (its right and its left cycle)."""
    folder = shared / "opensim-examples" / "gait2392-subject01"
    table = pd.DataFrame(
        {
            "model": [str(folder / "subject01_simbody.osim")] * 2,
            "ik": [str(folder / "subject01_walk1_ik.mot")] * 2,
            "grf": [str(folder / "subject01_walk1_grf.mot")] * 2,
            "loads": [str(folder / "subject01_walk1_grf.xml")] * 2,
            "subject": ["s01", "s01"],
            "mass_kg": [72.6, 72.6],
            "trial": ["walk_right", "walk_left"],
            "start": [0.5, 1.2],
            "end": [1.9, 2.5],
        }
    )
    path = tmp_path_factory.mktemp("manifest") / "trials.csv"
    table.to_csv(path, index=False)
    return path


def _label(manifest: Path, out: Path, **kwargs):
    from gait2hip.sim.batch import label_manifest
    from gait2hip.sim.label import LabelConfig

    return label_manifest(
        manifest=manifest, out=out, config=LabelConfig(solver="fast", exclude_flagged=False), **kwargs
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _same_npz(a: Path, b: Path) -> None:
    """Same arrays, bit for bit (the zip container stamps the time of writing)."""
    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        assert x.files == y.files
        for key in x.files:
            np.testing.assert_array_equal(x[key], y[key], err_msg=key)


@requires_ray
@requires_opensim
def test_labelling_on_ray_writes_the_local_outputs_and_survives_a_killed_worker(
    ray_session, manifest, tmp_path, monkeypatch
):
    import gait2hip.sim.batch as batch

    local = _label(manifest, tmp_path / "local", jobs=1)
    assert local.labelled_now == 2 and not local.failures

    marker = str(tmp_path / "killed")

    def killed_mid_trial(spec, *, out, config):
        """In the Ray worker: the first attempt at walk_left dies with its staging folder half-written."""
        import os
        from pathlib import Path

        from gait2hip.sim import batch as real  # the worker's module: not monkeypatched

        if spec.trial == "walk_left" and not os.path.exists(marker):
            open(marker, "w").close()
            staging = Path(out) / "trials" / f".walk_left.tmp-{os.getpid()}"
            staging.mkdir(parents=True)
            (staging / "walk_left_id.sto").write_text("half")
            os._exit(1)
        return real.label_one(spec, out, config)

    monkeypatch.setattr(batch, "label_one", killed_mid_trial)
    on_ray = _label(manifest, tmp_path / "ray", jobs=2, backend=RAY)
    assert os.path.exists(marker), "the worker should have been killed once"
    assert on_ray.labelled_now == 2 and not on_ray.failures
    local_files, ray_files = _files(tmp_path / "local"), _files(tmp_path / "ray")
    assert set(local_files) == set(ray_files)  # no staging folder left, nothing missing
    npz = [name for name in local_files if name.endswith(".npz")]
    assert "dataset.npz" in npz and len(npz) == 3
    for name in local_files:
        if name.endswith(".npz"):
            _same_npz(tmp_path / "local" / name, tmp_path / "ray" / name)
        else:
            assert local_files[name] == ray_files[name], name

    # resume on Ray, from the command line: nothing recomputed
    monkeypatch.setattr(batch, "label_one", lambda *a, **k: pytest.fail("a finished trial was relabelled"))
    again = CliRunner().invoke(
        app, ["label", "--manifest", str(manifest), "--out", str(tmp_path / "ray"), "--backend", "ray"]
    )
    assert again.exit_code == 0 and "2 already done, 0 labelled now" in again.output, again.output


def test_backend_options_on_the_command_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["label", "--out", str(tmp_path), "--address", "10.0.0.1:6379"])
    assert result.exit_code == 2 and "add --backend ray" in result.output
    result = runner.invoke(app, ["benchmark", "--out", str(tmp_path / "b"), "--address", "auto"])
    assert result.exit_code == 2 and "add --backend ray" in result.output
    result = runner.invoke(
        app, ["simulate", "cohort", "--out", str(tmp_path / "c.npz"), "--backend", "spark"]
    )
    assert result.exit_code == 2 and "spark" in result.output
    one_trial = ["label", "--out", str(tmp_path), "--model", "m.osim", "--ik", "t.mot", "--loads", "l.xml"]
    result = runner.invoke(app, [*one_trial, "--backend", "ray"])
    assert result.exit_code == 2 and "runs the trials of a manifest" in result.output


# ---------------------------------------------------------------- a virtual cohort
@requires_ray
@requires_opensim
@pytest.mark.slow
def test_cohort_on_ray_has_the_local_arrays(ray_session, shared, tmp_path):
    from gait2hip.sim.cohort import simulate_cohort

    args = dict(n_subjects=0, n_patients=2, n_trials=1, seed=5, solver="fast", shared=shared)
    local = simulate_cohort(out=tmp_path / "local.npz", jobs=1, **args)
    on_ray = simulate_cohort(out=tmp_path / "ray.npz", jobs=2, backend=RAY, **args)
    assert len(local) >= 1 and list(on_ray.meta["subject_id"]) == list(local.meta["subject_id"])
    for subject in ("P01", "P02"):
        with (
            np.load(tmp_path / "local.work" / "subjects" / f"{subject}.npz") as a,
            np.load(tmp_path / "ray.work" / "subjects" / f"{subject}.npz") as b,
        ):
            for key in ("X", "Y", "GRF", "meta_json", "excluded_json", "plan_json", "solver"):
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{subject} {key}")
    np.testing.assert_array_equal(on_ray.X, local.X)
    np.testing.assert_array_equal(on_ray.Y, local.Y)
    pd.testing.assert_frame_equal(on_ray.meta, local.meta)


# ---------------------------------------------------------------- a benchmark
@requires_ray
@pytest.mark.slow
def test_benchmark_on_ray_gives_the_local_metrics(ray_session, finished_run, tiny_data, tmp_path):
    from gait2hip.bench.benchmark import run_benchmark

    key = ["protocol", "model", "target", "cohort", "cadence", "seed"]
    out = tmp_path / "ray"
    run_benchmark(out=out, settings=tiny_settings(tiny_data, workers=2), shared=None, backend=RAY)
    local = pd.read_csv(finished_run / "metrics.csv").sort_values(key).reset_index(drop=True)
    on_ray = pd.read_csv(out / "metrics.csv").sort_values(key).reset_index(drop=True)
    assert len(local) == len(on_ray) > 0
    pd.testing.assert_frame_equal(local[key], on_ray[key])
    numbers = [c for c in local.columns if c not in key and local[c].dtype.kind == "f"]
    np.testing.assert_allclose(on_ray[numbers].to_numpy(), local[numbers].to_numpy(), rtol=0, atol=1e-6)
    assert sorted(p.name for p in (out / "units").iterdir()) == sorted(
        p.name for p in (finished_run / "units").iterdir()
    )


@requires_ray
@requires_opensim
@pytest.mark.slow
def test_a_killed_ray_driver_resumes_without_relabelling(
    ray_session, manifest, tmp_path, shared, monkeypatch
):
    """``gait2hip label --backend ray`` killed (with its local Ray instance) after the first trial."""
    import signal
    import subprocess
    import time

    import gait2hip.sim.batch as batch

    out = tmp_path / "out"
    command = [sys.executable, "-m", "gait2hip.cli", "label", "--manifest", str(manifest), "--out", str(out)]
    env = dict(os.environ, GAIT2HIP_SHARED=str(shared))
    process = subprocess.Popen(
        [*command, "--backend", "ray", "--jobs", "1", "--solver", "fast", "--keep-flagged"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 120
    while not (out / "trials" / "walk_right").is_dir() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the driver and the Ray instance it started
    process.wait()
    assert (out / "trials" / "walk_right").is_dir() and not (out / "dataset.npz").exists()

    labelled = []
    real = batch.label_one

    def counting(spec, *, out, config):  # runs in the driver's process: the counting is local
        labelled.append(spec.trial)
        return real(spec, out, config)

    monkeypatch.setattr(batch, "label_one", counting)
    resumed = _label(manifest, out, jobs=1)  # resumed with the local backend: same folder format
    assert resumed.done_before >= 1 and set(labelled) <= {"walk_left"}
    reference = _label(manifest, tmp_path / "reference", jobs=1)
    for name in ("trials/walk_right/walk_right_id.sto", "trials/walk_left/walk_left_so_force.sto", "qa.csv"):
        assert (out / name).read_bytes() == (tmp_path / "reference" / name).read_bytes(), name
    np.testing.assert_array_equal(resumed.dataset.Y, reference.dataset.Y)


def test_a_unit_training_on_cuda_asks_ray_for_a_gpu(tiny_data):
    from gait2hip.bench.runner import unit_resources
    from gait2hip.commands.benchmark import runtime_from_environment
    from gait2hip.train.protocols import Runtime

    settings = tiny_settings(tiny_data)
    assert unit_resources(settings).gpus == 0 and unit_resources(settings).cpus == 1
    on_gpu = replace(settings, runtime=Runtime(threads=2, workers=1, device="cuda"))
    assert unit_resources(on_gpu).ray_options()["num_gpus"] == 1
    assert unit_resources(on_gpu).ray_options()["num_cpus"] == 2
    # on a cluster the GPU is on a worker node: the driver does not look for one on itself
    assert runtime_from_environment("cuda", check_device=False).device == "cuda"
