"""A dm_env.Environment view of any registered scenario, for consumers of DeepMind's API (Acme)."""

import dm_env
import numpy as np
from dm_env import specs


class DmEnvAdapter(dm_env.Environment):
    """Wraps a gymnasium env from `envs.make_env`: termination -> discount 0, truncation -> 1."""

    def __init__(self, env):
        self._env = env
        self._needs_reset = True

    def reset(self) -> dm_env.TimeStep:
        obs, _ = self._env.reset()
        self._needs_reset = False
        return dm_env.restart(obs)

    def step(self, action) -> dm_env.TimeStep:
        if self._needs_reset:
            return self.reset()
        obs, reward, terminated, truncated, _ = self._env.step(int(action))
        if terminated:
            self._needs_reset = True
            return dm_env.termination(np.float32(reward), obs)
        if truncated:
            self._needs_reset = True
            return dm_env.truncation(np.float32(reward), obs)
        return dm_env.transition(np.float32(reward), obs)

    def observation_spec(self):
        space = self._env.observation_space
        return specs.BoundedArray(space.shape, space.dtype, 0, 255, name="pixels")

    def action_spec(self):
        return specs.DiscreteArray(int(self._env.action_space.n), name="action")

    def close(self):
        self._env.close()
