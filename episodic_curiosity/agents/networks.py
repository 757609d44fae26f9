"""The policy/value network: Nature CNN + 512 fc, shared by both heads (as in the paper's PPO)."""

import numpy as np
import torch
from torch import nn


def _init(layer, gain=np.sqrt(2), bias=0.0):
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


class NatureCNN(nn.Module):
    """uint8 NHWC frames -> 512 features. Scaling and layout change happen here, on the device."""

    def __init__(self, obs_shape):
        super().__init__()
        height, width, channels = obs_shape
        self.convs = nn.Sequential(
            _init(nn.Conv2d(channels, 32, 8, stride=4)), nn.ReLU(),
            _init(nn.Conv2d(32, 64, 4, stride=2)), nn.ReLU(),
            _init(nn.Conv2d(64, 64, 3, stride=1)), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, channels, height, width)).shape[1]
        self.fc = nn.Sequential(_init(nn.Linear(flat, 512)), nn.ReLU())

    def forward(self, obs):
        x = obs.permute(0, 3, 1, 2).float().div_(255.0)
        return self.fc(self.convs(x))


class ActorCritic(nn.Module):
    """obs_shape: (height, width, channels) of the scenario's observations (RGB 3, Atari 4
    stacked gray frames). value_heads: 1, or 2 for two reward streams (extrinsic, intrinsic)."""

    def __init__(self, obs_shape, num_actions, value_heads: int = 1):
        super().__init__()
        self.obs_shape, self.num_actions = tuple(obs_shape), num_actions
        self.value_heads = value_heads
        self.torso = NatureCNN(obs_shape)
        self.policy = _init(nn.Linear(512, num_actions), gain=0.01)
        self.value = _init(nn.Linear(512, value_heads), gain=1.0)
        # NHWC frames permuted to NCHW are already channels_last in memory; matching the conv
        # weights to it measured 7% faster updates and 33% faster acting on the 2-core CPU.
        self.to(memory_format=torch.channels_last)

    def forward(self, obs):
        """Returns (logits, value): value [B], or [B, 2] with two heads."""
        features = self.torso(obs)
        value = self.value(features)
        return self.policy(features), value.squeeze(-1) if self.value_heads == 1 else value
