"""Learning on MiniGrid: at a small budget, counts and RIDE find the goal where PPO alone does not.

Same PPO for every method (fixed seeds, in-process envs); each method keeps its own gin defaults.
The metric is the share of 32 TEST-layout episodes in which the final (stochastic) policy reaches
the goal, as the RIDE paper reports solved episodes. Measured (2026-11-22, this seed): PPO 0.31,
counts 0.59, RIDE 0.91 (training-episode return over the last updates: PPO 0.01-0.08, counts
0.10-0.29, RIDE up to 0.44). With counts x10 (coef 0.05) neither count method reached the goal.
"""

import pytest

from episodic_curiosity import envs
from episodic_curiosity.agents import action_stats
from episodic_curiosity.launch import local

SCENARIO = "minigrid_multiroom_n2_s4"
BUDGET = 16384  # agent steps per method: PPO alone has not found the goal by then
SMALL_PPO = ["PPOConfig.num_envs = 8", "PPOConfig.num_steps = 64",
             "PPOConfig.learning_rate = 1e-3", "PPOConfig.anneal = False",
             "PPOConfig.ent_coef = 0.01", f"train_policy.total_steps = {BUDGET}",
             "train_policy.num_workers = 0", "train_policy.eval_every_updates = 100000",
             "train_policy.checkpoint_every_updates = 100000"]
MARGIN = 0.15


def goal_share(method, workdir):
    run_dir = local.run(method, SCENARIO, workdir, extra_bindings=SMALL_PPO)
    network, _ = action_stats.load_policy(run_dir, envs.get(SCENARIO))
    return action_stats.action_frequencies(network, SCENARIO, episodes=32)[1]


@pytest.mark.slow
def test_counts_and_ride_reach_the_goal_more_often_than_ppo(tmp_path):
    shares = {m: goal_share(m, tmp_path) for m in ("ppo", "ppo_plus_counts", "ppo_plus_ride")}
    print("goal reached (share of 32 TEST episodes):", shares)
    assert shares["ppo_plus_counts"] >= shares["ppo"] + MARGIN, shares
    assert shares["ppo_plus_ride"] >= shares["ppo"] + MARGIN, shares
