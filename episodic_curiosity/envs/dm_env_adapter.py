"""A dm_env.Environment view of any registered scenario, for consumers of DeepMind's API (Acme)."""

import dm_env
import numpy as np
from dm_env import specs


class DmEnvAdapter(dm_env.Environment):
    """Wraps a gymnasium env from `envs.make_env`: termination -> discount 0, truncation -> 1.

    Rewards and discounts are float32 scalars (what the trainer uses), and the specs say so: dm_env's
    defaults are float64. `seed` seeds the first reset (gymnasium's reset(seed=...)).
    """

    def __init__(self, env, seed: int | None = None):
        self._env = env
        self._seed = seed
        self._needs_reset = True

    def reset(self) -> dm_env.TimeStep:
        obs, _ = self._env.reset(seed=self._seed)
        self._seed = None  # later episodes follow from it, as in gymnasium
        self._needs_reset = False
        return dm_env.restart(obs)

    def step(self, action) -> dm_env.TimeStep:
        if self._needs_reset:
            return self.reset()
        obs, reward, terminated, truncated, _ = self._env.step(int(action))
        reward = np.float32(reward)
        if terminated or truncated:
            self._needs_reset = True
            discount = np.float32(0.0 if terminated else 1.0)  # a time limit is not a terminal
            return dm_env.TimeStep(dm_env.StepType.LAST, reward, discount, obs)
        return dm_env.TimeStep(dm_env.StepType.MID, reward, np.float32(1.0), obs)

    def observation_spec(self):
        space = self._env.observation_space
        return specs.BoundedArray(space.shape, space.dtype, 0, 255, name="pixels")

    def action_spec(self):
        return specs.DiscreteArray(int(self._env.action_space.n), name="action")

    def reward_spec(self):
        return specs.Array((), np.float32, name="reward")

    def discount_spec(self):
        return specs.BoundedArray((), np.float32, 0.0, 1.0, name="discount")

    def close(self):
        self._env.close()
