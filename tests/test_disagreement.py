"""Disagreement: the variance of an ensemble of forward models, each trained on its own share of
the data; the reference's numbers; familiar transitions fall, novel ones stay; exact resume."""


import numpy as np
import pytest
import torch

import peer_checks
from peer_checks import one_thread_and_clean_gin  # noqa: F401 (a fixture)
from episodic_curiosity import checkpoint
from episodic_curiosity.agents import ppo
from episodic_curiosity.errors import UsageError
from episodic_curiosity.rewards.dynamics import GridRandomFeatures, RandomFeatures
from test_episodic_bonuses import _transitions
from test_rnd import _minigrid_views

NUM_ENVS = peer_checks.NUM_ENVS
RAW = ["DynamicsCuriosity.warmup_env_steps = 0"]  # frames / 255: no statistics to gather
# 10x the reference's lr, one Adam step per update: familiarity in 30 updates, not hundreds.
FAST = ["DynamicsCuriosity.learning_rate = 1e-3", "DynamicsCuriosity.epochs = 1",
        "DynamicsCuriosity.num_minibatches = 1", "DynamicsCuriosity.warmup_env_steps = 1"]
# Two Adam steps per update, not the reference's 3 x 8 (an update of the five 512-wide models
# costs ~1.3 s on the 2-core CPU): the round trips and the launcher run, still minibatched.
SHORT = ["DynamicsCuriosity.epochs = 1", "DynamicsCuriosity.num_minibatches = 2"]


pytestmark = pytest.mark.usefixtures("one_thread_and_clean_gin")


def build(scenario, num_envs=NUM_ENVS, bindings=(), **kwargs):
    return peer_checks.build("ppo_plus_disagreement", scenario, num_envs, bindings, **kwargs)


def places(scenario, count):
    """`count` distinct observations of the scenario's kind, NUM_ENVS copies each."""
    if scenario.startswith("doom"):
        return [peer_checks.frames(seed) for seed in range(count)]
    return _minigrid_views(count, seed=0)


def reach(module, obs, actions, next_obs):
    no = np.zeros(len(obs), bool)
    return module.compute(obs, actions, next_obs, no, no, [{} for _ in obs])


def test_reference_numbers_are_the_gin_defaults():
    grid, frames = build("minigrid_doorkey_5x5"), build("doom_dense")
    config = ppo.PPOConfig()
    assert (config.num_envs, config.num_steps, config.update_epochs,
            config.num_minibatches) == (128, 128, 3, 8)
    assert (config.learning_rate, config.ent_coef, config.clip_coef, config.gamma,
            config.gae_lambda) == (1e-4, 0.001, 0.1, 0.99, 0.95)
    assert (config.ext_coef, config.int_coef) == (0.0, 1.0)
    assert config.normalize_int_reward and not config.int_episodic
    for module in (grid, frames):
        assert len(module.forward_model.models) == 5 and module.keep_prob == 0.8
        assert module.separate_stream and module.detach_features
        assert (module.warmup_env_steps, module.epochs, module.num_minibatches) == (10000, 3, 8)
        assert module.optimizer.defaults["lr"] == 1e-4 and module.reward_scale == 1.0
        assert not any(p.requires_grad for p in module.features.parameters())  # never trained
        model = module.forward_model.models[0]
        assert model.inp.out_features == 512 and len(model.blocks) == 4
        assert model.out.out_features == module.features.out_dim
    assert type(frames.features) is RandomFeatures and frames.features.out_dim == 512
    # The 7x7 view: RND's MiniGrid target (RIDE's embedding convs), not the 8x8/4 convs.
    assert isinstance(grid.features, GridRandomFeatures) and grid.features.out_dim == 128
    convs = [m for m in grid.features.net if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 3


def test_learned_features_on_the_symbolic_view_are_refused():
    with pytest.raises(UsageError, match="random features only.*minigrid_doorkey_5x5_rgb"):
        build("minigrid_doorkey_5x5", bindings=["DynamicsCuriosity.feature_space = 'idf'"])


@pytest.mark.parametrize("scenario", ["doom_basic", "minigrid_doorkey_8x8"])
def test_bonus_is_the_ensembles_variance_averaged_over_features(scenario):
    torch.manual_seed(0)
    module = build(scenario, bindings=RAW)
    obs, next_obs = places(scenario, 2)
    actions = np.arange(NUM_ENVS) % module.scenario.num_actions
    with torch.no_grad():
        phi = module.features(torch.as_tensor(obs).permute(0, 3, 1, 2).float() / 255.0)
        each = np.stack([model(phi, torch.as_tensor(actions)).numpy()
                         for model in module.forward_model.models]).astype(np.float64)
    expected = each.var(0).mean(-1)  # np.var: no Bessel correction, as the reference
    assert expected.min() > 0
    np.testing.assert_allclose(reach(module, obs, actions, next_obs), expected, rtol=1e-4)


def test_each_model_trains_on_its_own_random_share_of_every_minibatch():
    torch.manual_seed(0)
    module = build("doom_basic", bindings=RAW)
    obs, next_obs = (torch.as_tensor(np.concatenate([f] * 50)) for f in places("doom_basic", 2))
    actions = torch.zeros(len(obs), dtype=torch.long)
    with torch.no_grad():
        plain, _ = module.errors(obs, actions, next_obs)
        trained, _ = module.errors(obs, actions, next_obs, train=True)
    kept = trained > 0
    assert plain.shape == (5, 200) and plain.min() > 0
    # Dropout's 1 / keep_prob, and x M: the update's mean over [M, B] is the reference's loss,
    # the sum over the models of each one's mean.
    torch.testing.assert_close(trained[kept], plain[kept] * 5 / 0.8)
    assert 0.7 < kept.float().mean() < 0.9
    assert all((kept[0] != kept[m]).any() for m in range(1, 5))  # masks of their own


@pytest.mark.parametrize("scenario", ["doom_basic", "minigrid_doorkey_8x8"])
def test_familiar_transitions_lose_their_bonus_novel_ones_keep_it(scenario, monkeypatch):
    """peer_checks' check, on the scenario's own kind of observations."""
    observations = places(scenario, 4)
    monkeypatch.setattr(peer_checks, "frames", observations.__getitem__)
    before, after, novel = peer_checks.familiar_falls_novel_stays(
        lambda: build(scenario, bindings=FAST), updates=30, steps=2)
    print(f"Disagreement on {scenario}: familiar {before:.4f} -> {after:.5f}, novel {novel:.4f}")
    assert after < 0.1 * before and novel > 10 * after


def test_state_round_trip_is_exact_on_frames():
    peer_checks.round_trip_is_exact(lambda: build("doom_basic", bindings=SHORT))


def test_state_round_trip_is_exact_on_minigrid_episodes():
    transitions = _transitions(2, 160)  # 160 > 140 steps: episodes end and restart
    peer_checks.round_trip_is_exact_on_episodes(
        lambda: build("minigrid_multiroom_n7_s4", num_envs=2, bindings=SHORT), transitions,
        warmup=10)


def test_trains_from_the_launcher_on_the_symbolic_view(tmp_path):
    # Models 64 wide: at the reference's 512 each of the 8 checkpoints is 137 MB (5 models and
    # their Adam moments), most of the run's time here.
    run, rows = peer_checks.launcher_progress(tmp_path, "ppo_plus_disagreement",
                                              [*SHORT, "DynamicsCuriosity.hidden = 64"])
    assert len(rows) == 16 and all(float(r["intrinsic_bonus_mean"]) > 0 for r in rows)
    assert all(float(r["intrinsic_forward_loss"]) > 0 for r in rows)
    saved = checkpoint.load_latest(run / "checkpoints")["intrinsic_reward"]
    assert {"models.4.out.weight", "models.0.inp.weight"} <= set(saved["forward_model"])
    assert saved["optimizer"]["state"] and saved["obs_stats"]


def test_trains_from_the_launcher_on_vizdoom(tmp_path):
    from episodic_curiosity.rewards.disagreement import Disagreement
    run, rows = peer_checks.doom_launcher_run(tmp_path, "ppo_plus_disagreement", Disagreement,
                                              [*SHORT, "DynamicsCuriosity.hidden = 64"])
    assert all(float(r["intrinsic_bonus_mean"]) > 0 for r in rows)
    assert all(float(r["intrinsic_forward_loss"]) > 0 for r in rows)
    saved = checkpoint.load_latest(run / "checkpoints")["intrinsic_reward"]
    assert {"models.4.out.weight", "models.0.inp.weight"} <= set(saved["forward_model"])
