"""VizDoom scenarios as gymnasium environments, with the agent's map position in `info`."""

import os

import gymnasium as gym
import numpy as np
import vizdoom as vzd

_POSITION = [vzd.GameVariable.POSITION_X, vzd.GameVariable.POSITION_Y, vzd.GameVariable.ANGLE]


class DoomEnv(gym.Env):
    """One VizDoom game; `frame_skip` tics per step (the engine repeats the action natively).

    Observations are the raw RGB screen (120x160x3); wrappers resize them.
    `info["agent_xy"]` holds the player's map coordinates for coverage metrics and oracles.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, config: str, seed: int, frame_skip: int = 4, start_xy=None):
        self._game = vzd.DoomGame()
        self._game.load_config(os.path.join(vzd.scenarios_path, config))
        self._game.set_window_visible(False)
        self._game.set_sound_enabled(False)
        self._game.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
        self._game.set_screen_format(vzd.ScreenFormat.RGB24)
        self._game.set_available_game_variables(_POSITION)
        self._game.set_mode(vzd.Mode.PLAYER)
        if start_xy is not None:
            self._game.add_game_args("+sv_cheats 1")
        self._game.set_seed(seed)
        self._game.init()
        self._start_xy = start_xy
        self._frame_skip = frame_skip
        self.metadata = {**self.metadata, "render_fps": 35 / frame_skip}  # Doom runs 35 tics/s
        # One button per discrete action, as in the ICM MyWayHome experiments.
        num_buttons = self._game.get_available_buttons_size()
        self._actions = np.eye(num_buttons, dtype=np.int32).tolist()
        self.action_space = gym.spaces.Discrete(num_buttons)
        self.observation_space = gym.spaces.Box(0, 255, (120, 160, 3), np.uint8)
        self._last_obs = np.zeros(self.observation_space.shape, np.uint8)
        self._last_xy = np.zeros(2, np.float32)

    def _observe(self):
        state = self._game.get_state()
        if state is not None:  # None on the terminal step: repeat the last frame.
            self._last_obs = state.screen_buffer
            self._last_xy = np.asarray(state.game_variables[:2], np.float32)
        return self._last_obs, {"agent_xy": self._last_xy.copy()}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self._game.set_seed(seed)
        self._game.new_episode()
        if self._start_xy is not None:
            self._game.send_game_command(f"warp {self._start_xy[0]} {self._start_xy[1]}")
            self._game.advance_action(1)
        return self._observe()

    def step(self, action):
        reward = self._game.make_action(self._actions[int(action)], self._frame_skip)
        obs, info = self._observe()
        finished = self._game.is_episode_finished()
        truncated = finished and self._game.is_episode_timeout_reached()
        return obs, reward, finished and not truncated, truncated, info

    def render(self):
        return self._last_obs

    def close(self):
        self._game.close()
