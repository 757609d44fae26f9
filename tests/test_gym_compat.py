"""Our envs as other libraries see them: gymnasium's own env checker on every scenario that can be
built here, and Stable-Baselines3's PPO training on one (SB3 is a test-only dependency)."""

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from episodic_curiosity import envs

MAZES = {"sparse", "verysparse", "noreward", "norewardnofire", "sparseplusdoors", "dense1",
         "dense2"}
# check_env builds the env three times and resets it about ten times: ~10 s per maze here, and
# as much for MiniGrid's N12-S10 (room placement retries, ~0.3 s a reset).
SLOW = MAZES | {"minigrid_multiroom_n12_s10", "minigrid_multiroom_n12_s10_rgb"}
SCENARIOS = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
             for n in envs.names(available_only=True)]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_gymnasium_check_env(scenario):
    env = envs.make_env(scenario, envs.Split.POLICY_TRAINING, 0)
    assert env.spec is not None and env.spec.id == f"EpisodicCuriosity/{scenario}-v0"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)  # with a spec: reset/step determinism, spec.make() and close checks too
    env.close()
    # The one expected remark: we check the env as the trainer builds it, wrappers included.
    # ResourceWarnings are other tests' sockets collected meanwhile, not this env's.
    remarks = [str(w.message) for w in caught if "different from the unwrapped" not in
               str(w.message) and not issubclass(w.category, ResourceWarning)]
    assert not remarks, remarks


def test_episode_statistics_carry_gymnasiums_keys_beside_ours():
    env = envs.make_env("doom_basic", envs.Split.TEST, 0)
    env.reset(seed=1)
    done, info = False, {}
    while not done:
        _, _, terminated, truncated, info = env.step(0)
        done = terminated or truncated
    episode = info["episode"]
    assert episode["r"] == episode["return"] and episode["l"] == episode["length"] == 75
    assert episode["t"] > 0 and {"cells_visited", "distance_travelled"} <= set(episode)
    env.close()


def test_stable_baselines3_ppo_trains_on_a_scenario():
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    # No Monitor wrapper: SB3 reads our own info["episode"] (it needs "r" and "l").
    vec = DummyVecEnv([lambda: envs.make_env("doom_basic", envs.Split.POLICY_TRAINING, 0)])
    model = PPO("CnnPolicy", vec, n_steps=96, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=192)
    assert model.num_timesteps == 192
    assert len(model.ep_info_buffer) >= 2  # episodes of at most 75 steps ended
    assert all(np.isfinite(e["r"]) and 0 < e["l"] <= 75 and "cells_visited" in e
               for e in model.ep_info_buffer)
    vec.close()
