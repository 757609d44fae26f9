"""Atari scenarios: preprocessing, RAM-read positions and rooms, the launcher's bad input."""

import numpy as np
import pytest
import torch

from conftest import run_launcher
from episodic_curiosity import envs
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
