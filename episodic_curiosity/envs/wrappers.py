"""Engine-independent wrappers, composed in reading order by the scenario factories."""

import cv2
import gymnasium as gym
import numpy as np


class ResizeObservation(gym.ObservationWrapper):
    """Area-resamples RGB frames to `size` x `size` (84 in the paper).

    keep_raw: the frame before the resize goes to `info["raw_obs"]` (the R-network's view).
    """

    def __init__(self, env, size: int = 84, keep_raw: bool = False):
        super().__init__(env)
        self._size, self._keep_raw = size, keep_raw
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        if self._keep_raw:
            info["raw_obs"] = obs
        return self.observation(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if self._keep_raw:
            info["raw_obs"] = obs
        return self.observation(obs), reward, terminated, truncated, info

    def observation(self, observation):
        return cv2.resize(observation, (self._size, self._size), interpolation=cv2.INTER_AREA)


class EpisodeStatistics(gym.Wrapper):
    """Adds `info["episode"]` = {return, length, cells_visited, distance_travelled} on the last
    step of an episode.

    Coverage counts distinct (x, y) cells of `cell_size` map units visited in the episode, from
    `info["agent_xy"]`; it is the exploration metric of the paper's no-reward scenarios.
    `distance_travelled` is the farthest the agent got from where the episode started, in map
    units (metres for Ant, where it is the paper's metric; maze cells; Doom units).
    """

    def __init__(self, env, cell_size: float):
        super().__init__(env)
        self._cell_size = cell_size

    def _visit(self, info):
        if "agent_xy" in info:
            xy = np.asarray(info["agent_xy"], np.float64)
            self._cells.add(tuple(np.floor(xy / self._cell_size).astype(int)))
            if self._start is None:
                self._start = xy
            self._farthest = max(self._farthest, float(np.linalg.norm(xy - self._start)))

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._return, self._length, self._cells = 0.0, 0, set()
        self._start, self._farthest = None, 0.0
        self._visit(info)
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
        return obs, reward, terminated, truncated, info
