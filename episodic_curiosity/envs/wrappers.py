"""Engine-independent wrappers, composed in reading order by the scenario factories."""

import time

import cv2
import gymnasium as gym
import numpy as np

from episodic_curiosity.envs.coverage import CellCounter


class ResizeObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Area-resamples HWC frames (RGB, or Atari's 4 stacked gray ones) to `size` x `size` (84 in
    the paper); frames already that size pass through.

    keep_raw: the frame before the resize goes to `info["raw_obs"]` (the R-network's view).
    """

    def __init__(self, env, size: int = 84, keep_raw: bool = False):
        gym.utils.RecordConstructorArgs.__init__(self, size=size, keep_raw=keep_raw)
        gym.ObservationWrapper.__init__(self, env)  # the args above let spec.make() rebuild it
        self._size, self._keep_raw = size, keep_raw
        channels = env.observation_space.shape[2]
        self.observation_space = gym.spaces.Box(0, 255, (size, size, channels), np.uint8)

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
        if observation.shape[:2] == (self._size, self._size):
            return observation
        resized = cv2.resize(observation, (self._size, self._size), interpolation=cv2.INTER_AREA)
        return resized.reshape(self.observation_space.shape)


class EpisodeStatistics(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Adds `info["episode"]` on the last step of an episode: gymnasium's RecordEpisodeStatistics
    keys `r` (return), `l` (length), `t` (seconds since the episode began), which Stable-Baselines3,
    CleanRL and others read, and beside them ours: return, length, cells_visited,
    distance_travelled, and `success` (1 if the goal was reached) where the env reports it.

    Coverage (`cells_visited`) counts the grid oracle's cells (`oracle_cell` map units, see
    coverage.py) of the positions after each step, as the oracle does: in the no-reward
    scenarios it equals the episode's oracle return, the paper's metric there.
    `distance_travelled` is the farthest the agent got from where the episode started, in map
    units (metres for Ant, where it is the paper's metric; maze cells; Doom units).
    """

    def __init__(self, env, oracle_cell: float):
        gym.utils.RecordConstructorArgs.__init__(self, oracle_cell=oracle_cell)
        gym.Wrapper.__init__(self, env)
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
        self._start_time = time.perf_counter()
        self._visit(info, count_cell=False)
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
            if "rooms_visited" in info:  # Atari games with rooms (Montezuma's Revenge)
                info["episode"]["rooms_visited"] = info["rooms_visited"]
            if "success" in info:  # tasks with a goal that ends them (MiniGrid)
                info["episode"]["success"] = float(info["success"])
        return obs, reward, terminated, truncated, info


class OracleReward(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """The reward becomes the grid oracle's: `reward_per_cell` for each oracle cell first reached
    in the episode, the task reward dropped (the original's OracleRewardWrapper, which its
    no-reward scenarios put before the episode monitor: their metric is this return).

    Like the original, the start position earns nothing until a step lands in its cell.
    """

    def __init__(self, env, oracle_cell: float, reward_per_cell: float = 1.0):
        gym.utils.RecordConstructorArgs.__init__(self, oracle_cell=oracle_cell,
                                                 reward_per_cell=reward_per_cell)
        gym.Wrapper.__init__(self, env)
        self._cells = CellCounter(oracle_cell)
        self._reward_per_cell = reward_per_cell

    def reset(self, **kwargs):
        self._cells.reset()
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        reward = self._reward_per_cell if self._cells.visit(info["agent_xy"]) else 0.0
        return obs, reward, terminated, truncated, info
