"""The quick example's size: curves a plot can show, an evaluation that does not dominate."""

import gin

from conftest import REPO
from episodic_curiosity import configuration, envs


def test_smoke_preset_gives_curves_on_doom_dense():
    configuration.parse([REPO / "gin" / "methods" / "ppo.gin", REPO / "gin" / "presets" / "smoke.gin"])
    try:
        num_envs = gin.query_parameter("PPOConfig.num_envs")
        batch = num_envs * gin.query_parameter("PPOConfig.num_steps")
        total = gin.query_parameter("train_policy.total_steps")
        eval_every = gin.query_parameter("train_policy.eval_every_updates")
        eval_envs = gin.query_parameter("train_policy.eval_envs")
    finally:
        gin.clear_config()
    episode = envs.get("doom_dense").episode_steps
    updates = total // batch
    assert total % batch == 0
    # The envs start together and doom_dense episodes last 525 steps: a reward_train row per
    # num_envs * 525 agent steps.
    assert total // (num_envs * episode) >= 8
    evaluations = updates // eval_every
    assert evaluations >= 4
    eval_steps = evaluations * 2 * eval_envs * episode  # valid + test, whole episodes
    assert eval_steps < total / 2
