"""Cue then choose: the smallest task that needs memory (a T-maze without the maze).

The first observation shows a cue (a key or a ball, MiniGrid's object indices, in the symbolic
7x7x3 layout), the next `delay` show an empty room, the last one a choice cell. The action then
is the answer: `left` (0) for a key, `right` (1) for a ball, +1 and the end of the episode when
it matches, 0 and the end when it does not; actions before the choice do nothing. Every
observation after the first is the same whatever the cue, so a feed-forward policy answers at
chance (success 0.5) and a recurrent one, which can carry the cue, can reach 1.0. MiniGrid's
MemoryS7 lets a feed-forward policy keep the cue in where it stands (measured: TEST success
0.7-0.8 without a recurrent core), so this one is the memory check (`tests/test_recurrent.py`).
"""

import gymnasium as gym
import numpy as np

KEY, BALL, EMPTY, WALL, GOAL = 5, 6, 1, 2, 8  # MiniGrid's OBJECT_TO_IDX
CUES = (KEY, BALL)


class CueMemory(gym.Env):
    def __init__(self, seed: int, delay: int = 4):
        self.delay = delay
        self.observation_space = gym.spaces.Box(0, 255, (7, 7, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(7)  # MiniGrid's actions; 0 / 1 answer
        self._np_random, _ = gym.utils.seeding.np_random(seed)  # default_rng(seed)'s stream
        self.cue, self.t = KEY, 0

    def _obs(self):
        grid = np.zeros((7, 7, 3), np.uint8)
        grid[..., 0] = EMPTY
        grid[0, :, 0] = grid[-1, :, 0] = grid[:, 0, 0] = grid[:, -1, 0] = WALL
        if self.t == 0:
            grid[3, 3, 0] = self.cue
        elif self.t > self.delay:
            grid[3, 3, 0] = GOAL
        return grid

    def _info(self, success=None):
        info = {"agent_xy": np.array([min(self.t, self.delay + 1), 0.0], np.float32),
                "state_key": int(self.t * 2 + CUES.index(self.cue))}
        if success is not None:
            info["success"] = success
        return info

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue, self.t = CUES[int(self.np_random.integers(2))], 0
        return self._obs(), self._info()

    def step(self, action):
        if self.t <= self.delay:
            self.t += 1
            return self._obs(), 0.0, False, False, self._info()
        success = int(action) == CUES.index(self.cue)
        return self._obs(), float(success), True, False, self._info(success)
