"""Top-down maps of a level, with the transform from the env's `agent_xy` to map pixels.

Mazes: the episode's labmaze layout (walls dark, floor light), agent_xy in maze cells.
VizDoom: the map's linedefs, read from a second game started on the same scenario file with
sector information on (walls dark, passable lines light), agent_xy in map units (y up).
Other engines (Ant): an empty grid around the start, 1 unit per cell, agent_xy as given.
"""

import dataclasses
import functools
import os

import cv2
import numpy as np

_BACKGROUND = (250, 250, 250)
_WALL = (60, 60, 60)
_PASSABLE = (190, 190, 190)
_GRID = (225, 225, 225)


@dataclasses.dataclass
class TopDownMap:
    image: np.ndarray  # uint8 [size, size, 3], the level without the agent
    scale: float  # pixels per map unit
    origin: tuple  # map coordinates of pixel (0, 0)
    flip_y: bool  # map y grows upwards (VizDoom) instead of downwards (maze rows)

    def to_pixel(self, xy) -> tuple[int, int]:
        x, y = float(xy[0]), float(xy[1])
        px = (x - self.origin[0]) * self.scale
        py = (self.origin[1] - y if self.flip_y else y - self.origin[1]) * self.scale
        return int(round(px)), int(round(py))


def _fit(lo, hi, size, margin):
    """Scale and origin that fit the box [lo, hi] (map units) into `size` pixels, centred."""
    extent = np.maximum(np.asarray(hi, float) - np.asarray(lo, float), 1e-6)
    scale = (size - 2 * margin) / float(extent.max())
    centre = (np.asarray(lo, float) + np.asarray(hi, float)) / 2
    return scale, centre, size / 2 / scale


_ITEM_COLOURS = {"red": (220, 40, 40), "green": (40, 170, 40), "blue": (40, 80, 220),
                 "yellow": (220, 200, 0), "purple": (150, 60, 200), "grey": (130, 130, 130)}


def _draw_items(result, items):
    """The task's items where the episode planned them: goal (green square), keys (diamonds),
    doors (bars), good / bad objects (+ / x)."""
    cell = result.scale
    for item in items:
        r, c = item.cell
        x, y = result.to_pixel((c + 0.5, r + 0.5))
        half = max(int(cell * 0.3), 2)
        colour = _ITEM_COLOURS.get(item.color or "grey", _ITEM_COLOURS["grey"])
        if item.kind == "goal":
            cv2.rectangle(result.image, (x - half, y - half), (x + half, y + half),
                          (40, 170, 40), -1)
        elif item.kind == "key":
            diamond = np.array([(x, y - half), (x + half, y), (x, y + half), (x - half, y)])
            cv2.fillPoly(result.image, [diamond], colour)
        elif item.kind == "door":
            cv2.rectangle(result.image, (x - half, y - half), (x + half, y + half), colour, 2)
        else:
            if item.reward > 0:
                strokes, mark = (((-1, 0), (1, 0)), ((0, -1), (0, 1))), (40, 170, 40)
            else:
                strokes, mark = (((-1, -1), (1, 1)), ((-1, 1), (1, -1))), (220, 40, 40)
            for (ax, ay), (bx, by) in strokes:
                cv2.line(result.image, (x + ax * half, y + ay * half),
                         (x + bx * half, y + by * half), mark, 2)


def maze_map(layout, size: int, items=()) -> TopDownMap:
    """A maze layout (rows x cols of '*' walls) drawn cell by cell, with the task's `items`;
    agent_xy = (col, row)."""
    rows, cols = layout.grid.shape
    scale, centre, half = _fit((0, 0), (cols, rows), size, 4)
    origin = (centre[0] - half, centre[1] - half)
    image = np.full((size, size, 3), _BACKGROUND, np.uint8)
    for r in range(rows):
        for c in range(cols):
            if layout.grid[r, c] == "*":
                x0, y0 = TopDownMap(image, scale, origin, False).to_pixel((c, r))
                x1, y1 = TopDownMap(image, scale, origin, False).to_pixel((c + 1, r + 1))
                cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), _WALL, -1)
    result = TopDownMap(image, scale, origin, flip_y=False)
    _draw_items(result, items)
    return result


@functools.lru_cache(maxsize=8)
def doom_lines(config: str) -> np.ndarray:
    """[N, 5] x1, y1, x2, y2, blocking of every line of the scenario's map (read once)."""
    import vizdoom as vzd
    game = vzd.DoomGame()
    game.load_config(os.path.join(vzd.scenarios_path, config))
    game.set_window_visible(False)
    game.set_sound_enabled(False)
    game.set_sectors_info_enabled(True)
    game.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
    game.init()
    try:
        game.new_episode()
        lines = [(line.x1, line.y1, line.x2, line.y2, line.is_blocking)
                 for sector in game.get_state().sectors for line in sector.lines]
    finally:
        game.close()
    return np.asarray(lines, np.float64)


def doom_map(config: str, size: int) -> TopDownMap:
    lines = doom_lines(config)
    points = np.concatenate([lines[:, 0:2], lines[:, 2:4]])
    scale, centre, half = _fit(points.min(0), points.max(0), size, 8)
    result = TopDownMap(np.full((size, size, 3), _BACKGROUND, np.uint8), scale,
                        (centre[0] - half, centre[1] + half), flip_y=True)
    for blocking in (False, True):  # walls over passable lines
        for x1, y1, x2, y2, b in lines[lines[:, 4] == blocking]:
            cv2.line(result.image, result.to_pixel((x1, y1)), result.to_pixel((x2, y2)),
                     _WALL if b else _PASSABLE, 2 if b else 1, cv2.LINE_AA)
    return result


def grid_map(start_xy, size: int, extent: float = 20.0) -> TopDownMap:
    """An empty grid of unit cells, `extent` units across, centred on the start."""
    half = extent / 2
    scale = size / extent
    origin = (float(start_xy[0]) - half, float(start_xy[1]) + half)
    result = TopDownMap(np.full((size, size, 3), _BACKGROUND, np.uint8), scale, origin, True)
    for k in range(int(extent) + 1):
        p = int(round(k * scale))
        cv2.line(result.image, (p, 0), (p, size - 1), _GRID, 1)
        cv2.line(result.image, (0, p), (size - 1, p), _GRID, 1)
    return result


def for_env(env, start_xy, size: int) -> TopDownMap:
    """The map of the level `env` is in now (call after reset: mazes change every episode)."""
    raw = env.unwrapped
    if hasattr(raw, "layout"):
        plan = getattr(raw, "plan", None)
        return maze_map(raw.layout, size, plan.items if plan is not None else ())
    if getattr(raw, "config", None) and type(raw).__name__ == "DoomEnv":
        return doom_map(raw.config, size)
    return grid_map(start_xy, size)
