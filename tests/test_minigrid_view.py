"""The fast MiniGrid view and state key equal minigrid's own, step for step, on every task."""

import numpy as np
import pytest
from minigrid.minigrid_env import MiniGridEnv

from episodic_curiosity import envs
from episodic_curiosity.envs import minigrid, minigrid_view, registry

TASKS = sorted({env_id: (env_id, kwargs) for _, env_id, kwargs, _ in registry._MINIGRID}
               .values(), key=str)
# Random actions, with pickup / drop / toggle (3, 4, 5) as often as moves, so that doors open,
# keys are carried and dropped, boxes give up their contents and the NoisyTV ball changes.
ACTION_WEIGHTS = np.array([1, 1, 2, 1.5, 1.5, 1.5, 0.1]) / 8.6


@pytest.mark.parametrize("env_id,kwargs", TASKS, ids=[t[0] for t in TASKS])
def test_views_and_keys_equal_minigrids_over_random_episodes(env_id, kwargs):
    env = minigrid.make_raw(env_id, kwargs)
    cache = minigrid_view.install(env)
    rng = np.random.default_rng(0)
    changes = 0
    for episode in range(6):
        env.reset(seed=episode)
        for _ in range(300):
            reference = MiniGridEnv.gen_obs(env)["image"]  # minigrid's own code
            np.testing.assert_array_equal(cache.view(), reference)
            assert cache.state_key() == minigrid.state_fingerprint(env)
            before = env.grid.encode()
            _, _, terminated, truncated, _ = env.step(int(rng.choice(7, p=ACTION_WEIGHTS)))
            changes += not np.array_equal(before, env.grid.encode())
            np.testing.assert_array_equal(cache.grid_codes, env.grid.encode())
            if terminated or truncated:
                break
    # MultiRoom's doors open without changing much; Memory's objects can be neither picked up
    # nor toggled (MemoryEnv turns pickup into toggle): nothing there changes the grid.
    static = ("MiniGrid-MultiRoom", "MiniGrid-Memory")
    assert changes > 0 or env_id.startswith(static), "no step changed the grid"


def test_minigrids_step_and_reset_return_the_fast_view():
    env = minigrid.make_raw("MiniGrid-DoorKey-8x8-v0", {})
    minigrid_view.install(env)
    obs, _ = env.reset(seed=3)
    np.testing.assert_array_equal(obs["image"], MiniGridEnv.gen_obs(env)["image"])
    obs, *_ = env.step(2)
    np.testing.assert_array_equal(obs["image"], MiniGridEnv.gen_obs(env)["image"])
    assert obs["direction"] == env.agent_dir and obs["mission"] == env.mission


def test_layout_fingerprint_is_minigrids_full_encoding():
    env = envs.get("minigrid_doorkey_8x8").build(12345)
    env.reset()
    raw = env.unwrapped_minigrid
    assert env.layout_fingerprint() == minigrid._fingerprint(
        raw.grid.encode(), raw.agent_pos, [raw.agent_dir])
