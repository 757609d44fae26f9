"""Pieces the peers' intrinsic rewards share: the small conv net of RND and the curiosity study,
observation whitening, a store of the transitions seen since the last update, minibatches."""

import numpy as np
import torch
from torch import nn

from episodic_curiosity.running_stats import RunningMeanStd


def small_convnet(in_channels: int, out_dim: int, activation=nn.LeakyReLU, size: int = 84,
                  last_activation: bool = False) -> nn.Sequential:
    """Conv 32 8x8/4, 64 4x4/2, 64 3x3/1, dense `out_dim` (both papers' feature net), NCHW."""
    layers = [nn.Conv2d(in_channels, 32, 8, stride=4), activation(),
              nn.Conv2d(32, 64, 4, stride=2), activation(),
              nn.Conv2d(64, 64, 3, stride=1), activation(), nn.Flatten()]
    with torch.no_grad():
        flat = nn.Sequential(*layers)(torch.zeros(1, in_channels, size, size)).shape[1]
    layers.append(nn.Linear(flat, out_dim))
    if last_activation:
        layers.append(activation())
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.orthogonal_(layer.weight, np.sqrt(2))
            nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


class ObservationWhitener:
    """(x - mean) / std per pixel from running statistics, clipped to [-clip, clip] (RND: 5).

    global_std: one std for all pixels (the curiosity study's random-agent statistics).
    """

    def __init__(self, shape, device, clip: float | None = 5.0, global_std: bool = False):
        self.stats = RunningMeanStd(shape, device)
        self.clip, self.global_std = clip, global_std

    def update(self, frames: torch.Tensor) -> None:
        self.stats.update(frames.float())

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [B, H, W, C] -> float [B, C, H, W]."""
        var = self.stats.var.mean() if self.global_std else self.stats.var
        x = (frames.float() - self.stats.mean.float()) / var.float().sqrt().clamp_min(1e-8)
        if self.clip is not None:
            x = x.clamp(-self.clip, self.clip)
        return x.permute(0, 3, 1, 2)


class TransitionStore:
    """The (obs, action, next obs) seen in `compute` since the last update, kept as uint8 on the
    CPU until the update trains on them."""

    def __init__(self):
        self.obs, self.actions, self.next_obs = [], [], []

    def add(self, obs, actions, next_obs) -> None:
        if obs is not None:
            self.obs.append(torch.as_tensor(np.asarray(obs)))
        self.actions.append(torch.as_tensor(np.asarray(actions)))
        self.next_obs.append(torch.as_tensor(np.asarray(next_obs)))

    def take(self) -> dict:
        batch = {name: torch.cat(items) for name, items in
                 (("obs", self.obs), ("actions", self.actions), ("next_obs", self.next_obs))
                 if items}
        self.obs, self.actions, self.next_obs = [], [], []
        return batch

    def __len__(self):
        return sum(len(a) for a in self.actions)


def minibatches(size: int, num_minibatches: int, epochs: int):
    """Index tensors: `epochs` shuffled passes over range(size) in `num_minibatches` parts."""
    part = max(1, size // num_minibatches)
    for _ in range(epochs):
        order = torch.randperm(size)
        for start in range(0, size - part + 1, part):
            yield order[start:start + part]


def final_next_obs(next_obs, terminated, truncated, infos) -> np.ndarray:
    """next_obs with the episode's real last frame where it ended (auto-reset put the new
    episode's first frame there): a transition's target must not cross a reset."""
    done = np.flatnonzero(np.asarray(terminated) | np.asarray(truncated))
    if not len(done):
        return next_obs
    fixed = np.array(next_obs, copy=True)
    for i in done:
        if "final_obs" in infos[i]:
            fixed[i] = infos[i]["final_obs"]
    return fixed
