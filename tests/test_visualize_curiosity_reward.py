"""visualize_curiosity_reward on a trained checkpoint: MP4s of the right length and size, frames
that show something, and a map whose trajectory grows as the agent moves."""

import json
import subprocess
import sys

import cv2
import numpy as np

from conftest import REPO
from episodic_curiosity.analysis import maps, video
from policy_checkpoint import r_network, random_policy, trained_run  # noqa: F401  (fixtures)

STEPS = 120


def run_tool(*args):
    return subprocess.run([sys.executable, "-m", "episodic_curiosity.visualize_curiosity_reward",
                           *args], capture_output=True, text=True, cwd=REPO, timeout=600)


def coloured(panel):
    """Pixels of the trajectory: reddish or greenish (walls, floor and text are grey, the memory
    rings purple)."""
    r, g, b = np.moveaxis(panel.astype(int), -1, 0)
    return (r - b > 50) & (r - g > 50) | (g - r > 50) & (g - b > 50)


def agent_centre(panel):
    ys, xs = np.nonzero(panel.max(-1) < 40)  # the black disc
    return np.array([xs.mean(), ys.mean()])


def test_doom_video_with_the_ec_bonus_then_replayed(trained_run, r_network, tmp_path):  # noqa: F811
    result = run_tool(f"--workdir={tmp_path}", f"--policy_path={trained_run}",
                      f"--r_net_weights={r_network}", "--num_episodes=1", f"--num_steps={STEPS}")
    assert result.returncode == 0, result.stderr[-3000:]
    frames = video.read_frames(tmp_path / "video_0.mp4")
    assert frames.shape == (STEPS + 1, video.HEIGHT, video.VIEW + video.MAP, 3)
    view, panel = frames[:, :video.VIEW, :video.VIEW], frames[:, :, video.VIEW:]
    assert all(f.std() > 10 for f in view[::10])  # the first-person view is not blank
    assert coloured(panel[0]).sum() == 0  # nothing walked yet
    trail = (np.abs(panel[-1].astype(int) - panel[0]).max(-1) > 40) & (panel[-1].max(-1) > 60)
    assert trail.sum() > 30  # the trajectory (and memory rings) drawn where there was floor
    assert coloured(panel[-1]).sum() > 10  # in bonus colours
    assert np.linalg.norm(agent_centre(panel[-1]) - agent_centre(panel[0])) > 3  # it moved
    walls = panel[0].max(-1) < 100
    assert walls.sum() > 1000  # MyWayHome's linedefs
    actions = json.loads((tmp_path / "trajectory_0.json").read_text())
    assert len(actions) == STEPS

    # The saved actions replayed without the policy give the same path; the view alone.
    replay = tmp_path / "replay"
    replay.mkdir()
    (replay / "trajectory_0.json").write_text(json.dumps(actions))
    result = run_tool(f"--workdir={replay}", "--trajectory_mode=load", "--scenario=doom_dense",
                      "--visualization_type=observation", "--num_episodes=1")
    assert result.returncode == 0, result.stderr[-3000:]
    replayed = video.read_frames(replay / "video_0.mp4")
    assert replayed.shape == (STEPS + 1, video.VIEW, video.VIEW, 3)
    # Same level, same actions: the same first-person frames (up to video compression).
    assert np.abs(replayed[-1].astype(int) - view[-1].astype(int)).mean() < 8


def test_maze_video_draws_the_layout(tmp_path):
    policy = random_policy(tmp_path / "ckpt", "sparse")
    result = run_tool(f"--workdir={tmp_path}", f"--policy_path={policy}", "--num_episodes=1",
                      "--num_steps=40", "--frame_strip=3", "--trajectory_mode=do_nothing")
    assert result.returncode == 0, result.stderr[-3000:]
    frames = video.read_frames(tmp_path / "video_0.mp4")
    assert frames.shape == (41, video.HEIGHT, video.VIEW + video.MAP, 3)
    panel = frames[:, :, video.VIEW:]
    assert (panel[0].max(-1) < 100).mean() > 0.2  # the maze's walls
    assert np.linalg.norm(agent_centre(panel[-1]) - agent_centre(panel[0])) > 2
    assert frames[-1, :video.VIEW, :video.VIEW].std() > 10
    strip = cv2.imread(str(tmp_path / "video_0_strip.png"))
    assert strip.shape == (video.HEIGHT, 3 * (video.VIEW + video.MAP), 3)
    assert not list(tmp_path.glob("trajectory_*.json"))  # do_nothing: no actions saved


def test_bad_input_is_one_line_before_any_video(tmp_path):
    result = run_tool(f"--workdir={tmp_path}", "--scenario=doom_dense")
    assert result.returncode == 2 and "--policy_path is required" in result.stderr, result.stderr
    # Replaying two episodes with one recorded: refused before the first video, not after it.
    (tmp_path / "trajectory_0.json").write_text("[0, 0, 0]")
    result = run_tool(f"--workdir={tmp_path}", "--trajectory_mode=load", "--scenario=doom_dense",
                      "--num_episodes=2", "--visualization_type=observation")
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines() == [
        f"error: --trajectory_mode=load but {tmp_path / 'trajectory_1.json'} does not exist; "
        "record it first with --trajectory_mode=save"]
    assert not list(tmp_path.glob("video_*"))


def test_maps_place_the_agent_on_the_level():
    lines = maps.doom_lines("my_way_home.cfg")
    assert len(lines) > 50 and lines[:, 4].any()
    doom = maps.doom_map("my_way_home.cfg", 368)
    x0, y0 = doom.to_pixel((lines[:, [0, 2]].min(), lines[:, [1, 3]].max()))
    x1, y1 = doom.to_pixel((lines[:, [0, 2]].max(), lines[:, [1, 3]].min()))
    assert 0 <= x0 < x1 < 368 and 0 <= y0 < y1 < 368  # the whole map inside, y flipped


def test_maze_map_shows_the_planned_items():
    from episodic_curiosity import envs
    env = envs.make_env("dense1", envs.Split.VALIDATION, 0)
    try:
        _, info = env.reset()
        top = maps.for_env(env, info["agent_xy"], video.MAP)
        plan = env.unwrapped.plan
    finally:
        env.close()
    goal = next(item for item in plan.items if item.kind == "goal")
    x, y = top.to_pixel((goal.cell[1] + 0.5, goal.cell[0] + 0.5))
    assert tuple(top.image[y, x]) == (40, 170, 40)  # the goal's green square
    r, c = np.argwhere(env.unwrapped.layout.grid == "*")[0]
    x, y = top.to_pixel((c + 0.5, r + 0.5))
    assert top.image[y, x].max() < 100  # a wall cell is dark
