"""Double-buffered sampling: each half of the envs steps in its worker while the policy acts on
the other half, and every env sees exactly the transitions of the plain loop."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from episodic_curiosity import envs
from episodic_curiosity.agents.collector import DoubleBufferedCollector, make_collector
from episodic_curiosity.agents.rollout import Rollout
from episodic_curiosity.rewards.base import IntrinsicReward

SCENARIO = "minigrid_multiroom_n2_s4"  # deterministic per level seed, cheap, short episodes


class ObservationHashPolicy(nn.Module):
    """A deterministic function of the observation: sampling its logits always gives the argmax,
    so both loops take the same actions whatever order the random draws come in."""

    value_heads = 1

    def __init__(self, obs_shape, num_actions):
        super().__init__()
        self.obs_shape, self.num_actions = tuple(obs_shape), num_actions
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, obs):
        flat = obs.flatten(1).long()
        key = (flat * torch.arange(1, flat.shape[1] + 1)).sum(1) % self.num_actions
        logits = -1e4 * (1.0 - F.one_hot(key, self.num_actions).float())
        return logits, obs.float().mean((1, 2, 3))


class ObservationBonus(IntrinsicReward):
    """A bonus that depends on every input it is given, and a log of what it saw."""

    def __init__(self, num_envs, scenario, device):
        super().__init__(num_envs, scenario, device)
        self.calls = []

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        self.calls.append((obs.copy(), np.asarray(actions).copy(), next_obs.copy(),
                           terminated.copy(), truncated.copy()))
        return next_obs.reshape(len(next_obs), -1).mean(1) / 255.0 + 0.01 * np.asarray(actions)


def collect(double_buffered, num_envs=4, num_steps=30, rollouts=2):
    spec = envs.get(SCENARIO)
    factories = envs.env_factories(SCENARIO, envs.Split.POLICY_TRAINING, range(num_envs))
    network = ObservationHashPolicy(spec.obs_shape(), spec.num_actions)
    bonus = ObservationBonus(num_envs, spec, "cpu")
    with envs.VecEnv(factories, num_workers=2) as vec:
        rollout = Rollout(num_steps, num_envs, spec.obs_shape(), "cpu")
        collector = make_collector(vec, network, rollout, "cpu", 0.99, bonus,
                                   double_buffered=double_buffered)
        assert isinstance(collector, DoubleBufferedCollector) == double_buffered
        collector.start()
        seen, finished = [], []
        for _ in range(rollouts):  # the second starts from the first one's last observations
            finished += [dict(e) for e in collector.collect()]
            seen.append({name: getattr(rollout, name).clone()
                         for name in ("obs", "actions", "logprobs", "values", "rewards", "dones")})
        seen.append({"last_obs": torch.as_tensor(collector.obs), "last_done": collector.done})
    return seen, finished, bonus.calls


def test_same_transitions_per_env_as_the_plain_loop():
    plain, plain_episodes, plain_calls = collect(double_buffered=False)
    double, double_episodes, double_calls = collect(double_buffered=True)
    for a, b in zip(plain, double):
        for name in a:
            assert torch.equal(a[name], b[name]), name
    assert plain[0]["dones"].sum() + plain[1]["dones"].sum() > 0  # episodes ended and reset
    assert len(plain_episodes) == len(double_episodes) > 0
    for a, b in zip(plain_episodes, double_episodes):
        assert (a["r"], a["l"]) == (b["r"], b["l"])
    assert len(plain_calls) == len(double_calls) == 60
    for a, b in zip(plain_calls, double_calls):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_in_process_envs_fall_back_to_the_plain_loop():
    factories = envs.env_factories(SCENARIO, envs.Split.POLICY_TRAINING, range(2))
    with envs.VecEnv(factories, num_workers=0) as vec:
        assert vec.parts(2) == []


@pytest.mark.parametrize("workers, parts", [(2, [slice(0, 3), slice(3, 6)]),
                                            (3, [slice(0, 4), slice(4, 6)])])
def test_parts_follow_worker_boundaries(workers, parts):
    factories = envs.env_factories(SCENARIO, envs.Split.POLICY_TRAINING, range(6))
    with envs.VecEnv(factories, num_workers=workers) as vec:
        assert vec.parts(2) == parts
