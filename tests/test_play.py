"""Playing a scenario by keyboard, headless: SDL's dummy video driver and scripted key presses
drive the real binary; what it records is what the analysis tools read."""

import csv
import os
import subprocess
import sys

import pytest

from episodic_curiosity import envs, play
from episodic_curiosity.analysis import video
from episodic_curiosity.envs import actions
from test_launcher import assert_one_line_error


def run_play(*args, display=True):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    if display:
        env["SDL_VIDEODRIVER"] = "dummy"
    return subprocess.run([sys.executable, "-m", "episodic_curiosity.play", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def names_of(scenario):
    env = envs.make_env(scenario, envs.Split.TEST, 0)
    try:
        return actions.action_names(env, envs.get(scenario).engine)
    finally:
        env.close()


@pytest.mark.parametrize("scenario", ["sparse_small", "doom_dense", "minigrid_doorkey_5x5"])
def test_scripted_keys_play_record_and_append(tmp_path, scenario):
    names = names_of(scenario)
    bindings = play.key_bindings(names)
    assert sorted(bindings.values()) == list(range(len(names)))  # one key per action
    assert bindings["up"] == actions.move_index(names)["forward"]
    keys = ["up", "up", "left", "up", "right", "1", "tab", "up", "up"]
    out = tmp_path / "human"
    result = run_play(f"--scenario={scenario}", f"--keys={','.join(keys)}", "--num_episodes=3",
                      f"--output_dir={out}")
    assert result.returncode == 0, result.stderr
    episodes, steps = rows(out / "episodes.csv"), rows(out / "steps.csv")
    assert [int(e["length"]) for e in episodes] == [6, 2]  # tab ended the first one
    assert [int(s["action"]) for s in steps] == [bindings[k] for k in keys if k != "tab"]
    assert all(e["cells_visited"] != "" for e in episodes)
    frames = video.read_frames(out / "episode_0.mp4")
    assert frames.shape[0] == 7 and frames.std() > 10  # the reset's frame and six steps
    again = run_play(f"--scenario={scenario}", "--keys=up", f"--output_dir={out}")
    assert again.returncode == 0, again.stderr
    assert [e["episode"] for e in rows(out / "episodes.csv")] == ["0", "1", "2"]


def test_a_methods_bonus_is_shown_and_recorded(tmp_path):
    out = tmp_path / "ride"
    result = run_play("--scenario=minigrid_doorkey_5x5", "--method=ppo_plus_ride",
                      "--keys=up,left,up,right,up,left,left", f"--output_dir={out}")
    assert result.returncode == 0, result.stderr
    bonuses = [float(s["bonus"]) for s in rows(out / "steps.csv")]
    assert len(bonuses) == 7 and max(bonuses) > 0


def test_without_a_display_it_says_so_and_writes_nothing(tmp_path):
    out = tmp_path / "never"
    assert_one_line_error(run_play("--scenario=doom_dense", f"--output_dir={out}",
                                   display=False), "no display", "SDL_VIDEODRIVER=dummy")
    assert not out.exists()


def test_an_unknown_key_is_refused_with_the_scenarios_keys(tmp_path):
    out = tmp_path / "never"
    assert_one_line_error(run_play("--scenario=doom_dense", "--keys=up,jump",
                                   f"--output_dir={out}"), "jump", "MOVE_FORWARD")
    assert not out.exists()


def test_a_run_dirs_checkpoint_is_read_by_the_policy_reader(tmp_path):
    """--run_dir goes through analysis.policy.read: its messages, with --run_dir as the fix."""
    from episodic_curiosity import checkpoint
    from policy_checkpoint import random_policy
    args = ["--scenario=minigrid_doorkey_5x5", "--method=ppo_plus_rnd", "--keys=up",
            f"--output_dir={tmp_path / 'never'}"]
    assert_one_line_error(run_play(*args, f"--run_dir={tmp_path / 'empty'}"),
                          "no policy checkpoint at", "pass --run_dir=")
    foreign = tmp_path / "foreign" / "checkpoints"
    foreign.mkdir(parents=True)
    checkpoint.save(foreign, 0, {"weights": []})
    assert_one_line_error(run_play(*args, f"--run_dir={foreign.parent}"),
                          "is not a policy checkpoint")
    ppo = random_policy(tmp_path / "ppo" / "checkpoints", "minigrid_doorkey_5x5")
    assert_one_line_error(run_play(*args, f"--run_dir={ppo.parent}"),
                          "holds a None reward, not RND")
    assert not (tmp_path / "never").exists()
