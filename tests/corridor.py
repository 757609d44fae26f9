"""A tiny sparse-reward task for learning tests, registered only by the tests that use it.

A corridor of `length` cells seen from above as a 36x36 image (the agent a bright block, its
cell's column): actions left / right / stay, the agent starts at the left end, +1 and the end
of the episode at the right end, `2 * length` steps allowed. A uniform random policy reaches
the goal in about 0.3% of episodes, so PPO without a bonus almost never sees the reward.
"""

import functools

import gymnasium as gym
import numpy as np

from episodic_curiosity import envs
from episodic_curiosity.envs import registry

SIZE = 36


class Corridor(gym.Env):
    def __init__(self, seed: int, length: int = 12):
        self.length, self.limit = length, 2 * length
        self.observation_space = gym.spaces.Box(0, 255, (SIZE, SIZE, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(3)
        self.pos = self.steps = 0

    def _obs(self):
        frame = np.zeros((SIZE, SIZE, 3), np.uint8)
        cell = SIZE // self.length
        frame[:, self.pos * cell:(self.pos + 1) * cell] = 255
        return frame

    def _info(self):
        return {"agent_xy": (float(self.pos), 0.0)}

    def reset(self, *, seed=None, options=None):
        self.pos = self.steps = 0
        return self._obs(), self._info()

    def step(self, action):
        self.pos = int(np.clip(self.pos + (-1, 1, 0)[int(action)], 0, self.length - 1))
        self.steps += 1
        success = self.pos == self.length - 1
        return (self._obs(), float(success), success, self.steps >= self.limit and not success,
                self._info())


def register(name: str = "test_corridor", length: int = 12) -> str:
    if name not in registry.names():
        registry.register(registry.Scenario(
            name=name, engine="test", num_actions=3, episode_steps=2 * length,
            description="test-only sparse corridor",
            build=functools.partial(Corridor, length=length), oracle_cell=1.0))
    return name


def random_success_rate(name: str, episodes: int = 2000) -> float:
    env = envs.make_env(name, envs.Split.VALIDATION, 0, SIZE)
    rng, wins = np.random.default_rng(0), 0
    for _ in range(episodes):
        env.reset()
        while True:
            _, reward, terminated, truncated, _ = env.step(rng.integers(3))
            if terminated or truncated:
                wins += reward > 0
                break
    return wins / episodes
