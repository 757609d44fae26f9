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
    """Samples actions for a batch of uint8 frames from a feed-forward policy; returns (actions,
    logprobs, values) tensors. A recurrent one acts through `Acting`, which keeps its state."""
    logits, values = network(torch.as_tensor(obs, device=device))
    return _sample(logits, greedy) + (values,)


def _sample(logits, greedy: bool):
    dist = Categorical(logits=logits, validate_args=False)  # checks would sync the GPU
    actions = logits.argmax(-1) if greedy else dist.sample()
    return actions, dist.log_prob(actions)


class Acting:
    """The policy acting on a batch of envs, carrying a recurrent core's state from call to call
    (a feed-forward network has none to carry). `starts` [B] marks the envs whose observation
    begins a new episode: their state is reset before it. `rows` picks the envs of a call (the
    double-buffered collector acts on half of them at a time)."""

    def __init__(self, network, num_envs: int, device):
        self.network, self.device = network, torch.device(device)
        self.recurrent = getattr(network, "recurrent", False)
        self.state = network.initial_state(num_envs, self.device) if self.recurrent else ()

    def reset(self) -> None:
        """Every env starts a new episode (after the vector env's reset)."""
        self.state = tuple(torch.zeros_like(s) for s in self.state)

    def snapshot(self) -> tuple:
        """A copy of the state: the rollout's start state, replayed by the PPO update."""
        return tuple(s.clone() for s in self.state)

    @torch.no_grad()
    def __call__(self, obs, starts=None, greedy: bool = False, rows=slice(None)):
        """(actions, logprobs, values) for `obs` of envs `rows`; their state moves one step."""
        logits, values, state = self._step(obs, starts, rows)
        for mine, new in zip(self.state, state):
            mine[:, rows] = new
        return _sample(logits, greedy) + (values,)

    @torch.no_grad()
    def value(self, obs, starts=None, rows=slice(None)) -> torch.Tensor:
        """V(obs) of envs `rows` from their current state, which stays as it is (bootstrapping
        the rollout's tail, or a truncated episode's final observation)."""
        return self._step(obs, starts, rows)[1]

    def _step(self, obs, starts, rows):
        obs = torch.as_tensor(obs, device=self.device)
        if not self.recurrent:  # any (logits, value) network: the feed-forward path as it was
            return *self.network(obs), ()
        starts = (torch.zeros(obs.shape[0], device=self.device) if starts is None else
                  torch.as_tensor(starts, dtype=torch.float32, device=self.device))
        return self.network.step(obs, tuple(s[:, rows] for s in self.state), starts)


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
        self.start_state = ()  # a recurrent policy's state before obs[0] (Acting.snapshot)

    def sequences(self, advantages, returns) -> dict:
        """The rollout as [T, N] env sequences with their start state, for a recurrent learner
        that replays whole sequences (truncated BPTT over the rollout)."""
        return {"obs": self.obs, "actions": self.actions, "logprobs": self.logprobs,
                "values": self.values, "advantages": advantages, "returns": returns,
                "starts": self.dones, "state": self.start_state}

    def flat(self, advantages, returns) -> dict:
        """The rollout as flat [T*N] tensors for minibatching."""
        return {"obs": self.obs.flatten(0, 1), "actions": self.actions.flatten(),
                "logprobs": self.logprobs.flatten(), "values": self.values.flatten(0, 1),
                "advantages": advantages.flatten(), "returns": returns.flatten(0, 1)}
