"""Atari through ale-py (the ROMs ship with it) with the standard preprocessing of RND and the
curiosity study: sticky actions (p = 0.25, Machado et al.), frame skip 4 with max-pooling of the
last two frames, 84x84 gray, a stack of the last 4 frames (observation 84x84x4, newest last),
4500 agent steps (18000 frames) per episode. Game over ends an episode; a lost life does not.

`info["agent_xy"]` is read from RAM: Montezuma's Revenge (x, y) of Panama Joe offset by 1000 per
room so that cells of different rooms differ, and `info["room"]`; Breakout the paddle's x.
`rooms_visited` (the metric RND reports for Montezuma) counts the rooms entered in an episode.
"""

import gymnasium as gym
import numpy as np

STICKY_ACTIONS = 0.25
FRAME_SKIP = 4
FRAME_STACK = 4
EPISODE_STEPS = 4500  # agent steps: 18000 frames

# RAM addresses (the RND code's room address; x, y as the Atari annotated-RAM literature).
MONTEZUMA_ROOM, MONTEZUMA_X, MONTEZUMA_Y = 3, 42, 43
BREAKOUT_PADDLE_X = 72


def _montezuma_position(ram):
    room = int(ram[MONTEZUMA_ROOM])
    return (1000.0 * room + float(ram[MONTEZUMA_X]), float(ram[MONTEZUMA_Y])), room


def _breakout_position(ram):
    return (float(ram[BREAKOUT_PADDLE_X]), 0.0), None


GAMES = {"MontezumaRevenge": _montezuma_position, "Breakout": _breakout_position}


class AtariEnv(gym.Wrapper):
    """An ALE game, preprocessed, with observations HWC (84, 84, 4) and RAM-read positions."""

    def __init__(self, game: str, seed: int, sticky_actions: float = STICKY_ACTIONS):
        import ale_py  # imported on use: only Atari scenarios need it
        gym.register_envs(ale_py)
        env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=sticky_actions,
                       full_action_space=False, render_mode="rgb_array")  # render() as elsewhere
        env = gym.wrappers.AtariPreprocessing(env, noop_max=0, frame_skip=FRAME_SKIP,
                                              screen_size=84, terminal_on_life_loss=False,
                                              grayscale_obs=True)
        env = gym.wrappers.FrameStackObservation(env, FRAME_STACK)
        super().__init__(gym.wrappers.TimeLimit(env, EPISODE_STEPS))
        self.observation_space = gym.spaces.Box(0, 255, (84, 84, FRAME_STACK), np.uint8)
        self._position, self._seed = GAMES[game], seed
        self._rooms: set = set()

    def _info(self, info):
        xy, room = self._position(self.env.unwrapped.ale.getRAM())
        info["agent_xy"] = np.asarray(xy, np.float32)
        if room is not None:
            info["room"] = room
            self._rooms.add(room)
            info["rooms_visited"] = len(self._rooms)
        return info

    def reset(self, **kwargs):
        kwargs.setdefault("seed", self._seed)
        self._seed = None  # the first reset seeds the emulator; later ones continue its stream
        obs, info = self.env.reset(**kwargs)
        self._rooms = set()
        return np.moveaxis(obs, 0, -1), self._info(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return np.moveaxis(obs, 0, -1), reward, terminated, truncated, self._info(info)
