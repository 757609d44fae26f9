"""Atari scenarios: preprocessing, RAM-read positions and rooms, PPO+RND through the launcher
(killed, resumed), the launcher's bad input."""

import csv

import numpy as np
import pytest
import torch

from conftest import kill_after_checkpoints, run_launcher
from episodic_curiosity import checkpoint, envs
from episodic_curiosity.agents import networks
from episodic_curiosity.envs import atari
from episodic_curiosity.launch import local, methods


def test_montezuma_preprocessing_and_rooms_from_ram():
    env = envs.make_env("atari_montezuma", envs.Split.POLICY_TRAINING, 0)
    obs, info = env.reset()
    assert obs.shape == (84, 84, 4) and obs.dtype == np.uint8
    assert info["room"] == 1 and info["rooms_visited"] == 1  # Panama Joe starts in room 1
    x, y = info["agent_xy"]
    assert 1000 <= x < 1160 and 0 < y < 256
    first_xy = info["agent_xy"]
    for _ in range(12):  # RIGHT: Joe walks along the top platform
        obs, _, _, _, info = env.step(3)
    assert info["agent_xy"][0] > first_xy[0]
    assert (obs[..., -1] != obs[..., 0]).any()  # the stack holds different frames, newest last
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)
    env.close()


def test_breakout_time_limit_and_actions():
    scenario = envs.get("atari_breakout")
    assert scenario.num_actions == 4 and scenario.obs_channels == 4
    env = envs.make_env("atari_breakout", envs.Split.VALIDATION, 0)
    assert env.action_space.n == 4
    limits = []
    inner = env
    while hasattr(inner, "env"):
        if hasattr(inner, "_max_episode_steps"):
            limits.append(inner._max_episode_steps)
        inner = inner.env
    assert atari.EPISODE_STEPS in limits and atari.EPISODE_STEPS * atari.FRAME_SKIP == 18000
    net = networks.ActorCritic((84, 84, scenario.obs_channels), scenario.num_actions)
    obs, _ = env.reset()
    logits, _ = net(torch.as_tensor(obs[None]))
    assert logits.shape == (1, 4)
    env.close()


def test_atari_scenarios_clip_the_task_reward():
    files = local.gin_files(methods.get("ppo_plus_rnd"), "atari_montezuma", None)
    assert files[-1].name == "atari_montezuma.gin"
    assert "clip_task_reward = True" in files[-1].read_text()


def test_unknown_atari_game_is_one_error_line(tmp_path):
    result = run_launcher("--method=ppo_plus_rnd", "--scenario=atari_pitfalll",
                          f"--workdir={tmp_path}", timeout=300)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "atari_pitfalll" in lines[0] and "atari_montezuma" in lines[0]


# The tiny preset (4 envs x 64 steps) cut to 6 updates, a checkpoint after each, no evaluation
# but at step 0 and the end, one torch thread.
RND_ARGS = ["--method=ppo_plus_rnd", "--scenario=atari_breakout", "--preset=tiny",
            "--gin_bindings=train_policy.total_steps = 1536",
            "--gin_bindings=train_policy.checkpoint_every_updates = 1",
            "--gin_bindings=train_policy.eval_every_updates = 1000",
            "--gin_bindings=train_policy.eval_envs = 1",
            "--gin_bindings=train_policy.torch_threads = 1"]


def test_rnd_on_breakout_is_killed_and_resumes_with_its_state(tmp_path):
    """SIGKILL mid-run, rerun the same command: it resumes at the last checkpoint with the
    predictor, its optimizer, the observation statistics and the intrinsic normaliser."""
    run = tmp_path / "ppo_plus_rnd" / "atari_breakout" / "run_number_0"
    killed_at = kill_after_checkpoints([*RND_ARGS, f"--workdir={tmp_path}"], run)
    assert 0 < killed_at < 1536
    saved = checkpoint.load_latest(run / "checkpoints")
    assert saved["intrinsic_reward"]["optimizer"]["state"]
    # Warm-up (4 envs x 16 random steps) and every rollout's frames in the statistics.
    assert saved["intrinsic_reward"]["obs_stats"]["count"] == pytest.approx(64 + killed_at,
                                                                            abs=1e-3)
    assert saved["int_normalizer"]["stats"]["count"] == pytest.approx(killed_at, abs=1e-3)
    result = run_launcher(*RND_ARGS, f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming atari_breakout at step {killed_at}" in (run / "log.txt").read_text()
    with open(run / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == list(range(256, 1537, 256))
    assert all(float(r["intrinsic_bonus_mean"]) > 0 for r in rows)
    final = checkpoint.load_latest(run / "checkpoints")
    # No second warm-up on resume: the statistics continue from the checkpoint's.
    assert final["intrinsic_reward"]["obs_stats"]["count"] == pytest.approx(64 + 1536, abs=1e-3)
    assert final["int_normalizer"]["stats"]["count"] == pytest.approx(1536, abs=1e-3)
