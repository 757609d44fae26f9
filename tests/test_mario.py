"""Super Mario Bros (envs/mario.py), the optional extra `pip install -e .[mario]`: listed always and
refused in one line without it; with it, gymnasium's checker, the curiosity study's preprocessing,
actions and x-progress reward, game over and the time limit, and the launcher's PPO and pure
curiosity runs (killed and resumed)."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from conftest import LAUNCHER, kill_after_checkpoints, run_launcher
from episodic_curiosity import envs
from episodic_curiosity.envs import registry
from episodic_curiosity.errors import UsageError

SCENARIOS = ("mario_1_1", "mario_1_1_small")
NO_EXTRA = "the Mario extra is not installed (pip install -e .[mario])"
RIGHT, RIGHT_B = 4, 11  # mario.ACTIONS: ("right",), ("right", "B")


@pytest.fixture(scope="module")
def mario():
    return pytest.importorskip("episodic_curiosity.envs.mario", reason=NO_EXTRA)


def test_without_the_extra_listed_and_refused_in_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "nes_py", None)  # find_spec and import then fail
    assert set(SCENARIOS) <= set(envs.names())
    assert not set(SCENARIOS) & set(envs.names(available_only=True))
    with pytest.raises(UsageError) as error:
        envs.make_env("mario_1_1", envs.Split.POLICY_TRAINING, 0)
    assert str(error.value) == registry.MARIO_HINT and "\n" not in registry.MARIO_HINT
    assert "pip install -e .[mario]" in registry.MARIO_HINT


def test_without_the_extra_the_launcher_says_one_error_line(tmp_path):
    code = ("import runpy, sys; sys.modules['nes_py'] = None; "
            f"sys.argv = [{LAUNCHER!r}, '--scenario=mario_1_1', '--workdir={tmp_path}']; "
            f"runpy.run_path({LAUNCHER!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and lines == [f"error: {registry.MARIO_HINT}"]


def test_registry_agrees_with_the_env_module(mario):
    for name in SCENARIOS:
        spec = envs.get(name)
        assert spec.engine == "nes-py" and spec.num_actions == len(mario.ACTIONS) == 14
        assert spec.obs_channels == mario.FRAME_STACK and spec.frame_channels == 1
    assert envs.get("mario_1_1").episode_steps == mario.EPISODE_STEPS == 6000
    assert len(set(mario.action_bytes())) == 14  # every button combination distinct


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped")  # wrappers: as trained
@pytest.mark.parametrize("name", SCENARIOS)
def test_passes_gymnasiums_check_env(mario, name):
    env = envs.make_env(name, envs.Split.POLICY_TRAINING, 0)
    check_env(env, skip_render_check=True)
    env.close()


def test_frame_processing_is_the_studys_gray_84x84(mario):
    frame = np.zeros((240, 256, 3), np.uint8)
    frame[:] = (100, 200, 50)
    frame[:mario.OVERSCAN] = 255  # the overscan band is cut before the resize
    gray = mario.process_frame(frame)
    expected = int(100 * 0.299 + 200 * 0.587 + 50 * 0.114)
    assert gray.shape == (84, 84) and gray.dtype == np.uint8
    assert np.abs(gray.astype(int) - expected).max() <= 1


def test_x_progress_pays_new_ground_once_per_level(mario):
    progress = mario.XProgress()
    assert [progress.update((0, 0), x) for x in (10, 5, 15)] == [10, 0, 5]
    assert progress.update((1, 0), 300) == 0  # a new level: nothing, the best restarts at 0
    assert progress.update((1, 0), 30) == 30 and progress.total == 45
    assert progress.levels == {(0, 0), (1, 0)}


def test_holding_right_moves_mario_and_pays_x_progress(mario):
    env = envs.make_env("mario_1_1", envs.Split.POLICY_TRAINING, 0)
    obs, info = env.reset()
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
    assert (info["world"], info["stage"], info["rooms_visited"]) == (1, 1, 1)
    start, total = info["x_pos"], 0.0
    for _ in range(20):
        obs, reward, terminated, truncated, info = env.step(RIGHT_B)
        total += reward
    assert not (terminated or truncated) and info["x_pos"] > start + 150  # ~12 px a step
    # The study's x is the screen's scroll, which follows Mario once he passes mid-screen.
    assert info["agent_xy"][0] == info["x_pos"] and total == info["x_distance"] > 50
    assert info["levels_passed"] == 0
    assert (obs[..., -1] != obs[..., 0]).any()  # the stack holds 4 different frames, newest last
    env.close()


def test_game_over_ends_mario_1_1_and_600_steps_end_the_small_one(mario):
    env = envs.make_env("mario_1_1", envs.Split.TEST, 0)
    env.reset()
    env.unwrapped._nes.ram[0x075A] = 0  # the last life: the first death is game over
    for steps in range(1, 500):
        _, _, terminated, truncated, info = env.step(RIGHT)  # into the first Goomba
        if terminated or truncated:
            break
    assert terminated and not truncated and info["life"] == 0xFF
    assert info["episode"]["return"] == info["x_distance"] and info["episode"]["rooms_visited"] == 1
    env.close()
    small = envs.make_env("mario_1_1_small", envs.Split.TEST, 0)
    small.reset()
    ends = [small.step(0)[2:4] for _ in range(600)]  # no-op: Mario stands, the clock runs
    assert ends[-1] == (False, True) and not any(any(e) for e in ends[:-1])
    small.close()


# The tiny preset cut to 2 updates of 4 envs x 64 steps, evaluation on one episode per split at
# the start and the end, one torch thread (two oversubscribe a busy 2-core CPU: 10x slower).
TINY = ["--scenario=mario_1_1_small", "--preset=tiny", "--gin_bindings=train_policy.eval_envs = 1",
        "--gin_bindings=train_policy.torch_threads = 1"]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_ppo_run_writes_the_reward_csvs(mario, tmp_path):
    result = run_launcher("--method=ppo", *TINY, f"--workdir={tmp_path}",
                          "--gin_bindings=train_policy.total_steps = 512")
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ppo" / "mario_1_1_small" / "run_number_0"
    for split in ("train", "valid", "test"):
        assert (run / f"reward_{split}.csv").is_file()
    rows = _rows(run / "reward_test.csv")  # x distance, at the start and the end
    assert [int(r["step"]) for r in rows] == [0, 512] and all(float(r["reward_test"]) > 0
                                                             for r in rows)
    assert [int(r["step"]) for r in _rows(run / "progress.csv")] == [256, 512]


def test_pure_curiosity_is_killed_and_resumes(mario, tmp_path):
    """ppo_plus_curiosity (task reward x0 for the learner; the CSVs keep the x distance),
    SIGKILLed after its first checkpoint, rerun: it resumes there and finishes."""
    args = ["--method=ppo_plus_curiosity", *TINY, f"--workdir={tmp_path}",
            "--gin_bindings=train_policy.total_steps = 768",
            "--gin_bindings=train_policy.checkpoint_every_updates = 1"]
    run = tmp_path / "ppo_plus_curiosity" / "mario_1_1_small" / "run_number_0"
    killed_at = kill_after_checkpoints(args, run, checkpoints=1)
    assert 0 < killed_at < 768
    result = run_launcher(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming mario_1_1_small at step {killed_at}" in (run / "log.txt").read_text()
    assert [int(r["step"]) for r in _rows(run / "progress.csv")] == [256, 512, 768]
    assert all(float(r["intrinsic_bonus_mean"]) > 0 for r in _rows(run / "progress.csv"))
    for split in ("train", "valid", "test"):
        assert (run / f"reward_{split}.csv").is_file()
