"""MiniGrid tasks of the RIDE paper as gymnasium environments with our level-seed splits.

Each episode draws a new layout from its episode seed (as MiniGrid does on reset); a layout is
kept only if its fingerprint falls in the bucket of the env's split, so training, validation and
test never share a layout, even on small grids where two seeds can draw the same one.
Observations: the symbolic 7x7x3 partial view (object, colour, state per cell, as RIDE's
policy sees it) or that same view rendered as 84x84 RGB (12-pixel tiles) for pixel methods.
`info["agent_xy"]` is the agent's cell (coverage, oracle); `info["state_key"]` is a stable 64-bit
fingerprint of the full state (grid, agent cell and heading), the key of count-based bonuses,
which RIDE's code takes from the fully observed grid; `info["success"]`, on an episode's last
step, says whether it reached the task's goal.
"""

import hashlib

import gymnasium as gym
import numpy as np
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.world_object import Ball
from minigrid.envs import MultiRoomEnv

from episodic_curiosity.envs import minigrid_view, splits

VIEWS = ("symbolic", "rgb")
TILE_PIXELS = 12  # 7 cells x 12 pixels = the policy's 84x84 frame, no resampling
_MAX_LAYOUT_DRAWS = 1000


class MultiRoomNoisyTVEnv(MultiRoomEnv):
    """MultiRoom with a ball in the first room whose colour the `drop` action (4) re-draws.

    RIDE's couch-potato trap: the action changes what the agent sees and nothing else (the
    MultiRoom tasks have no use for `drop`, which RIDE's fork repurposed the same way).
    """

    def _gen_grid(self, width, height):
        super()._gen_grid(width, height)
        first = self.rooms[0]
        self.noisy_tv = Ball(self._rand_elem(COLOR_NAMES))
        self.place_obj(self.noisy_tv, top=first.top, size=first.size, max_tries=100)

    @property
    def changing_objects(self):
        """What this task changes beyond minigrid's actions (minigrid_view.GridCache.sync)."""
        return (self.noisy_tv,)

    def step(self, action):
        if action != self.actions.drop:
            return super().step(action)
        self.step_count += 1
        self.noisy_tv.color = self._rand_elem(COLOR_NAMES)
        return self.gen_obs(), 0.0, False, self.step_count >= self.max_steps, {}


def make_raw(env_id: str, kwargs: dict):
    """The unwrapped minigrid env of a registered id, or the NoisyTV task ('noisytv')."""
    if env_id == "noisytv":
        return MultiRoomNoisyTVEnv(**kwargs)
    return gym.make(env_id, **kwargs).unwrapped


def _fingerprint(*arrays) -> int:
    digest = hashlib.blake2b(digest_size=8)
    for array in arrays:
        digest.update(np.ascontiguousarray(array, np.int64).tobytes())
    return int.from_bytes(digest.digest(), "little")


def state_fingerprint(env) -> int:
    """Every non-wall cell's (index, object, colour, state), the agent's cell and heading.

    Walls never change within an episode of these tasks, so skipping them keeps the key exact.
    The reference for `minigrid_view.GridCache.state_key`, which gives the same value from its
    encoded copy of the grid (~40 us less a step).
    """
    cells = [(i, *obj.encode()) for i, obj in enumerate(env.grid.grid)
             if obj is not None and obj.type != "wall"]
    return _fingerprint(np.asarray(cells, np.int64).reshape(-1), env.agent_pos, [env.agent_dir])


class MiniGridTask(gym.Env):
    """One MiniGrid env; `make_raw()` builds the unwrapped minigrid env, `seed` is a level seed.

    fast_view: views and state keys from `minigrid_view.GridCache` (the same values, ~10x less
    time); False: minigrid's own code, for the benchmark's before-and-after rows.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}  # minigrid's own

    def __init__(self, make_raw, seed: int, view: str = "symbolic", fast_view: bool = True):
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        self._env = make_raw()
        self._grid = minigrid_view.install(self._env) if fast_view else None
        self._seed, self._view, self._episode, self._reset_seed = seed, view, 0, None
        self._bucket = splits.split_of(seed).value
        self.action_space = gym.spaces.Discrete(self._env.action_space.n)
        shape = (7, 7, 3) if view == "symbolic" else (7 * TILE_PIXELS, 7 * TILE_PIXELS, 3)
        self.observation_space = gym.spaces.Box(0, 255, shape, np.uint8)

    @property
    def unwrapped_minigrid(self):
        return self._env

    def layout_fingerprint(self) -> int:
        """The starting state: all of the grid, the agent's cell and heading."""
        env, grid = self._env, self._grid
        codes = env.grid.encode() if grid is None else grid.synced().grid_codes
        return _fingerprint(codes, env.agent_pos, [env.agent_dir])

    def _observe(self, obs):
        env = self._env
        view = obs["image"] if self._view == "symbolic" else env.get_pov_render(TILE_PIXELS)
        info = {"agent_xy": np.asarray(env.agent_pos, np.float32),
                "state_key": (state_fingerprint(env) if self._grid is None else
                              self._grid.state_key())}
        return np.asarray(view, np.uint8), info

    def reset(self, *, seed=None, options=None):
        """A new layout of this env's split; `reset(seed=s)` restarts a reproducible sequence."""
        super().reset(seed=seed)
        if seed is not None:
            self._reset_seed, self._episode = seed, 0
        if self._reset_seed is None:
            episode_seed = splits.episode_seed(self._seed, self._episode)
        else:
            episode_seed = splits.seeded_episode_seed(self._reset_seed, self._episode)
        draws = np.random.default_rng(episode_seed)
        self._episode += 1
        for _ in range(_MAX_LAYOUT_DRAWS):
            obs, _ = self._env.reset(seed=int(draws.integers(2 ** 31)))
            if self.layout_fingerprint() % len(splits.Split) == self._bucket:
                return self._observe(obs)
        raise RuntimeError(f"no layout of this split in {_MAX_LAYOUT_DRAWS} draws")

    def step(self, action):
        obs, reward, terminated, truncated, _ = self._env.step(int(action))
        view, info = self._observe(obs)
        if terminated or truncated:  # MiniGrid rewards only the goal (1 - 0.9 t / max_steps)
            info["success"] = bool(terminated and reward > 0)
        return view, float(reward), terminated, truncated, info

    def render(self):
        return self._env.get_frame(highlight=True, tile_size=TILE_PIXELS)

    def render_top_view(self):
        """The whole grid with the agent's view highlighted (the gallery's map)."""
        return self.render()

    def close(self):
        self._env.close()
