"""Two reward streams in PPO: per-stream GAE, the intrinsic-reward normaliser, and the
single-stream path unchanged."""

import numpy as np
import pytest
import torch

from episodic_curiosity.agents import networks, ppo
from episodic_curiosity.agents.normalizers import IntrinsicRewardNormalizer
from episodic_curiosity.agents.rollout import Rollout


def test_two_stream_gae_matches_hand_computation():
    # One env, two steps; obs[1] starts a new episode (dones[1] = 1).
    ext = torch.tensor([[1.0], [0.0]])
    intr = torch.tensor([[0.0], [2.0]])
    values = torch.tensor([[[0.5, 1.0]], [[0.5, 1.0]]])  # [T, N, (ext, int)]
    dones = torch.tensor([[0.0], [1.0]])
    last_value, last_done = torch.tensor([[1.0, 2.0]]), torch.tensor([0.0])
    config = ppo.PPOConfig(gamma=0.9, gamma_int=0.5, gae_lambda=1.0, ext_coef=2.0, int_coef=1.0)
    adv, ret = ppo.two_stream_gae(ext, intr, values, dones, last_value, last_done, config)
    # ext, t=1: 0 + 0.9*1 - 0.5 = 0.4; t=0: the episode ends after it: 1 - 0.5 = 0.5.
    # int ignores the episode end: t=1: 2 + 0.5*2 - 1 = 2; t=0: 0 + 0.5*1 - 1 + 0.5*2 = 0.5.
    assert adv.squeeze().tolist() == pytest.approx([2 * 0.5 + 0.5, 2 * 0.4 + 2.0])
    assert ret[:, 0, 0].tolist() == pytest.approx([1.0, 0.9])
    assert ret[:, 0, 1].tolist() == pytest.approx([1.5, 3.0])


def test_two_stream_gae_can_make_the_intrinsic_stream_episodic():
    config = ppo.PPOConfig(gamma=0.9, gamma_int=0.5, gae_lambda=1.0, int_episodic=True)
    adv, ret = ppo.two_stream_gae(torch.zeros(2, 1), torch.tensor([[0.0], [2.0]]),
                                  torch.tensor([[[0.5, 1.0]], [[0.5, 1.0]]]),
                                  torch.tensor([[0.0], [1.0]]), torch.tensor([[1.0, 2.0]]),
                                  torch.tensor([0.0]), config)
    assert ret[:, 0, 1].tolist() == pytest.approx([0.0, 3.0])  # t=0: delta 0 - 1 = -1


def test_intrinsic_normaliser_filters_per_env_over_time_across_episode_ends():
    norm = IntrinsicRewardNormalizer(num_envs=2, gamma=0.5)
    first = torch.tensor([[1.0, 2.0], [3.0, 0.0]])  # [T, N]
    out = norm(first)
    # Filtered returns: t0 (1, 2); t1 (0.5 * 1 + 3, 0.5 * 2 + 0) = (3.5, 1).
    seen = [1.0, 2.0, 3.5, 1.0]
    assert norm.returns.tolist() == pytest.approx([3.5, 1.0])
    assert out.numpy() == pytest.approx(first.numpy() / np.std(seen), rel=1e-3)
    # Env 0's episode ended between the rollouts: the filter must carry on regardless.
    second = torch.tensor([[0.0, 1.0]])
    out = norm(second)
    seen += [1.75, 1.5]
    assert norm.returns.tolist() == pytest.approx([1.75, 1.5])
    assert out.numpy() == pytest.approx(second.numpy() / np.std(seen), rel=1e-3)
    restored = IntrinsicRewardNormalizer(num_envs=2, gamma=0.5)
    restored.load_state_dict(norm.state_dict())
    assert restored(second).tolist() == norm(second).tolist()


def test_learner_uses_the_normalised_intrinsic_stream():
    net = networks.ActorCritic((36, 36, 3), 3, value_heads=2)
    config = ppo.PPOConfig(num_envs=1, gamma=0.9, gamma_int=0.5, gae_lambda=1.0)
    learner = ppo.PPOLearner(net, config, two_stream=True)
    rollout = Rollout(2, 1, (36, 36, 3), "cpu", value_heads=2)
    rollout.int_rewards[:] = torch.tensor([[4.0], [4.0]])
    adv, ret = learner.advantages(rollout, torch.zeros(1, 2), torch.zeros(1))
    scale = np.std([4.0, 6.0])  # filtered returns 4, 0.5 * 4 + 4
    assert ret[:, 0, 1].tolist() == pytest.approx([(4 + 0.5 * 4) / scale, 4 / scale], rel=1e-3)
    assert ret[:, 0, 0].tolist() == [0.0, 0.0]


def test_two_heads_and_stacked_gray_frames():
    net = networks.ActorCritic((84, 84, 4), 18, value_heads=2)
    logits, value = net(torch.zeros(5, 84, 84, 4, dtype=torch.uint8))
    assert logits.shape == (5, 18) and value.shape == (5, 2)


@pytest.fixture
def two_threads():
    """The numbers below were measured with two intra-op threads; CPU reductions split per
    thread, so another count moves the last digits (one thread: checksum off by 8e-6)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def test_single_stream_update_keeps_its_numbers(two_threads):
    """A fixed-seed update gives exactly what it gave before two streams existed (measured on
    main at 5cca25d with this script)."""
    torch.manual_seed(0)
    net = networks.ActorCritic((36, 36, 3), 4)
    config = ppo.PPOConfig(num_envs=2, num_steps=8, num_minibatches=2, update_epochs=2)
    learner = ppo.PPOLearner(net, config)
    g = torch.Generator().manual_seed(1)
    steps, num_envs = 8, 2
    rollout = Rollout(steps, num_envs, (36, 36, 3), "cpu")
    rollout.obs[:] = torch.randint(0, 255, rollout.obs.shape, generator=g, dtype=torch.uint8)
    rollout.rewards[:] = torch.rand(steps, num_envs, generator=g)
    rollout.dones[:] = (torch.rand(steps, num_envs, generator=g) < 0.2).float()
    with torch.no_grad():
        logits, values = net(rollout.obs.flatten(0, 1))
    rollout.values[:] = values.view(steps, num_envs)
    rollout.actions[:] = torch.randint(0, 4, (steps, num_envs), generator=g)
    rollout.logprobs[:] = torch.distributions.Categorical(logits=logits).log_prob(
        rollout.actions.flatten()).view(steps, num_envs)
    adv, ret = learner.advantages(rollout, torch.zeros(num_envs), torch.zeros(num_envs))
    stats = learner.update(rollout.flat(adv, ret), learner.schedule(0.0))
    assert stats["policy_loss"] == pytest.approx(-0.011900780722498894, abs=1e-6)
    assert stats["value_loss"] == pytest.approx(0.6660393476486206, abs=1e-6)
    assert stats["entropy"] == pytest.approx(1.3861006498336792, abs=1e-6)
    checksum = sum(p.double().sum().item() for p in net.parameters())
    assert checksum == pytest.approx(-7.0697268298357585, abs=1e-6)
