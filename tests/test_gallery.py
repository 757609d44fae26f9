"""`python -m episodic_curiosity.envs --gallery`: every scenario as its player sees it, in RGB."""

import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.envs import gallery

HEIGHT, WIDTH, _ = gallery.TILE_SHAPE
PICTURE = slice(HEIGHT - WIDTH, HEIGHT)  # below the label banner


def _cells(image: np.ndarray) -> list[np.ndarray]:
    return [image[top:top + HEIGHT, left:left + WIDTH]
            for top in range(0, image.shape[0], HEIGHT)
            for left in range(0, image.shape[1], WIDTH)]


def _contrast(tile: np.ndarray) -> float:
    return float(cv2.cvtColor(tile[PICTURE], cv2.COLOR_BGR2GRAY).std())


def test_default_gallery_tiles_every_scenario_in_rgb(tmp_path):
    """The README's command, default arguments: it once died on Atari's 84x84x4 frame stack."""
    out = tmp_path / "gallery.png"
    run = subprocess.run([sys.executable, "-m", "episodic_curiosity.envs", "--gallery", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    tiles, scenarios, maps = map(int, re.search(r"(\d+) tiles, (\d+) scenarios and (\d+) maps",
                                                run.stdout).groups())
    assert scenarios == len(envs.names(available_only=True)) and tiles == scenarios + maps
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[1] == gallery.COLUMNS * WIDTH and image.shape[0] % HEIGHT == 0
    cells = _cells(image)
    assert all(cell.shape == gallery.TILE_SHAPE for cell in cells)
    drawn, padding = cells[:tiles], cells[tiles:]
    assert len(padding) < gallery.COLUMNS and all((cell == 255).all() for cell in padding)
    low = sorted((_contrast(cell), i) for i, cell in enumerate(drawn))[:3]
    assert low[0][0] > 5, f"blank-looking tiles (contrast, index): {low}"
    assert all(cell[:HEIGHT - WIDTH].min() < 100 for cell in drawn)  # every tile is labelled
    distinct = {cell[PICTURE].tobytes() for cell in drawn}
    assert len(distinct) > tiles // 2  # a few worlds share a maze (sparse, noreward), not all


def test_atari_tile_is_the_games_colour_screen():
    scenario, env = envs.get("atari_breakout"), envs.make_env("atari_breakout", envs.Split.TEST, 0)
    obs, _ = env.reset()
    picture, note = gallery.picture(env, obs, scenario)
    env.close()
    assert obs.shape == (84, 84, 4) and note == "RGB screen"
    assert picture.shape == (210, 160, 3) and picture.dtype == np.uint8
    assert (picture[..., 0] != picture[..., 1]).any()  # colour, not gray


class _NoScreen:
    render_mode = None


def test_gray_stack_without_a_screen_shows_its_newest_frame():
    stack = np.random.default_rng(0).integers(0, 256, (84, 84, 4), np.uint8)
    picture, note = gallery.picture(_NoScreen(), stack, envs.get("atari_montezuma"))
    assert picture.shape == (84, 84, 3) and note == "gray, newest of 4"
    assert all((picture[..., c] == stack[..., -1]).all() for c in range(3))


def _walk(scenario: str):
    """The observation after a few fixed steps of the scenario's first test env, its picture."""
    env = envs.make_env(scenario, envs.Split.TEST, 0)
    env.reset()
    for action in (0, 2, 2, 1):  # left, forward, forward, right
        obs = env.step(action)[0]
    picture, note = gallery.picture(env, obs, envs.get(scenario))
    env.close()
    return obs, picture, note


@pytest.mark.parametrize("name", ["minigrid_doorkey_8x8", "minigrid_keycorridor_s3r3"])
def test_symbolic_view_is_drawn_as_its_rgb_twin_sees_it(name):
    """Cell by cell, on the cells the agent sees, the drawing is the _rgb twin's observation."""
    symbolic, drawn, note = _walk(name)
    _, seen, _ = _walk(f"{name}_rgb")
    assert note == "symbolic view, drawn" and drawn.shape == seen.shape == (84, 84, 3)
    side = 84 // 7
    visible = list(zip(*np.nonzero(symbolic[..., 0])))  # object type 0: unseen
    assert len(visible) > 7
    for x, y in visible:  # the symbolic view is [x, y], the picture [row, column]
        cell = np.s_[y * side:(y + 1) * side, x * side:(x + 1) * side]
        np.testing.assert_array_equal(drawn[cell], seen[cell])


def test_every_scenario_name_fits_its_label():
    for name in envs.names():
        lines = gallery.wrap(name)
        assert "".join(lines) == name and len(lines) <= 2, lines
