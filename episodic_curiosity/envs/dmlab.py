"""The paper's seven DeepMind Lab scenarios on the original levels, when `deepmind_lab` is installed.

DMLab has no PyPI wheel (it builds with Bazel), so this backend is optional: the scenarios are
always listed, and asking for one without the module raises a one-line UsageError saying how to
install it. The MiniWorld rebuilds are the installable stand-ins.
"""

import dataclasses
import importlib

import gymnasium as gym
import numpy as np

INSTALL_HINT = (
    "deepmind_lab is not installed: build its Python wheel with Bazel "
    "(https://github.com/google-deepmind/lab/blob/master/python/pip_package/README.md) and "
    "pip install it; or use --scenario=sparse (the MiniWorld rebuild)")

ACTION_REPEAT = 4
FPS = 60  # DMLab's default; an agent step is ACTION_REPEAT frames

# The original's discrete actions as DMLab's 7 ints: (look left/right pixels, look down/up,
# strafe left/right, move back/forward, fire, jump, crouch).
ACTIONS = (
    (0, 0, 0, 1, 0, 0, 0),  # forward
    (0, 0, 0, -1, 0, 0, 0),  # backward
    (0, 0, -1, 0, 0, 0, 0),  # strafe left
    (0, 0, 1, 0, 0, 0, 0),  # strafe right
    (-20, 0, 0, 0, 0, 0, 0),  # look left
    (20, 0, 0, 0, 0, 0, 0),  # look right
    (-20, 0, 0, 1, 0, 0, 0),  # look left + forward
    (20, 0, 0, 1, 0, 0, 0),  # look right + forward
    (0, 0, 0, 0, 1, 0, 0),  # fire
)
ACTIONS_NOFIRE = ACTIONS[:8]


@dataclasses.dataclass(frozen=True)
class Level:
    """One paper scenario: a DMLab level plus what the paper changed about it."""
    level: str
    episode_seconds: int  # the level script's episodeLengthSeconds
    fire: bool = True
    reward_scale: float = 1.0  # 0 for the no-reward scenarios (metric: cells visited)
    config: tuple = ()  # extra (key, value) settings for deepmind_lab.Lab


_GOALS = "contributed/dmlab30/explore_goal_locations_large"
# verysparse: the original patched DMLab to honour `minGoalDistance` (goal >= 10 maze cells from
# the spawn); we pass the same setting. Stock DMLab ignores unknown settings, so with an unpatched
# build verysparse plays like sparse; apply the original's dmlab_min_goal_distance patch for it.
LEVELS = {
    "sparse": Level(_GOALS, 120),
    "verysparse": Level(_GOALS, 120, config=(("minGoalDistance", "10"),)),
    "noreward": Level(_GOALS, 120, reward_scale=0.0),
    "norewardnofire": Level(_GOALS, 120, fire=False, reward_scale=0.0),
    "sparseplusdoors": Level("contributed/dmlab30/explore_obstructed_goals_large", 120),
    "dense1": Level("contributed/dmlab30/rooms_keys_doors_puzzle", 60),
    "dense2": Level("contributed/dmlab30/rooms_collect_good_objects_train", 60),
}


def episode_steps(level: Level) -> int:
    return level.episode_seconds * FPS // ACTION_REPEAT


def installed() -> bool:
    """Whether `import deepmind_lab` works (checked on each call, so tests can inject a double)."""
    try:
        importlib.import_module("deepmind_lab")
    except ImportError:
        return False
    return True


def unavailable_reason() -> str | None:
    return None if installed() else INSTALL_HINT


class DmLabEnv(gym.Env):
    """A DMLab level behind the gymnasium API, 84x84 RGB, the original's actions, repeat 4.

    `info["agent_xy"]` is DEBUG.POS.TRANS's (x, y) in DMLab map units (100 per maze cell).
    The level seed seeds a generator of per-episode DMLab seeds, as the original did, so the same
    level seed gives the same sequence of mazes. DMLab ends the episode at its time limit:
    `is_running()` turning False is reported as `truncated`.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}  # 60 fps, action repeat 4

    def __init__(self, level: Level, seed: int, size: int = 84, renderer: str = "software"):
        import deepmind_lab  # only here: the module is optional
        config = {"width": str(size), "height": str(size), "fps": str(FPS), "logLevel": "WARN"}
        config.update(dict(level.config))
        self._lab = deepmind_lab.Lab(level.level, ["RGB_INTERLEAVED", "DEBUG.POS.TRANS"],
                                     config=config, renderer=renderer)
        self._actions = [np.array(a, np.int32) for a in (ACTIONS if level.fire else ACTIONS_NOFIRE)]
        self._reward_scale = level.reward_scale
        self._rng = np.random.default_rng(seed)
        self.action_space = gym.spaces.Discrete(len(self._actions))
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), np.uint8)
        self._last_obs = np.zeros(self.observation_space.shape, np.uint8)
        self._last_xy = np.zeros(2, np.float32)

    def _observe(self):
        if self._lab.is_running():  # no observations after the episode ended: keep the last
            observations = self._lab.observations()
            self._last_obs = np.asarray(observations["RGB_INTERLEAVED"], np.uint8)
            self._last_xy = np.asarray(observations["DEBUG.POS.TRANS"][:2], np.float32)
        return self._last_obs, {"agent_xy": self._last_xy.copy()}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._lab.reset(seed=int(self._rng.integers(1, 2**31 - 1)))
        return self._observe()

    def step(self, action):
        reward = self._lab.step(self._actions[int(action)], num_steps=ACTION_REPEAT)
        obs, info = self._observe()
        finished = not self._lab.is_running()
        return obs, float(reward) * self._reward_scale, False, finished, info

    def render(self):
        return self._last_obs

    def close(self):
        self._lab.close()
