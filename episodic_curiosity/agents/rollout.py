"""Rollout storage on the learner's device, and acting with the current policy."""

import numpy as np
import torch
from torch.distributions import Categorical


class HostToDevice:
    """Observations to the device in one asynchronous copy from a reused pinned buffer (on CUDA;
    elsewhere a no-op). `Tensor.pin_memory()` per step cost ~1 ms of host time on an H100 VM;
    refilling one buffer costs a memcpy. An event guards the buffer: it is refilled only once
    the previous copy out of it has finished."""

    def __init__(self, device):
        self.device = torch.device(device)
        self.buffers, self.copied = {}, {}

    def __call__(self, obs) -> torch.Tensor:
        tensor = torch.as_tensor(obs)
        if self.device.type != "cuda":
            return tensor
        key = (tuple(tensor.shape), tensor.dtype)
        if key not in self.buffers:
            self.buffers[key] = torch.empty(key[0], dtype=key[1], pin_memory=True)
            self.copied[key] = torch.cuda.Event()
        else:
            self.copied[key].synchronize()
        buffer = self.buffers[key]
        buffer.copy_(tensor)
        on_device = buffer.to(self.device, non_blocking=True)
        self.copied[key].record()
        return on_device


@torch.no_grad()
def act(network, obs: np.ndarray, device, greedy: bool = False):
    """Samples actions for a batch of uint8 frames; returns (actions, logprobs, values) tensors."""
    logits, values = network(torch.as_tensor(obs, device=device))
    dist = Categorical(logits=logits, validate_args=False)  # checks would sync the GPU
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
