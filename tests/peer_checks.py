"""Checks every peer intrinsic reward must pass: a transition seen many times earns less and
less while a novel one stays high, and the state round trip is exact."""

import io

import numpy as np
import torch

from episodic_curiosity import envs

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
