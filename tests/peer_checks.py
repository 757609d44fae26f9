"""Checks every peer intrinsic reward must pass: a transition seen many times earns less and
less while a novel one stays high, and the state round trip is exact."""

import csv
import io

import gin
import numpy as np
import pytest
import torch

from conftest import run_launcher
from episodic_curiosity import configuration, envs
from episodic_curiosity.launch import methods

NUM_ENVS = 4


def frames(seed: int, size: int = 84, channels: int = 3) -> np.ndarray:
    """NUM_ENVS copies of one random image with coarse blocks (a 'place')."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 12, size // 12, channels))
    image = np.kron(small, np.ones((12, 12, 1))).astype(np.uint8)
    return np.repeat(image[None], NUM_ENVS, 0)


def bonus(module, obs, next_obs, action: int) -> float:
    no = np.zeros(NUM_ENVS, bool)
    value = module.compute(obs, np.full(NUM_ENVS, action), next_obs, no, no,
                           [{} for _ in range(NUM_ENVS)])
    return float(np.mean(value))


def familiar_falls_novel_stays(make, updates: int = 40, steps: int = 8):
    """Returns (familiar bonus before, familiar after, novel after)."""
    torch.manual_seed(0)
    module = make()
    a, a_next, b, b_next = (frames(s) for s in range(4))
    if module.warmup_env_steps:
        for obs in (a, a_next, b, b_next):
            module.warmup(obs)
    before = bonus(module, a, a_next, 0)
    for _ in range(updates):
        for _ in range(steps):
            bonus(module, a, a_next, 0)
        module.update(0)
    module.stats()
    after = bonus(module, a, a_next, 0)
    novel = bonus(module, b, b_next, 1)
    return before, after, novel


def through_a_file(state):
    """The state as a checkpoint gives it back: saved and loaded (no tensor shared)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


def round_trip_is_exact(make):
    """A module restored from another's state gives identical bonuses on the same inputs."""
    torch.manual_seed(0)
    trained = make()
    a, a_next = frames(0), frames(1)
    if trained.warmup_env_steps:
        trained.warmup(a)
    for _ in range(3):
        bonus(trained, a, a_next, 0)
        trained.update(0)
    torch.manual_seed(1)
    fresh = make()
    fresh.load_state_dict(through_a_file(trained.state_dict()))
    b, b_next = frames(2), frames(3)
    assert bonus(fresh, b, b_next, 1) == bonus(trained, b, b_next, 1)
    bonus(fresh, b, b_next, 1)  # and training continues identically
    bonus(trained, b, b_next, 1)
    torch.manual_seed(2)
    fresh.update(0)
    torch.manual_seed(2)
    trained.update(0)
    assert bonus(fresh, a, a_next, 0) == bonus(trained, a, a_next, 0)


def scenario(name: str = "doom_basic"):
    return envs.get(name)


def round_trip_is_exact_on_episodes(make, transitions, warmup: int = 0, train: bool = True):
    """As round_trip_is_exact on real episodes (`transitions`: the reset's (obs, infos), then
    compute's arguments; long enough that episodes end and restart): a module restored after
    100 steps scores the rest identically, and trains on identically. The later bonuses."""
    torch.manual_seed(1)
    original = make()
    original.begin(*transitions[0])
    for obs, *_ in transitions[1:1 + warmup]:
        original.warmup(obs)
    for t in transitions[1:101]:
        original.compute(*t)
    if train:
        original.update(100)
    torch.manual_seed(2)  # other weights and statistics: all must come from the state
    restored = make()
    restored.load_state_dict(through_a_file(original.state_dict()))
    later = []
    for t in transitions[101:]:
        later.append(original.compute(*t))
        np.testing.assert_array_equal(later[-1], restored.compute(*t))
    if train:
        for module in (original, restored):
            torch.manual_seed(3)  # any random draw of the update: the global RNG, checkpointed
            module.update(200)
        np.testing.assert_array_equal(original.compute(*transitions[-1]),
                                      restored.compute(*transitions[-1]))
    return np.concatenate(later)


def launcher_progress(workdir, method, bindings=(), scenario="minigrid_doorkey_5x5"):
    """A `--preset=tiny` run of `method` from the launcher: its run directory and progress.csv
    rows."""
    result = run_launcher(f"--method={method}", f"--scenario={scenario}", "--preset=tiny",
                          f"--workdir={workdir}", *[f"--gin_bindings={b}" for b in bindings])
    assert result.returncode == 0, result.stderr[-3000:]
    run = workdir / method / scenario / "run_number_0"
    with open(run / "progress.csv", newline="") as f:
        return run, list(csv.DictReader(f))


# VizDoom from the launcher in about 30 s on the busy 2-core machine: doom_basic's 75-step
# episodes keep the step-0 and final evaluations (one episode per split) short and end training
# episodes; 2 updates of 4 envs x 32 steps. doom_dense's 525-step evaluations alone took 25 s.
DOOM_SHORT = ["train_policy.total_steps = 256", "PPOConfig.num_steps = 32",
              "train_policy.eval_envs = 1"]


def doom_launcher_run(workdir, method, reward_class, bindings=()):
    """A `--preset=tiny` run of `method` on doom_basic: the run directory holds its CSVs and a
    checkpoint of `reward_class`, and every progress row has each of its `intrinsic_*` stats.
    Returns (run directory, progress rows) for the method's own checks."""
    from episodic_curiosity import checkpoint
    run, rows = launcher_progress(workdir, method, [*DOOM_SHORT, *bindings], "doom_basic")
    for name in ("config.gin", "reward_train.csv", "reward_valid.csv", "reward_test.csv"):
        assert (run / name).is_file(), name
    assert [int(r["step"]) for r in rows] == [128, 256]
    for column in (f"intrinsic_{stat}" for stat in reward_class.stat_names):
        assert all(np.isfinite(float(r[column])) for r in rows), column
    saved = checkpoint.load_latest(run / "checkpoints")
    assert saved["step"] == 256 and saved["meta"]["intrinsic_reward"] == reward_class.__name__
    return run, rows


@pytest.fixture
def one_thread_and_clean_gin():
    """For modules that build rewards from gin: one torch thread, no gin left behind (use it
    with `pytestmark = pytest.mark.usefixtures(...)` after importing it)."""
    torch.set_num_threads(1)
    gin.clear_config()
    yield
    gin.clear_config()


def build(method, scenario, num_envs=NUM_ENVS, bindings=(), **kwargs):
    """`method`'s intrinsic reward on `scenario`, configured by the method's gin files."""
    configuration.parse(methods.get(method).gin_files, list(bindings))
    reward = configuration.query("train_policy.intrinsic_reward", None)
    return reward.scoped_configurable_fn(num_envs=num_envs, scenario=envs.get(scenario),
                                         device=torch.device("cpu"), **kwargs)

