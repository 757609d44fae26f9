"""Engine-independent wrappers, composed in reading order by the scenario factories."""

import time

import cv2
import gymnasium as gym
import numpy as np


class ResizeObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Area-resamples RGB frames to `size` x `size` (84 in the paper)."""

    def __init__(self, env, size: int = 84):
        gym.utils.RecordConstructorArgs.__init__(self, size=size)  # lets spec.make() rebuild it
        gym.ObservationWrapper.__init__(self, env)
        self._size = size
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)

    def observation(self, observation):
        return cv2.resize(observation, (self._size, self._size), interpolation=cv2.INTER_AREA)


class EpisodeStatistics(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds `info["episode"]` on the last step of an episode: gymnasium's RecordEpisodeStatistics
    keys `r` (return), `l` (length), `t` (seconds since the episode began), which Stable-Baselines3,
    CleanRL and others read, and beside them ours: return, length, cells_visited,
    distance_travelled.

    Coverage counts distinct (x, y) cells of `cell_size` map units visited in the episode, from
    `info["agent_xy"]`; it is the exploration metric of the paper's no-reward scenarios.
    `distance_travelled` is the farthest the agent got from where the episode started, in map
    units (metres for Ant, where it is the paper's metric; maze cells; Doom units).
    """

    def __init__(self, env, cell_size: float):
        gym.utils.RecordConstructorArgs.__init__(self, cell_size=cell_size)
        gym.Wrapper.__init__(self, env)
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
        self._start_time = time.perf_counter()
        self._visit(info)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        self._visit(info)
        if terminated or truncated:
            info["episode"] = {"r": self._return, "l": self._length,
                               "t": round(time.perf_counter() - self._start_time, 6),
                               "return": self._return, "length": self._length,
                               "cells_visited": len(self._cells),
                               "distance_travelled": self._farthest}
        return obs, reward, terminated, truncated, info
