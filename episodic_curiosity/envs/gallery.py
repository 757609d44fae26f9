"""One labelled picture per scenario in a PNG: how a user judges the worlds at a glance.

Every tile is what a player of the scenario sees, as RGB, picked as the most detailed of the
first few steps of a seeded episode: the agent's 84x84 view where it is RGB (mazes, Doom, Ant,
MiniGrid's _rgb twins); the engine's own colour screen where the policy gets a gray frame stack
(Atari), or else the newest gray frame; MiniGrid's symbolic 7x7x3 view drawn with minigrid's
tiles (only what the agent sees). The second line of a label says which. Worlds that can draw
themselves from above (mazes, MiniGrid) add their map beside it.
"""

import dataclasses
import re

import cv2
import numpy as np

from episodic_curiosity.envs import registry
from episodic_curiosity.envs.splits import Split
from episodic_curiosity.errors import UsageError

COLUMNS = 6
_TILE = 168  # the picture's side (6 columns: a 1008-pixel-wide PNG)
_FONT, _SCALE, _LINE, _LINES = cv2.FONT_HERSHEY_SIMPLEX, 0.42, 15, 3
_BANNER = _LINE * _LINES + 3  # the scenario's name (up to two lines), then what the tile shows
TILE_SHAPE = (_BANNER + _TILE, _TILE, 3)
_STEPS = 12
_WHITE, _NAME_INK, _NOTE_INK = 255, (0, 0, 0), (30, 70, 170)


@dataclasses.dataclass
class Gallery:
    image: np.ndarray  # RGB, COLUMNS tiles of TILE_SHAPE a row, padded with white tiles
    labels: list  # (scenario, note) per tile, in order


def _gray_to_rgb(frame: np.ndarray) -> np.ndarray:
    return np.repeat(frame[..., None], 3, axis=-1)


def draw_symbolic(view: np.ndarray) -> np.ndarray:
    """MiniGrid's symbolic view (object, colour, state per cell) drawn with minigrid's own tiles,
    the agent at the bottom centre facing up, cells it cannot see left dark: what the symbolic
    policy knows, drawn like its _rgb twin's picture (minigrid's `get_pov_render`)."""
    from minigrid.core.grid import Grid  # imported on use: only MiniGrid scenarios need it
    from episodic_curiosity.envs import minigrid, minigrid_view
    grid, seen = Grid.decode(view)
    agent = (minigrid_view.VIEW // 2, minigrid_view.VIEW - 1)
    return grid.render(minigrid.TILE_PIXELS, agent_pos=agent, agent_dir=3, highlight_mask=seen)


def _screen(env):
    """The engine's own colour frame (Atari's 210x160 screen) where the env renders RGB arrays;
    None otherwise."""
    if env.render_mode != "rgb_array":
        return None
    frame = env.render()
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[-1] != 3:
        return None
    return frame.astype(np.uint8)


def picture(env, obs: np.ndarray, scenario: registry.Scenario) -> tuple[np.ndarray, str]:
    """What a player of `scenario` sees at observation `obs`, as RGB, and a note saying what it
    is: a gray frame stack or a symbolic view is no picture to tile as it is."""
    if scenario.symbolic:
        return draw_symbolic(obs), "symbolic view, drawn"
    newest = obs[..., obs.shape[-1] - scenario.frame_channels:]
    if newest.shape[-1] == 3:
        return obs, "agent's view"
    screen = _screen(env)
    if screen is not None:
        return screen, "RGB screen"
    return _gray_to_rgb(newest[..., -1]), f"gray, newest of {obs.shape[-1]}"


def _detail(image: np.ndarray) -> float:
    """Brightness contrast: the std over RGB channels would rank a saturated wall filling the
    view (Doom's red ones) above a room."""
    return float(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).std())


def _views(name: str) -> tuple[np.ndarray, str, np.ndarray | None]:
    """The most detailed player's picture of the first steps (random actions, seeded), its note,
    and the map where the world draws one."""
    scenario, env = registry.get(name), registry.make_env(name, Split.VALIDATION, 0)
    try:
        obs, _ = env.reset()
        pictures = [picture(env, obs, scenario)]
        rng = np.random.default_rng(0)
        for _ in range(_STEPS):
            obs, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
            pictures.append(picture(env, obs, scenario))
            if terminated or truncated:
                break
        view, note = max(pictures, key=lambda p: _detail(p[0]))
        top_view = getattr(env.unwrapped, "render_top_view", None)
        return view, note, None if top_view is None else top_view()
    finally:
        env.close()


def _text_width(text: str) -> int:
    return cv2.getTextSize(text, _FONT, _SCALE, 1)[0][0]


def wrap(name: str) -> list[str]:
    """`name` in lines that fit a tile, broken after underscores (the names are long: MiniGrid's
    run to 36 characters, twice what one line holds)."""
    lines = [""]
    for part in re.split(r"(?<=_)", name):
        if lines[-1] and _text_width(lines[-1] + part) > _TILE - 8:
            lines.append("")
        lines[-1] += part
    return lines


def _banner(name: str, note: str) -> np.ndarray:
    banner = np.full((_BANNER, _TILE, 3), _WHITE, np.uint8)
    lines = [(line, _NAME_INK) for line in wrap(name)[:_LINES - 1]] + [(note, _NOTE_INK)]
    for row, (text, ink) in enumerate(lines):
        cv2.putText(banner, text, (4, _LINE * (row + 1) - 3), _FONT, _SCALE, ink, 1, cv2.LINE_AA)
    return banner


def _fit(image: np.ndarray) -> np.ndarray:
    """`image` scaled to fit a tile with its aspect kept (Atari's screen is 210x160, MiniGrid's
    maps are not all square), centred on white."""
    height, width = image.shape[:2]
    scale = _TILE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resample = cv2.INTER_NEAREST if scale >= 1 else cv2.INTER_AREA
    image = cv2.resize(np.ascontiguousarray(image, np.uint8), size, interpolation=resample)
    tile = np.full((_TILE, _TILE, 3), _WHITE, np.uint8)
    top, left = (_TILE - size[1]) // 2, (_TILE - size[0]) // 2
    tile[top:top + size[1], left:left + size[0]] = image
    return tile


def _tile(image: np.ndarray, name: str, note: str) -> np.ndarray:
    return np.concatenate([_banner(name, note), _fit(image)])


def _scenario_tiles(name: str, drawn: list[str]) -> list[tuple[np.ndarray, str]]:
    """A scenario's tiles and their notes: its view, then its map (a symbolic MiniGrid scenario
    shares its _rgb twin's layout, so the twin's map stands for both when both are drawn)."""
    view, note, top = _views(name)
    tiles = [(_tile(view, name, note), note)]
    if top is not None and not (registry.get(name).symbolic and f"{name}_rgb" in drawn):
        tiles.append((_tile(top, name, "map"), "map"))
    return tiles


def render(path: str, names=None, columns: int = COLUMNS) -> Gallery:
    """Writes the gallery PNG of `names` (every scenario buildable here by default) to `path`."""
    names = list(names or registry.names(available_only=True))
    tiles, labels = [], []
    for name in names:
        for tile, note in _scenario_tiles(name, names):
            tiles.append(tile)
            labels.append((name, note))
    tiles += [np.full(TILE_SHAPE, _WHITE, np.uint8)] * (-len(tiles) % columns)
    rows = [np.concatenate(tiles[i:i + columns], 1) for i in range(0, len(tiles), columns)]
    image = np.concatenate(rows)
    if not cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise UsageError(f"could not write {path}: is it a .png path in an existing directory?")
    return Gallery(image, labels)
