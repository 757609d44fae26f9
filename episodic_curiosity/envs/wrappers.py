"""Engine-independent wrappers, composed in reading order by the scenario factories."""

import cv2
import gymnasium as gym
import numpy as np

from episodic_curiosity.envs.coverage import CellCounter


class ResizeObservation(gym.ObservationWrapper):
    """Area-resamples HWC frames (RGB, or Atari's 4 stacked gray ones) to `size` x `size` (84 in
    the paper); frames already that size pass through."""

    def __init__(self, env, size: int = 84):
        super().__init__(env)
        self._size = size
        channels = env.observation_space.shape[2]
        self.observation_space = gym.spaces.Box(0, 255, (size, size, channels), np.uint8)

    def observation(self, observation):
        if observation.shape[:2] == (self._size, self._size):
            return observation
        resized = cv2.resize(observation, (self._size, self._size), interpolation=cv2.INTER_AREA)
        return resized.reshape(self.observation_space.shape)


class EpisodeStatistics(gym.Wrapper):
    """Adds `info["episode"]` = {return, length, cells_visited, distance_travelled} on the last
    step of an episode.

    Coverage (`cells_visited`) counts the grid oracle's cells (`oracle_cell` map units, see
    coverage.py) of the positions after each step, as the oracle does: in the no-reward
    scenarios it equals the episode's oracle return, the paper's metric there.
    `distance_travelled` is the farthest the agent got from where the episode started, in map
    units (metres for Ant, where it is the paper's metric; maze cells; Doom units).
    """

    def __init__(self, env, oracle_cell: float):
        super().__init__(env)
        self._cells = CellCounter(oracle_cell)

    def _visit(self, info, count_cell=True):
        if "agent_xy" in info:
            xy = np.asarray(info["agent_xy"], np.float64)
            if count_cell:
                self._cells.visit(xy)
            if self._start is None:
                self._start = xy
            self._farthest = max(self._farthest, float(np.linalg.norm(xy - self._start)))

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._return, self._length = 0.0, 0
        self._cells.reset()
        self._start, self._farthest = None, 0.0
        self._visit(info, count_cell=False)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        self._visit(info)
        if terminated or truncated:
            info["episode"] = {"return": self._return, "length": self._length,
                               "cells_visited": len(self._cells),
                               "distance_travelled": self._farthest}
            if "rooms_visited" in info:  # Atari games with rooms (Montezuma's Revenge)
                info["episode"]["rooms_visited"] = info["rooms_visited"]
        return obs, reward, terminated, truncated, info


class OracleReward(gym.Wrapper):
    """The reward becomes the grid oracle's: `reward_per_cell` for each oracle cell first reached
    in the episode, the task reward dropped (the original's OracleRewardWrapper, which its
    no-reward scenarios put before the episode monitor: their metric is this return).

    Like the original, the start position earns nothing until a step lands in its cell.
    """

    def __init__(self, env, oracle_cell: float, reward_per_cell: float = 1.0):
        super().__init__(env)
        self._cells = CellCounter(oracle_cell)
        self._reward_per_cell = reward_per_cell

    def reset(self, **kwargs):
        self._cells.reset()
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        reward = self._reward_per_cell if self._cells.visit(info["agent_xy"]) else 0.0
        return obs, reward, terminated, truncated, info
