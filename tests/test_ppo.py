import pytest
import torch

from episodic_curiosity.agents import networks, ppo


def test_gae_matches_hand_computed_example():
    # One env, three steps; the episode ends after step 1 (dones[2] = 1 starts a new one).
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [1.0], [1.5]])
    dones = torch.tensor([[0.0], [0.0], [1.0]])
    last_value, last_done = torch.tensor([2.0]), torch.tensor([0.0])
    gamma, lam = 0.9, 0.8
    # t=2: delta = 3 + 0.9*2 - 1.5 = 3.3; A2 = 3.3
    # t=1: next is a new episode -> delta = 2 - 1 = 1; A1 = 1
    # t=0: delta = 1 + 0.9*1.0 - 0.5 = 1.4; A0 = 1.4 + 0.9*0.8*1 = 2.12
    adv, ret = ppo.compute_gae(rewards, values, dones, last_value, last_done, gamma, lam)
    assert adv.squeeze().tolist() == pytest.approx([2.12, 1.0, 3.3])
    assert ret.squeeze().tolist() == pytest.approx([2.62, 2.0, 4.8])


def test_gae_does_not_bootstrap_past_a_final_done():
    rewards, values = torch.ones(2, 1), torch.zeros(2, 1)
    adv, _ = ppo.compute_gae(rewards, values, torch.zeros(2, 1), torch.tensor([100.0]),
                             torch.tensor([1.0]), 1.0, 1.0)
    assert adv.squeeze().tolist() == pytest.approx([2.0, 1.0])


def test_policy_loss_clips_large_ratios():
    adv = torch.tensor([1.0, -1.0])
    old = torch.log(torch.tensor([0.5, 0.5]))
    new = torch.log(torch.tensor([1.0, 1.0]))  # ratio 2 for both
    loss, clip_fraction, _ = ppo.policy_loss(new, old, adv, clip_coef=0.2)
    # positive advantage: min(2*1, 1.2*1) = 1.2; negative: min(-2, -1.2) = -2 -> loss = -(1.2-2)/2
    assert loss.item() == pytest.approx(0.4)
    assert clip_fraction.item() == 1.0


def test_value_loss_clipping_takes_the_pessimistic_error():
    new, old, ret = torch.tensor([2.0]), torch.tensor([0.0]), torch.tensor([3.0])
    assert ppo.value_loss(new, old, ret, 0.5, clip=False).item() == pytest.approx(0.5)
    # clipped prediction 0.5 -> error 2.5^2 = 6.25 > 1, so 0.5 * 6.25
    assert ppo.value_loss(new, old, ret, 0.5, clip=True).item() == pytest.approx(3.125)


def test_schedule_anneals_lr_and_clip_linearly():
    learner = ppo.PPOLearner(networks.ActorCritic((84, 84, 3), 3), ppo.PPOConfig())
    assert learner.schedule(0.0) == pytest.approx(0.1)
    assert learner.schedule(0.75) == pytest.approx(0.025)
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(1.9307e-4 / 4)


def test_update_moves_policy_towards_advantaged_action():
    torch.manual_seed(0)
    net = networks.ActorCritic((84, 84, 3), 3)
    learner = ppo.PPOLearner(net, ppo.PPOConfig(num_minibatches=1, update_epochs=8,
                                                learning_rate=1e-3, norm_adv=False))
    obs = torch.randint(0, 255, (32, 84, 84, 3), dtype=torch.uint8)
    actions = torch.zeros(32, dtype=torch.long)
    with torch.no_grad():
        logits, values = net(obs)
    logprobs = torch.log_softmax(logits, -1)[:, 0]
    batch = {"obs": obs, "actions": actions, "logprobs": logprobs, "values": values,
             "advantages": torch.ones(32), "returns": values + 1}
    learner.update(batch, clip_coef=0.2)
    with torch.no_grad():
        new_logprobs = torch.log_softmax(net(obs)[0], -1)[:, 0]
    assert (new_logprobs > logprobs).all()


def test_bf16_update_stays_close_to_fp32():
    """PPOConfig.precision = 'bf16' (a GPU option) autocasts the update's forward passes only:
    from the same weights and batch, one update's losses and the new policy stay close to fp32."""
    torch.manual_seed(0)
    obs = torch.randint(0, 255, (64, 84, 84, 3), dtype=torch.uint8)
    batch = {"obs": obs, "actions": torch.randint(0, 3, (64,)),
             "logprobs": torch.full((64,), -1.0986), "values": torch.zeros(64),
             "advantages": torch.randn(64), "returns": torch.randn(64)}
    initial = networks.ActorCritic((84, 84, 3), 3).state_dict()
    results = {}
    for precision in ("fp32", "bf16"):
        net = networks.ActorCritic((84, 84, 3), 3)
        net.load_state_dict(initial)
        torch.manual_seed(1)  # the same minibatch order
        learner = ppo.PPOLearner(net, ppo.PPOConfig(num_minibatches=2, update_epochs=1,
                                                    precision=precision))
        stats = learner.update(batch, clip_coef=0.1)
        with torch.no_grad():
            results[precision] = (stats, torch.log_softmax(net(obs)[0], -1))
    (stats32, logp32), (stats16, logp16) = results["fp32"], results["bf16"]
    assert stats32["value_loss"] == pytest.approx(stats16["value_loss"], rel=0.05)
    assert stats32["entropy"] == pytest.approx(stats16["entropy"], rel=1e-3)
    assert 0 < (logp32 - logp16).abs().max() < 1e-2
