"""MiniGrid's PPO is rl-starter-files' for every method; per-family and per-task bonus numbers
come after it, in that order (the gin files' comments give the sources)."""

import gin

from episodic_curiosity import configuration
from episodic_curiosity.agents import ppo
from episodic_curiosity.launch import local, methods


def _parse(method, scenario):
    configuration.parse(local.gin_files(methods.get(method), scenario, None), [])


def test_every_method_gets_rl_starter_files_ppo_on_minigrid():
    for method in ("ppo", "ppo_plus_counts", "ppo_plus_ride", "ppo_plus_rnd", "ppo_plus_e3b"):
        _parse(method, "minigrid_doorkey_8x8")
        try:
            config = ppo.PPOConfig()
            assert (config.num_envs, config.num_steps, config.minibatch_size,
                    config.update_epochs) == (16, 128, 256, 4), method
            assert (config.learning_rate, config.adam_eps, config.anneal) == (1e-3, 1e-8, False)
            assert (config.clip_coef, config.ent_coef, config.vf_coef, config.max_grad_norm,
                    config.gamma, config.gae_lambda) == (0.2, 0.01, 0.5, 0.5, 0.99, 0.95)
            assert configuration.query("train_policy.eval_envs", None) == 32
            assert configuration.query("train_policy.num_workers", None) == 0
        finally:
            gin.clear_config()


def test_ride_family_then_task_numbers():
    _parse("ppo_plus_ride", "minigrid_doorkey_8x8")  # no per-task file: the family's 0.1
    try:
        assert configuration.query("RIDE.coef", None) == 0.1
        assert ppo.PPOConfig().ent_coef == 0.01
    finally:
        gin.clear_config()
    _parse("ppo_plus_ride", "minigrid_multiroom_n7_s8")  # the paper's per-task numbers win
    try:
        assert configuration.query("RIDE.coef", None) == 0.5
        assert ppo.PPOConfig().ent_coef == 0.001
    finally:
        gin.clear_config()


def test_other_families_keep_the_papers_dmlab_ppo():
    _parse("ppo", "doom_dense")
    try:
        config = ppo.PPOConfig()
        assert (config.num_envs, config.num_steps, config.learning_rate) == (12, 256, 1.9307e-4)
    finally:
        gin.clear_config()
