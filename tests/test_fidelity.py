"""The original's training schedule and reporting, pinned: what a reproduction must not drift from.

(R-network and memory numbers are pinned in test_rnet.py / test_episodic_*.py, the grid oracle in
test_grid_oracle.py, the maze sizes in test_maze.py.)
"""

import csv

import gin
import numpy as np
import pytest
import torch

from episodic_curiosity import configuration, envs
from episodic_curiosity.agents import networks, run_log
from episodic_curiosity.agents.collector import Collector
from episodic_curiosity.agents.rollout import Rollout
from episodic_curiosity.envs import maze_layout, registry
from episodic_curiosity.launch import local, methods
from episodic_curiosity.workdir import RunDir


def _bound(method, scenario="sparse", name=None):
    configuration.parse(local.gin_files(methods.get(method), scenario, None))
    return gin.query_parameter(name)


@pytest.mark.parametrize("method", ["ppo", "ppo_plus_ec", "ppo_plus_eco", "ppo_plus_grid_oracle"])
def test_the_original_schedule_is_every_methods_default(method):
    # num_timesteps 20M x 1.1 (baselines' "hacky" margin), lr and clip annealed over all of it;
    # PolicyEvaluator(eval_frequency=25) on 12 envs; time limits terminal (baselines' dones).
    assert _bound(method, name="train_policy.total_steps") == 22_000_000
    assert _bound(method, name="train_policy.eval_every_updates") == 25
    assert _bound(method, name="train_policy.eval_envs") == 12
    assert _bound(method, name="train_policy.bootstrap_time_limits") is False


@pytest.mark.parametrize("scenario", ["noreward", "norewardnofire", "noreward_small",
                                      "ant_noreward"])
def test_no_reward_scenarios_hide_the_oracle_metric_from_the_learner(scenario):
    # The original: scale_task_reward = 0 in training for every method; the metric is the oracle.
    assert _bound("ppo", scenario, "train_policy.reward_scale") == 0.0


class _TruncatingEnv:
    """Two envs whose episodes hit a time limit every 3 steps (reward 1 per step)."""
    num_envs = 2

    def __init__(self):
        self.t = 0

    def reset(self):
        return np.zeros((2, 84, 84, 3), np.uint8), [{}, {}]

    def step(self, actions):
        self.t += 1
        truncated = np.full(2, self.t % 3 == 0)
        infos = [{"final_obs": np.zeros((84, 84, 3), np.uint8)} if t else {} for t in truncated]
        return (np.zeros((2, 84, 84, 3), np.uint8), np.ones(2, np.float32), np.zeros(2, bool),
                truncated, infos)


@pytest.mark.parametrize("bootstrap", [False, True])
def test_time_limits_are_terminal_unless_bootstrapping_is_asked(bootstrap):
    torch.manual_seed(0)
    network = networks.ActorCritic((84, 84, 3), 3)
    rollout = Rollout(6, 2, (84, 84, 3), "cpu")
    collector = Collector(_TruncatingEnv(), network, rollout, "cpu", gamma=0.99,
                          bootstrap_time_limits=bootstrap)
    collector.start()
    collector.collect()
    with torch.no_grad():
        _, value = network(torch.zeros((1, 84, 84, 3), dtype=torch.uint8))
    truncated_steps = rollout.rewards[[2, 5]]
    expected = 1.0 + (0.99 * value.item() if bootstrap else 0.0)
    assert torch.allclose(truncated_steps, torch.full_like(truncated_steps, expected), atol=1e-5)
    assert torch.all(rollout.rewards[[0, 1, 3, 4]] == 1.0)


def test_reward_train_is_the_mean_of_the_last_100_episodes(tmp_path):
    run_dir = RunDir(tmp_path).create()
    log = run_log.RunLogger(run_dir, -1)
    losses = {"learning_rate": 1e-4, "clip_coef": 0.1, "policy_loss": 0.0, "value_loss": 0.0,
              "entropy": 1.0, "clip_fraction": 0.0, "approx_kl": 0.0}
    episode = lambda r: {"return": r, "length": 1, "cells_visited": 1, "distance_travelled": 0.0}
    log.update(100, 1, 1.0, losses, [episode(float(r)) for r in range(150)], {})
    log.update(200, 2, 1.0, losses, [episode(1000.0)], {})
    log.close()
    with open(run_dir.reward_csv("train")) as f:
        rows = [float(r["reward_train"]) for r in csv.DictReader(f)]
    assert rows[0] == pytest.approx(np.mean(range(50, 150)))  # the last 100 of 150
    assert rows[1] == pytest.approx((sum(range(51, 150)) + 1000.0) / 100)


# What --preset=table1_small may scale (docs/results.md): run length, evaluation, the R-network
# stages' budget and width, the report card's walks. Never an algorithm's number.
_TABLE1_SCALING = {"train_policy.total_steps", "train_policy.eval_every_updates",
                   "train_policy.eval_envs", "generate.total_steps", "train_r.epochs",
                   "train_r.steps_per_epoch", "RNetwork.width", "write_report.agent_steps",
                   "write_report.pairs_per_bin"}
_ALGORITHM = ["PPOConfig.num_envs", "PPOConfig.num_steps", "PPOConfig.update_epochs",
              "PPOConfig.num_minibatches", "PPOConfig.learning_rate", "PPOConfig.ent_coef",
              "PPOConfig.clip_coef", "EpisodicCuriosity.memory_capacity",
              "EpisodicCuriosity.memory_replacement", "EpisodicCuriosity.percentile",
              "EpisodicCuriosity.novelty_threshold", "EpisodicCuriosity.alpha",
              "EpisodicCuriosity.beta", "GridOracle.alpha", "RTrainer.learning_rate",
              "RTrainer.batch_size", "train_policy.reward_scale"]


def test_table1_small_scales_the_run_never_the_algorithms():
    text = (configuration.GIN_DIR / "presets" / "table1_small.gin").read_text()
    bound = {line.split("=")[0].strip() for line in text.splitlines()
             if "=" in line and not line.lstrip().startswith("#")}
    assert bound and bound <= _TABLE1_SCALING, bound - _TABLE1_SCALING
    paper = {}
    for method in ("ppo", "ppo_plus_ec", "ppo_plus_grid_oracle"):
        for scenario in ("noreward_small", "sparse_small"):
            configuration.parse(local.gin_files(methods.get(method), scenario, None))
            paper[method, scenario] = {name: configuration.query(name, None) for name in _ALGORITHM}
            configuration.parse(local.gin_files(methods.get(method), scenario, "table1_small"))
            scaled = {name: configuration.query(name, None) for name in _ALGORITHM}
            assert scaled == paper[method, scenario], (method, scenario)
    configuration.parse()
    ec = {s: paper["ppo_plus_ec", s]["EpisodicCuriosity.memory_replacement"]
          for s in ("noreward_small", "sparse_small")}
    assert ec == {"noreward_small": "fifo", "sparse_small": "random"}  # as noreward / sparse
    assert paper["ppo", "noreward_small"]["train_policy.reward_scale"] == 0.0
    # The scaled scenarios: explore_goal_locations_small's maze (the factory defaults), 450 steps.
    for name in ("noreward_small", "sparse_small"):
        spec = registry._SCENARIOS[name]
        assert spec.episode_steps == 450 and spec.oracle_cell == 0.3
        env = spec.build(envs.level_seed(envs.Split.VALIDATION, 0))
        try:
            env.reset()
            assert env.layout.grid.shape == (11, 11) and len(env.layout.room_letters()) <= 4
            assert env._task.maze is maze_layout.SMALL
        finally:
            env.close()
