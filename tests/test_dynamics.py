"""Dynamics curiosity (four feature spaces) and ICM: novelty falls where the forward model has
learned, resumes exactly, refuses unknown feature spaces, the study's numbers as defaults."""

import functools
import subprocess
import sys

import gin
import pytest
import torch

import peer_checks
from episodic_curiosity import configuration
from episodic_curiosity.agents import ppo
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import methods
from episodic_curiosity.rewards import dynamics


def make(feature_space):
    return dynamics.DynamicsCuriosity(num_envs=peer_checks.NUM_ENVS,
                                      scenario=peer_checks.scenario(), device=torch.device("cpu"),
                                      feature_space=feature_space, warmup_env_steps=1,
                                      learning_rate=1e-3, num_minibatches=1, epochs=1)


def make_icm():
    return dynamics.ICM(num_envs=peer_checks.NUM_ENVS, scenario=peer_checks.scenario(),
                        device=torch.device("cpu"), num_minibatches=1, epochs=1,
                        learning_rate=1e-3)


MAKERS = {**{f: functools.partial(make, f) for f in dynamics.FEATURE_SPACES}, "icm": make_icm}


# Measured: ICM 0.0085 -> 0.0003, novel 0.0175 (with the forward target detached, as before
# the fix in dynamics.py, it rose instead: 0.0315 -> 0.0444 at 84x84).
@pytest.mark.parametrize("name", list(MAKERS))
def test_familiar_transition_bonus_falls_novel_stays_high(name):
    before, after, novel = peer_checks.familiar_falls_novel_stays(MAKERS[name], updates=25,
                                                                  steps=2)
    print(f"{name} bonus: familiar {before:.4f} -> {after:.4f}, novel {novel:.4f}")
    assert after < 0.3 * before
    assert novel > 3 * after


@pytest.mark.parametrize("name", list(MAKERS))
def test_state_round_trip_is_exact(name):
    peer_checks.round_trip_is_exact(MAKERS[name])


def test_unknown_feature_space_is_a_usage_error():
    with pytest.raises(UsageError,
                       match="feature space 'rgb'; choose one of: idf, pixels, random, vae"):
        make("rgb")


def test_unknown_feature_space_from_the_binary_is_one_error_line(tmp_path, repo):
    result = subprocess.run(
        [sys.executable, "-m", "episodic_curiosity.train_policy", f"--workdir={tmp_path}/run",
         *[f"--gin_config={f}" for f in methods.get("ppo_plus_curiosity").gin_files],
         "--gin_bindings=train_policy.scenario='doom_basic'",
         "--gin_bindings=DynamicsCuriosity.feature_space='rgb'"],
        capture_output=True, text=True, timeout=300, cwd=repo)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "feature space" in lines[0]
    assert not (tmp_path / "run").exists()


def test_study_and_icm_numbers_are_the_gin_defaults():
    configuration.parse(methods.get("ppo_plus_curiosity").gin_files, [])
    try:
        config = ppo.PPOConfig()
        assert (config.num_envs, config.num_steps, config.update_epochs,
                config.num_minibatches) == (128, 128, 3, 8)
        assert (config.learning_rate, config.ent_coef, config.clip_coef, config.gamma,
                config.gae_lambda) == (1e-4, 0.001, 0.1, 0.99, 0.95)
        assert (config.ext_coef, config.int_coef, config.int_episodic) == (0.0, 1.0, False)
        module = dynamics.DynamicsCuriosity(num_envs=128, scenario=peer_checks.scenario(),
                                            device=torch.device("cpu"))
        assert module.separate_stream and module.features.out_dim == 512
        assert module.warmup_env_steps == 10000 and module.detach_features
    finally:
        gin.clear_config()
    configuration.parse(methods.get("ppo_plus_icm").gin_files, [])
    try:
        icm = dynamics.ICM(num_envs=12, scenario=peer_checks.scenario(),
                           device=torch.device("cpu"))
        assert not icm.separate_stream and icm.reward_scale == 0.01
        assert icm.forward_weight == pytest.approx(2.0) and icm.aux_weight == pytest.approx(8.0)
        # Pathak's universeHead: frames resized to 42x42, 4 stride-2 convs -> 3x3x32 = 288.
        assert icm.feature_size == 42 and icm.features.out_dim == 288
    finally:
        gin.clear_config()


@pytest.mark.parametrize("space", dynamics.FEATURE_SPACES)
def test_each_feature_space_has_a_gin_file(space):
    path = configuration.GIN_DIR / "methods" / "curiosity" / f"{space}.gin"
    configuration.parse(methods.get("ppo_plus_curiosity").gin_files + [path], [])
    try:
        assert configuration.query("DynamicsCuriosity.feature_space", None) == space
    finally:
        gin.clear_config()


def test_curiosity_runs_on_the_symbolic_minigrid_view():
    """The study's frame convs do not fit a 7x7 view: random features there are RIDE's convs,
    frozen, and the whitening is the view's; learned features are refused in one line."""
    import numpy as np

    from episodic_curiosity import envs
    spec = envs.get("minigrid_doorkey_5x5")
    module = dynamics.DynamicsCuriosity(num_envs=2, scenario=spec, device=torch.device("cpu"),
                                        warmup_env_steps=1, num_minibatches=1, epochs=1)
    assert isinstance(module.features, dynamics.GridRandomFeatures)
    env = envs.make_env(spec.name, envs.Split.TEST, 0)
    obs = np.stack([env.reset()[0], env.step(2)[0]])
    env.close()
    module.warmup(obs)
    bonus = module.compute(obs, np.array([2, 0]), obs[::-1].copy(), np.zeros(2, bool),
                           np.zeros(2, bool),
                           [{}, {}])
    module.update(0)
    assert bonus.shape == (2,) and np.isfinite(bonus).all() and bonus.max() > 0
    with pytest.raises(UsageError, match="random features only"):
        dynamics.DynamicsCuriosity(num_envs=2, scenario=spec, device=torch.device("cpu"),
                                   feature_space="idf")
