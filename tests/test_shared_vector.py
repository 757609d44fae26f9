"""The shared-memory transport of the vector env: the pipe transport's results bit for bit
(auto-resets, final and raw frames, double-buffered parts), worker errors raised in the parent,
segments unlinked on close."""

import multiprocessing
import pathlib

import gymnasium as gym
import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.envs import shared_buffer, vector

SHM = pathlib.Path("/dev/shm")


def assert_same(a, b, where="") -> None:
    """Equal values, arrays bit for bit (dtype and shape too); an episode's wall time 't' may
    differ."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (where, set(a) ^ set(b))
        for key in a:
            if key != "t":
                assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b), where
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def run(scenario, transport, steps, keep_raw_obs, num_envs=3, parts=False):
    """reset() and `steps` random steps; every result kept (the buffer must not change them)."""
    factories = envs.env_factories(scenario, envs.Split.POLICY_TRAINING, range(num_envs),
                                   keep_raw_obs=keep_raw_obs)
    rng = np.random.default_rng(7)
    with envs.VecEnv(factories, num_workers=2, transport=transport) as vec:
        seen = [vec.reset()]
        split = vec.parts(2) if parts else []
        for _ in range(steps):
            actions = rng.integers(0, vec.action_space.n, num_envs)
            if split:
                for i, rows in enumerate(split):
                    vec.step_async(i, actions[rows])
                seen.append(vec.stack([r for i in range(len(split)) for r in vec.step_wait(i)]))
            else:
                seen.append(vec.step(actions))
        shared = vec._shared and sorted(vec._shared.arrays)
    return seen, shared


@pytest.mark.parametrize("scenario, keep_raw_obs, steps, parts", [
    ("doom_basic", True, 170, False),  # 75-step episodes, raw frames beside the 84x84 ones
    ("minigrid_multiroom_n2_s4", False, 300, True),  # state keys, double-buffered parts
])
def test_shared_transport_gives_the_pipe_results_bit_for_bit(scenario, keep_raw_obs, steps,
                                                             parts):
    pipe, _ = run(scenario, "pipe", steps, keep_raw_obs, parts=parts)
    shared, fields = run(scenario, "shared", steps, keep_raw_obs, parts=parts)
    assert fields == sorted(["obs", "reward", "terminated", "truncated"]
                            + (["raw_obs"] if keep_raw_obs else []))
    ends = sum(int((s[2] | s[3]).sum()) for s in pipe[1:])
    assert ends >= 3, ends  # auto-resets happened: final_obs, *_reset keys, final_raw_obs
    finals = [info for s in pipe[1:] for info in s[4] if "final_obs" in info]
    assert len(finals) == ends and all(("final_raw_obs" in i) == keep_raw_obs for i in finals)
    assert_same(pipe, shared)


class FailsOnStep(gym.Env):
    """Raises on its `fail_at`-th step."""

    observation_space = gym.spaces.Box(0, 255, (4, 4, 3), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, fail_at=3):
        self.fail_at, self.steps = fail_at, 0

    def reset(self, seed=None, options=None):
        return np.zeros((4, 4, 3), np.uint8), {}

    def step(self, action):
        self.steps += 1
        if self.steps == self.fail_at:
            raise ValueError("the env broke on purpose")
        return np.full((4, 4, 3), self.steps, np.uint8), 1.0, False, False, {}


def failing_env():
    return FailsOnStep()


def broken_factory():
    raise OSError("no engine here")


def segment_files(vec) -> list[pathlib.Path]:
    return [SHM / segment.name.lstrip("/") for segment in vec._shared.segments]


def test_a_worker_error_is_raised_in_the_parent_and_close_unlinks_the_segment():
    vec = envs.VecEnv([failing_env] * 3, num_workers=2)
    files = segment_files(vec)
    assert vec.transport == "shared" and all(f.exists() for f in files)
    obs, _ = vec.reset()
    obs, rewards, *_ = vec.step(np.zeros(3, int))
    assert obs.dtype == np.uint8 and (obs == 1).all() and rewards.tolist() == [1.0] * 3
    vec.step(np.zeros(3, int))
    with pytest.raises(RuntimeError, match="(?s)environment worker failed.*the env broke"):
        vec.step(np.zeros(3, int))
    vec.close()
    assert not any(f.exists() for f in files)
    assert all(not p.is_alive() for p in vec._procs)
    vec.close()  # twice is fine


def test_a_worker_that_cannot_start_leaves_no_process_and_no_segment(monkeypatch):
    made = []  # (other processes on the machine make segments too: count this one's)

    class Recorded(shared_buffer.shared_memory.SharedMemory):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(SHM / self.name.lstrip("/"))

    monkeypatch.setattr(shared_buffer.shared_memory, "SharedMemory", Recorded)
    with pytest.raises(RuntimeError, match="no engine here"):
        envs.VecEnv([failing_env, broken_factory], num_workers=2)
    assert not [f for f in made if f.exists()]
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_transport_is_checked_and_the_pipe_transport_has_no_segment():
    with pytest.raises(Exception, match="VecEnv.transport = 'carrier pigeon' is invalid"):
        envs.VecEnv([failing_env], num_workers=1, transport="carrier pigeon")
    with envs.VecEnv([failing_env], num_workers=1, transport="pipe") as vec:
        assert vec._shared is None and vec.shared_observations() is None
        assert vec.reset()[0].shape == (1, 4, 4, 3)
    assert vector.TRANSPORTS == ("shared", "pipe")


def test_shared_observations_are_the_buffer_and_returned_ones_are_copies():
    with envs.VecEnv([failing_env] * 2, num_workers=2) as vec:
        first, _ = vec.reset()
        view = vec.shared_observations()
        stepped = vec.step(np.zeros(2, int))[0]
        assert (first == 0).all() and (stepped == 1).all() and (view == 1).all()
        assert not np.shares_memory(stepped, view)
        assert vec.pin_shared_memory() is False  # no CUDA here: the copy path stays as it is
        files = segment_files(vec)
    assert not any(f.exists() for f in files)
    assert int(view.sum()) == view.size  # a view kept past close() still reads (no crash)


def test_the_benchmark_times_both_transports_in_one_run():
    # In a child: throughput.py defines absl flags at import, as other binaries in this suite do.
    import json
    import subprocess
    import sys
    from conftest import REPO
    code = ("import json, sys; sys.path.insert(0, 'benchmarks'); import throughput; "
            "print(json.dumps(throughput.transport_rates('minigrid_doorkey_5x5', 2, 1, 60, "
            "rounds=2)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rates = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(rates) == {"shared", "pipe"} and all(0 < r < float("inf") for r in rates.values())
