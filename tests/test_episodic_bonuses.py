"""Counts, RIDE, NGU's episodic novelty and E3B: the bonus semantics, faithful defaults, state."""

import functools
import io

import gin
import numpy as np
import pytest
import torch

from episodic_curiosity import configuration, envs
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import methods
from episodic_curiosity.rewards.counts import EpisodicStateCounts, StateCounts
from episodic_curiosity.rewards.state_embedding import DynamicsModel
from episodic_curiosity.rewards.e3b import E3B
from episodic_curiosity.rewards.lifelong import LifelongNovelty
from episodic_curiosity.rewards.ngu import NGUEpisodic, ngu_similarity_bonus
from episodic_curiosity.rewards.ride import RIDE

SCENARIO = "minigrid_multiroom_n7_s4"
NO = np.array([False])
YES = np.array([True])


@pytest.fixture(autouse=True)
def clean_gin():
    torch.set_num_threads(1)  # tiny networks: extra threads only contend on a busy machine
    gin.clear_config()
    yield
    gin.clear_config()


def info(key, **extra):
    return {"state_key": key, "agent_xy": np.zeros(2, np.float32), **extra}


def build(cls, num_envs=1, **kwargs):
    return cls(num_envs=num_envs, scenario=envs.get(SCENARIO), device="cpu", **kwargs)


@pytest.mark.parametrize("cls", [StateCounts, EpisodicStateCounts])
def test_revisits_earn_less_and_episodic_counts_reset_per_episode(cls):
    counts = build(cls, coef=1.0)
    counts.begin(None, [info("start")])
    step = lambda key, done=NO, **extra: counts.compute(None, None, None, done, NO,
                                                        [info(key, **extra)])[0]
    assert step("a") == pytest.approx(1.0)
    assert step("a") == pytest.approx(1 / np.sqrt(2))
    assert step("a") == pytest.approx(1 / np.sqrt(3))
    assert step("start") == pytest.approx(1 / np.sqrt(2))  # the first state was counted
    assert step("b", done=YES, state_key_reset="start") == pytest.approx(1.0)
    # New episode: episodic counts start over, run-wide counts do not.
    expected = 1.0 if cls is EpisodicStateCounts else 1 / np.sqrt(4)
    assert step("a") == pytest.approx(expected)


def _real_obs(n=3):
    env = envs.make_env(SCENARIO, envs.Split.VALIDATION, 0)
    obs, _ = env.reset()
    frames = [obs]
    for action in (0, 2, 1)[:n - 1]:
        frames.append(env.step(action)[0])
    return [f[None] for f in frames]


def test_ride_bonus_is_impact_over_root_of_episodic_visits():
    torch.manual_seed(0)
    ride = build(RIDE, coef=1.0)
    s, s_next, _ = _real_obs()
    ride.begin(s, [info("s")])
    impact = torch.linalg.vector_norm(ride.model.embed(s_next) - ride.model.embed(s)).item()
    assert impact > 0
    bonuses = [ride.compute(s, np.array([0]), s_next, NO, NO, [info("s'")])[0]
               for _ in range(3)]
    np.testing.assert_allclose(bonuses, impact / np.sqrt([1, 2, 3]), rtol=1e-5)
    # A new episode: the visit counts start over.
    ride.compute(s, np.array([0]), s, YES, NO,
                 [info("s'", final_obs=s_next[0], state_key_reset="s")])
    assert ride.compute(s, np.array([0]), s_next, NO, NO, [info("s'")])[0] == pytest.approx(
        impact, rel=1e-5)


def test_ngu_bonus_for_a_repeated_embedding_falls():
    torch.manual_seed(0)
    ngu = build(NGUEpisodic, coef=1.0)
    s, s_next, _ = _real_obs()
    ngu.begin(s, [info("s")])
    bonuses = [ngu.compute(s, np.array([0]), s_next, NO, NO, [info("x")])[0] for _ in range(13)]
    assert all(later < earlier for earlier, later in zip(bonuses[:11], bonuses[1:11]))
    # Once the k = 10 nearest are all copies: s = sqrt(10) + c, and there it stays.
    assert bonuses[10] == bonuses[12] == pytest.approx(1 / (np.sqrt(10) + 1e-3), rel=1e-4)
    # A new episode empties the memory: the same state is novel again.
    ngu.compute(s, np.array([0]), s, YES, NO, [info("x", final_obs=s_next[0])])
    assert ngu.compute(s, np.array([0]), s_next, NO, NO, [info("x")])[0] > 10 * bonuses[10]


def test_ngu_kernel_matches_the_paper():
    # One neighbour at the running-mean distance: d = 1 - 0.008, K = eps / (d + eps).
    d = torch.tensor([[1.0, float("inf")]])
    kernel = 1e-4 / (1.0 - 0.008 + 1e-4)
    expected = 1.0 / (np.sqrt(kernel) + 1e-3)
    got = ngu_similarity_bonus(d, 1.0, 0.008, 1e-4, 1e-3, 8.0)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    # Identical neighbours everywhere: s = sqrt(k) + c; 0 above s_max = 8 (k = 65 > 64).
    assert ngu_similarity_bonus(torch.zeros(1, 65), 1.0, 0.008, 1e-4, 1e-3, 8.0).item() == 0.0


def test_e3b_bonus_is_the_elliptical_norm_and_falls_as_c_grows():
    torch.manual_seed(0)
    e3b = build(E3B, coef=1.0, ridge=0.1)
    s, s_next, _ = _real_obs()
    e3b.begin(s, [info("s")])
    phi0, phi = e3b.model.embed(s)[0].double(), e3b.model.embed(s_next)[0].double()
    seen = [phi0]
    bonuses = []
    for _ in range(4):
        cov = 0.1 * torch.eye(len(phi), dtype=torch.float64) + sum(torch.outer(p, p) for p in seen)
        expected = (phi @ torch.linalg.solve(cov, phi)).item()
        bonuses.append(e3b.compute(s, np.array([0]), s_next, NO, NO, [info("x")])[0])
        assert bonuses[-1] == pytest.approx(expected, rel=1e-3)
        seen.append(phi)
    assert all(b < a for a, b in zip(bonuses, bonuses[1:]))
    # Reset per episode: C^-1 back to I / ridge (plus the new first state).
    e3b.compute(s, np.array([0]), s, YES, NO, [info("x", final_obs=s_next[0])])
    assert e3b.compute(s, np.array([0]), s_next, NO, NO, [info("x")])[0] == pytest.approx(
        bonuses[0], rel=1e-3)


def _transitions(num_envs, steps, seed=0):
    """Real MiniGrid transitions from a random policy, as the trainer hands them over."""
    vec = envs.VecEnv(envs.env_factories(SCENARIO, envs.Split.POLICY_TRAINING, range(num_envs)))
    rng = np.random.default_rng(seed)
    obs, infos = vec.reset()
    out = [(obs, infos)]
    for _ in range(steps):
        actions = rng.integers(7, size=num_envs)
        next_obs, _, terminated, truncated, step_infos = vec.step(actions)
        out.append((obs, actions, next_obs, terminated, truncated, step_infos))
        obs = next_obs
    vec.close()
    return out


NGU_WITH_RND = functools.partial(NGUEpisodic, lifelong="rnd")


@pytest.mark.parametrize("cls", [StateCounts, EpisodicStateCounts, RIDE, NGUEpisodic, E3B,
                                 NGU_WITH_RND])
def test_state_round_trip_is_exact(cls):
    transitions = _transitions(2, 160)  # 160 > 140 steps: episodes end and restart
    torch.manual_seed(1)
    original = build(cls, num_envs=2)
    original.begin(*transitions[0])
    for t in transitions[1:101]:
        original.compute(*t)
    original.update(100)
    torch.manual_seed(2)  # different weights: everything must come from the state
    restored = build(cls, num_envs=2)
    saved = io.BytesIO()  # through bytes, as a checkpoint: no tensor shared with the original
    torch.save(original.state_dict(), saved)
    saved.seek(0)
    restored.load_state_dict(torch.load(saved, weights_only=False))
    for t in transitions[101:]:
        np.testing.assert_array_equal(original.compute(*t), restored.compute(*t))
    np.random.seed(3)
    original.update(200)
    np.random.seed(3)
    restored.update(200)
    np.testing.assert_array_equal(original.compute(*transitions[-1]),
                                  restored.compute(*transitions[-1]))


@pytest.mark.parametrize("forward_loss_coef", [0.0, 10.0])
def test_dynamics_training_lowers_its_loss(forward_loss_coef):
    torch.manual_seed(0)
    np.random.seed(0)
    transitions = _transitions(4, 32)
    model = DynamicsModel(envs.get(SCENARIO).obs_shape(), 7, "cpu", learning_rate=1e-3,
                          forward_loss_coef=forward_loss_coef)
    losses = []
    for _ in range(40):
        for obs, actions, next_obs, *_ in transitions[1:]:
            model.observe(obs, actions, next_obs)
        losses.append(model.train())
    if forward_loss_coef:  # RIDE's weights: the forward loss (x10) dominates and falls
        assert losses[-1]["forward_loss"] < 0.5 * losses[0]["forward_loss"]
    else:  # NGU / E3B: inverse dynamics alone shapes phi
        assert losses[-1]["inverse_loss"] < 0.85 * losses[0]["inverse_loss"]


def test_dynamics_steps_take_at_most_max_batch_transitions():
    """max_batch caps each gradient step (its memory: a whole 12 x 256 rollout of 84x84 frames
    peaks at ~5 GB); the cap once sat in a comment, and every step took all pending frames."""
    transitions = _transitions(4, 5)
    model = DynamicsModel(envs.get(SCENARIO).obs_shape(), 7, "cpu", max_batch=6,
                          steps_per_update=2)
    seen = []
    model._step = lambda obs, actions, reached: seen.append(len(obs)) or {"inverse_loss": 0.0}
    for obs, actions, next_obs, *_ in transitions[1:]:
        model.observe(obs, actions, next_obs)
    model.train()
    assert seen == [6, 6]  # of 20 pending


def test_count_methods_refuse_a_scenario_without_discrete_states():
    with pytest.raises(UsageError, match="state_key.*doom_dense"):
        StateCounts(num_envs=1, scenario=envs.get("doom_dense"), device="cpu")
    with pytest.raises(UsageError, match="state_key"):
        RIDE(num_envs=1, scenario=envs.get("doom_dense"), device="cpu")


def test_lifelong_statistics_are_the_running_mean_and_std_of_every_error():
    modulator = LifelongNovelty(envs.get(SCENARIO).obs_shape(), "cpu")
    rng = np.random.default_rng(0)
    batches = [rng.gamma(2.0, 3.0, size) for size in (1, 5, 12)]
    for batch in batches:
        modulator._add_statistics(batch)
    every = np.concatenate(batches)
    assert modulator.count == len(every)
    assert modulator.mean == pytest.approx(every.mean())
    assert np.sqrt(modulator.sq_sum / modulator.count) == pytest.approx(every.std())


def test_lifelong_multiplier_is_one_for_familiar_states_and_more_for_new_ones():
    torch.manual_seed(0)
    np.random.seed(0)
    familiar = np.concatenate(_real_obs(3))
    env = envs.make_env(SCENARIO, envs.Split.TEST, 5)
    novel = env.reset()[0][None]
    modulator = LifelongNovelty(envs.get(SCENARIO).obs_shape(), "cpu")
    for _ in range(150):  # the predictor learns the familiar states
        modulator.multiplier(familiar)
        modulator.train()
    novel_multiplier = modulator.multiplier(novel)[0]
    assert modulator.multiplier(familiar).tolist() == [1.0, 1.0, 1.0]
    assert 1.5 < novel_multiplier <= 5.0  # clipped at L = 5


def test_ngu_with_the_lifelong_modulator_multiplies_its_episodic_bonus():
    transitions = _transitions(2, 20)
    torch.manual_seed(1)
    plain = build(NGUEpisodic, num_envs=2)
    torch.manual_seed(1)
    modulated = build(NGUEpisodic, num_envs=2, lifelong="rnd")
    plain.begin(*transitions[0])
    modulated.begin(*transitions[0])
    ratios = []
    for t in transitions[1:]:
        episodic, bonus = plain.compute(*t), modulated.compute(*t)
        ratios += list(bonus[episodic > 0] / episodic[episodic > 0])
    assert ratios and all(1.0 - 1e-5 <= r <= 5.0 + 1e-5 for r in ratios)
    assert max(ratios) > 1.0
    assert {"lifelong_multiplier", "bonus_mean"} <= set(modulated.stats())
    with pytest.raises(UsageError, match="NGUEpisodic.lifelong"):
        build(NGUEpisodic, lifelong="rnd2")


def _bound(method, scenario=SCENARIO):
    from episodic_curiosity.launch import local
    configuration.parse(local.gin_files(methods.get(method), scenario, None))
    return gin.query_parameter


def test_gin_defaults_are_the_originals():
    q = _bound("ppo_plus_ride", "minigrid_multiroom_n7_s8")
    assert q("RIDE.coef") == 0.5 and q("PPOConfig.ent_coef") == 0.001
    assert q("DynamicsModel.forward_loss_coef") == 10.0
    assert q("DynamicsModel.inverse_loss_coef") == 0.1
    assert q("DynamicsModel.learning_rate") == 1e-4
    assert q("DynamicsModel.rmsprop_alpha") == 0.99 and q("DynamicsModel.rmsprop_eps") == 1e-5
    assert q("DynamicsModel.max_grad_norm") == 40.0
    for task in ("minigrid_multiroom_n7_s4", "minigrid_keycorridor_s3r3_rgb"):
        q = _bound("ppo_plus_ride", task)
        assert q("RIDE.coef") == 0.1 and q("PPOConfig.ent_coef") == 0.0005
    q = _bound("ppo_plus_ngu_episodic")
    assert (q("NGUEpisodic.k"), q("NGUEpisodic.kernel_epsilon"), q("NGUEpisodic.cluster_distance"),
            q("NGUEpisodic.c"), q("NGUEpisodic.max_similarity"), q("DynamicsModel.embed_dim")) == (
        10, 1e-4, 0.008, 1e-3, 8.0, 32)
    assert q("DynamicsModel.forward_loss_coef") == 0.0
    q = _bound("ppo_plus_e3b")
    assert q("E3B.ridge") == 0.1 and q("DynamicsModel.forward_loss_coef") == 0.0
