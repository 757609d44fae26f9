"""The DMLab adapter against a test double of the documented deepmind_lab Python API."""

import sys
import types

import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.envs import dmlab
from episodic_curiosity.errors import UsageError


class FakeLab:
    """Records calls; the episode ends after `frames` frames; reward 1 per step."""

    instances = []

    def __init__(self, level, observations, config=None, renderer="software"):
        self.level, self.observation_names, self.config, self.renderer = (
            level, observations, config, renderer)
        self.steps, self.resets, self.frame, self.frames = [], [], 0, 12
        FakeLab.instances.append(self)

    def reset(self, seed=None):
        self.resets.append(seed)
        self.frame = 0

    def step(self, action, num_steps=1):
        self.steps.append((action, num_steps))
        self.frame += num_steps
        return 1.0

    def is_running(self):
        return self.frame < self.frames

    def observations(self):
        assert self.is_running(), "DMLab has no observations once the episode ended"
        rgb = np.full((84, 84, 3), self.frame % 256, np.uint8)
        rgb[::2] = 200
        return {"RGB_INTERLEAVED": rgb,
                "DEBUG.POS.TRANS": np.array([100.0 + self.frame, 50.0, 30.0])}

    def close(self):
        pass


@pytest.fixture
def fake_lab(monkeypatch):
    FakeLab.instances = []
    monkeypatch.setitem(sys.modules, "deepmind_lab", types.SimpleNamespace(Lab=FakeLab))
    return FakeLab


def test_levels_config_and_observations(fake_lab):
    env = envs.make_env("dmlab_sparse", envs.Split.POLICY_TRAINING, 0)
    lab = fake_lab.instances[-1]
    assert lab.level == "contributed/dmlab30/explore_goal_locations_large"
    assert lab.observation_names == ["RGB_INTERLEAVED", "DEBUG.POS.TRANS"]
    assert lab.config["width"] == "84" and lab.config["height"] == "84"
    assert all(isinstance(v, str) for v in lab.config.values())
    obs, info = env.reset()
    assert obs.shape == (84, 84, 3) and obs.dtype == np.uint8
    np.testing.assert_array_equal(info["agent_xy"], [100.0, 50.0])
    levels = {n: envs.get(f"dmlab_{n}").build(0) and fake_lab.instances[-1].level
              for n in dmlab.LEVELS}
    assert levels["sparseplusdoors"].endswith("explore_obstructed_goals_large")
    assert levels["dense1"].endswith("rooms_keys_doors_puzzle")
    assert levels["dense2"].endswith("rooms_collect_good_objects_train")
    assert fake_lab.instances[-6].config["minGoalDistance"] == "10"  # verysparse


def test_actions_repeat_and_reward(fake_lab):
    env = envs.get("dmlab_sparse").build(7)
    lab = fake_lab.instances[-1]
    env.reset()
    _, reward, terminated, truncated, info = env.step(6)
    action, repeat = lab.steps[-1]
    assert action.shape == (7,) and action.dtype == np.int32
    assert action.tolist() == [-20, 0, 0, 1, 0, 0, 0]  # look left + forward
    assert repeat == 4 and reward == 1.0 and not (terminated or truncated)
    np.testing.assert_array_equal(info["agent_xy"], [104.0, 50.0])
    assert env.action_space.n == 9
    env.step(8)
    assert lab.steps[-1][0].tolist() == [0, 0, 0, 0, 1, 0, 0]  # fire


def test_nofire_and_noreward(fake_lab):
    env = envs.get("dmlab_norewardnofire").build(0)
    assert env.action_space.n == 8
    env.reset()
    _, reward, *_ = env.step(0)
    assert reward == 0.0 and fake_lab.instances[-1].steps[-1][0].tolist() == [0, 0, 0, 1, 0, 0, 0]


def test_episode_end_and_seeds(fake_lab):
    env = envs.get("dmlab_dense1").build(3)
    lab = fake_lab.instances[-1]
    env.reset()
    ends = [env.step(0)[2:4] for _ in range(3)]  # 12 frames: over after the third step
    assert ends == [(False, False), (False, False), (False, True)]
    env.reset()
    other = envs.get("dmlab_dense1").build(3)
    other.reset()
    other.reset()
    assert fake_lab.instances[-1].resets == lab.resets  # same level seed, same episode seeds
    assert lab.resets[0] != lab.resets[1]  # a new maze each episode
    envs.get("dmlab_dense1").build(4).reset()
    assert fake_lab.instances[-1].resets[0] != lab.resets[0]


def test_not_installed_is_a_one_line_usage_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "deepmind_lab", None)  # import raises ImportError
    assert "dmlab_sparse" in envs.names()
    assert "dmlab_sparse" not in envs.names(available_only=True)
    with pytest.raises(UsageError) as error:
        envs.make_env("dmlab_sparse", envs.Split.POLICY_TRAINING, 0)
    assert str(error.value) == dmlab.INSTALL_HINT and "\n" not in dmlab.INSTALL_HINT
    assert "pip install" in dmlab.INSTALL_HINT
