"""Rollout storage on the learner's device, and acting with the current policy."""

import numpy as np
import torch
from torch.distributions import Categorical


def to_device(obs, device) -> torch.Tensor:
    """A batch of observations on `device` in one copy (pinned and asynchronous on CUDA)."""
    tensor = torch.as_tensor(obs)
    if torch.device(device).type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor


@torch.no_grad()
def act(network, obs: np.ndarray, device, greedy: bool = False):
    """Samples actions for a batch of uint8 frames; returns (actions, logprobs, values) tensors."""
    logits, values = network(torch.as_tensor(obs, device=device))
    dist = Categorical(logits=logits)
    actions = logits.argmax(-1) if greedy else dist.sample()
    return actions, dist.log_prob(actions), values


class Rollout:
    """[T, N] buffers for one PPO update; dones[t] marks that obs[t] begins a new episode.

    rewards is the task reward (plus the bonus of a single-stream intrinsic reward);
    int_rewards the intrinsic stream of a two-stream learner, with values [T, N, 2] (ext, int).
    """

    def __init__(self, num_steps, num_envs, obs_shape, device, value_heads: int = 1):
        self.num_steps, self.num_envs = num_steps, num_envs
        self.obs = torch.zeros((num_steps, num_envs) + tuple(obs_shape), dtype=torch.uint8,
                               device=device)
        shape = (num_steps, num_envs)
        self.actions = torch.zeros(shape, dtype=torch.long, device=device)
        self.logprobs, self.rewards, self.int_rewards, self.dones = (
            torch.zeros(shape, device=device) for _ in range(4))
        self.values = torch.zeros(shape + ((value_heads,) if value_heads > 1 else ()),
                                  device=device)

    def flat(self, advantages, returns) -> dict:
        """The rollout as flat [T*N] tensors for minibatching."""
        return {"obs": self.obs.flatten(0, 1), "actions": self.actions.flatten(),
                "logprobs": self.logprobs.flatten(), "values": self.values.flatten(0, 1),
                "advantages": advantages.flatten(), "returns": returns.flatten(0, 1)}
