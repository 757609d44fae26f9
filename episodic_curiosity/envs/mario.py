"""Super Mario Bros on the NES as the Large-Scale Study of Curiosity-Driven Learning (Burda,
Edwards, Pathak et al. 2018) played it, on the emulator PyPI has: nes-py with
gym-super-mario-bros (the optional extra, `pip install -e .[mario]`; PIL comes with matplotlib).

The study played gym-retro's `SuperMarioBros-Nes` from its `Level1-1` state; sources below are
openai/large-scale-curiosity @ e0a6986 (wrappers.py: make_mario_env, MarioXReward, FrameSkip,
ProcessFrame84, LimitedDiscreteActions; run.py) and gym-retro's integration of the game
(retro/data/stable/SuperMarioBros-Nes: data.json, scenario.json). Observations are the study's
84x84 gray frames, 4 stacked (newest last); an episode is the whole game from World 1-1 until
game over, as in the study (no time limit but the game's clock).

Reward: the study's MarioXReward, the screen's scroll position's gain over its best so far in the
current level (0 on the step a new level starts). The return is the episode's x distance, the
study's Mario metric. `info`: `agent_xy` (Mario's x, y in pixels, x offset by LEVEL_STRIDE per
level so levels never share a cell), `x_distance` (the return so far), `levels_passed`, and
`rooms_visited` (levels visited, 1 + levels_passed: the study logs levels as it logs Montezuma's
rooms, rollouts.py; this key reaches progress.csv's column of that name).
"""

import collections
import contextlib
import io

import gymnasium as gym
import numpy as np
from PIL import Image

# NumPy-2 shims for nes-py 8.1.4 / gym-super-mario-bros 7.4.0, the one place they live. Both were
# written for NumPy 1, where uint8 scalars times Python ints widened; NumPy 2 keeps uint8 (NEP 50)
# and raises OverflowError on such products. Applied once, on import of this module:
#   1. nes_py._rom.ROM.prg_rom_size / chr_rom_size / prg_ram_size return Python ints (NESEnv
#      multiplies them by 1024 to slice the ROM).
#   2. The emulator's RAM, as _SuperMarioBros sees it, reads as Python ints (smb_env computes
#      `ram[0x6d] * 0x100 + ram[0x86]` and more); writes go through to the emulator.
#   3. gym 0.26's env checker uses np.bool8 (removed in NumPy 2): never gym.make, no gym wrapper;
#      MarioEnv drives the emulator class directly behind the gymnasium API.
#   4. Importing gym prints a notice about NumPy 2 to stderr; it is silenced (what it warns of is
#      what 1-3 address), so a launcher's output stays its own.
with contextlib.redirect_stderr(io.StringIO()):
    import nes_py._rom
    from gym_super_mario_bros import SuperMarioBrosEnv
    from nes_py.wrappers import JoypadSpace


def _int_property(prop: property) -> property:
    return property(lambda rom: int(prop.fget(rom)))


if not getattr(nes_py._rom.ROM, "_ints_for_numpy2", False):
    for _name in ("prg_rom_size", "chr_rom_size", "prg_ram_size"):
        setattr(nes_py._rom.ROM, _name, _int_property(getattr(nes_py._rom.ROM, _name)))
    nes_py._rom.ROM._ints_for_numpy2 = True


class _IntRam:
    """The emulator's RAM (a uint8 view) read as Python ints, slices as int64 (shim 2)."""

    def __init__(self, ram: np.ndarray):
        self._ram = ram

    def __getitem__(self, key):
        value = self._ram[key]
        return int(value) if np.ndim(value) == 0 else value.astype(np.int64)

    def __setitem__(self, key, value):
        self._ram[key] = value


class _SuperMarioBros(SuperMarioBrosEnv):
    """gym-super-mario-bros's emulator env with shim 2 applied to its RAM."""

    def _ram_buffer(self):
        return _IntRam(super()._ram_buffer())


# make_mario_env: FrameSkip(env, 4), each action held 4 frames, rewards summed, the last frame
# kept (no max-pooling, unlike the study's Atari MaxAndSkipEnv); FrameStack(env, 4).
FRAME_SKIP = 4
FRAME_STACK = 4
# make_mario_env adds no sticky actions (retro.make's defaults; RND's StickyActionEnv, p = 0.25,
# wraps its Atari games only): the game is deterministic, and so is every split's level.
STICKY_ACTIONS = 0.0
# ProcessFrame84(crop=True): gray = 0.299 R + 0.587 G + 0.114 B of the 224x240 "mario
# resolution" frame, bilinear resize to 84 wide x 110 high, rows 18:102 kept.
GRAY = np.array([0.299, 0.587, 0.114], np.float32)
RESIZED_WH = (84, 110)
CROP_ROWS = slice(18, 102)
# gym-retro's NES core gives 224x240, nes-py the whole 240x256 picture: 8 pixels off each edge
# (the overscan the retro core crops) give the frame the study processed.
OVERSCAN = 8
# LimitedDiscreteActions over gym-retro's NES buttons (B, -, SELECT, START, UP, DOWN, LEFT,
# RIGHT, A: retro/cores/nes.json): no arrow or one, then B, A, B+A, then left or right with each
# of those; 14 actions in the study's order, in nes-py's button names.
ACTIONS = (("NOOP",), ("up",), ("down",), ("left",), ("right",), ("B",), ("A",), ("B", "A"),
           ("left", "B"), ("left", "A"), ("left", "B", "A"),
           ("right", "B"), ("right", "A"), ("right", "B", "A"))
# No episode limit but game over: make_mario_env has no ExtraTimeLimit (run.py puts its
# --max-episode-steps 4500 on Atari only) and retro's scenario.json ends at lives == -1, which is
# smb_env's game over (life 0xff). The longest episode passing no level, for Scenario's
# episode_steps: 3 lives x 400 clock ticks x 20 frames a tick (measured) / FRAME_SKIP.
LIVES, CLOCK_TICKS, FRAMES_PER_TICK = 3, 400, 20
EPISODE_STEPS = LIVES * CLOCK_TICKS * FRAMES_PER_TICK // FRAME_SKIP
# RAM (retro data.json): xscrollHi 1818, xscrollLo 1820 (the screen's left edge, the study's x),
# levelLo 1884 (stage - 1), levelHi 1887 (world - 1).
XSCROLL_HI, XSCROLL_LO, STAGE, WORLD = 0x071A, 0x071C, 0x075C, 0x075F
# Mario's x (info x_pos) is 16 bits (page 0x6D, pixel 0x86): this offset per level
# ((world - 1) * 4 + stage - 1) keeps every level's oracle cells apart.
LEVEL_STRIDE = 65536


def process_frame(frame: np.ndarray) -> np.ndarray:
    """A 240x256 RGB NES frame -> the study's 84x84 gray one (ProcessFrame84, crop=True)."""
    view = frame[OVERSCAN:-OVERSCAN, OVERSCAN:-OVERSCAN].astype(np.float32)
    resized = Image.fromarray(view @ GRAY).resize(RESIZED_WH, resample=Image.BILINEAR)
    return np.asarray(resized, dtype=np.float32)[CROP_ROWS].astype(np.uint8)


def action_bytes() -> list[int]:
    """ACTIONS as nes-py's controller bytes (JoypadSpace's button bits)."""
    bits = JoypadSpace._button_map
    return [sum(bits[b] for b in buttons) for buttons in ACTIONS]


class XProgress:
    """The study's MarioXReward: per frame, the gain of x over its best in the current level; a
    new level pays 0 and restarts the best at 0. Keeps the levels visited."""

    def __init__(self):
        self.reset((0, 0))

    def reset(self, level: tuple) -> None:
        self.level, self.best_x, self.total = level, 0, 0.0
        self.levels = {level}

    def update(self, level: tuple, x: int) -> float:
        if level != self.level:
            self.level, self.best_x = level, 0
            self.levels.add(level)
            return 0.0
        gain = max(0, x - self.best_x)
        self.best_x = max(self.best_x, x)
        self.total += gain
        return float(gain)


class MarioEnv(gym.Env):
    """Super Mario Bros from World 1-1 to game over, the study's preprocessing, actions and
    reward, behind the gymnasium API (observations 84x84x4 uint8, newest frame last)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60 // FRAME_SKIP}

    def __init__(self, seed: int, sticky_actions: float = STICKY_ACTIONS,
                 max_steps: int | None = None):
        """max_steps: truncate episodes after this many agent steps (None: game over only)."""
        self._nes = _SuperMarioBros(rom_mode="vanilla")  # the unmodified ROM, as retro's
        self._bytes = action_bytes()
        self._sticky, self._seed, self._max_steps = sticky_actions, seed, max_steps
        self._steps = 0
        self.action_space = gym.spaces.Discrete(len(ACTIONS))
        self.observation_space = gym.spaces.Box(0, 255, (84, 84, FRAME_STACK), np.uint8)
        self._frames = collections.deque(maxlen=FRAME_STACK)
        self._progress, self._last_byte = XProgress(), 0
        self._screen = np.zeros((240, 256, 3), np.uint8)

    @property
    def render_mode(self) -> str:
        """render() is always the NES's colour screen (gallery, play); gymnasium's make resets
        the attribute to None after construction, hence a property."""
        return "rgb_array"

    @render_mode.setter
    def render_mode(self, value):
        del value

    def _level(self) -> tuple:
        ram = self._nes.ram
        return ram[STAGE], ram[WORLD]  # the study's [levelLo, levelHi]

    def _scroll_x(self) -> int:
        return self._nes.ram[XSCROLL_HI] * 256 + self._nes.ram[XSCROLL_LO]

    def _observe(self, screen: np.ndarray) -> np.ndarray:
        self._screen = screen.copy()  # nes-py's screen is a view the next frame overwrites
        self._frames.append(process_frame(self._screen))
        while len(self._frames) < FRAME_STACK:  # after a reset: the first frame, repeated
            self._frames.append(self._frames[-1])
        return np.stack(self._frames, axis=-1)

    def _info(self, nes_info: dict) -> dict:
        stage, world = self._level()
        x, y = nes_info["x_pos"], nes_info["y_pos"]
        levels = len(self._progress.levels)
        return {"agent_xy": np.array([x + LEVEL_STRIDE * (world * 4 + stage), y], np.float32),
                "x_pos": x, "y_pos": y, "world": world + 1, "stage": stage + 1,
                "life": nes_info["life"], "flag_get": bool(nes_info["flag_get"]),
                "x_distance": self._progress.total, "levels_passed": levels - 1,
                "rooms_visited": levels}

    def reset(self, *, seed=None, options=None):
        if seed is None:
            seed, self._seed = self._seed, None  # the level seed seeds the first reset only
        super().reset(seed=seed)
        screen = self._nes.reset()
        self._progress.reset(self._level())
        self._frames.clear()
        self._last_byte, self._steps = 0, 0
        return self._observe(screen), self._info(self._nes._get_info())

    def _press(self, action: int) -> int:
        """The action's controller byte, or with sticky actions, maybe the last frame's."""
        if self._sticky and self.np_random.random() < self._sticky:
            return self._last_byte
        self._last_byte = self._bytes[action]
        return self._last_byte

    def step(self, action):
        reward, done = 0.0, False
        for _ in range(FRAME_SKIP):
            screen, _, done, nes_info = self._nes.step(self._press(int(action)))
            reward += self._progress.update(self._level(), self._scroll_x())
            if done:
                break
        self._steps += 1
        truncated = not done and self._max_steps is not None and self._steps >= self._max_steps
        return self._observe(screen), reward, bool(done), truncated, self._info(nes_info)

    def get_action_meanings(self) -> list[str]:
        """ALE's convention (UP, LEFT+A, ...): what a player's keys and scripted agents look up."""
        return ["+".join(b.upper() for b in buttons) for buttons in ACTIONS]

    def render(self):
        return self._screen.copy()

    def close(self):
        if self._nes._env is not None:  # nes-py refuses a second close
            self._nes.close()
