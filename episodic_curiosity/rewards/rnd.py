"""Random Network Distillation (Burda et al. 2019): bonus = ||predictor(x) - target(x)||^2 / 512.

x is the newest frame of the next observation, whitened by running per-pixel statistics (warmed
up on random-policy steps, then updated with every rollout) and clipped to [-5, 5]. The target
is a fixed random conv net; the predictor learns it on a random 25% of each rollout, so frames
seen often earn less. The bonus is a separate reward stream: the learner gives it its own value
head, a non-episodic return and the per-env forward-filter normalisation (agents/normalizers.py).
Defaults are the paper's (Table 5; 128 envs x 128 steps and the PPO numbers are in rnd.gin).

On MiniGrid's symbolic 7x7x3 view the conv nets of the paper do not fit (an 8x8 kernel of
stride 4); target and predictor are then RIDE's MiniGrid embedding net (three 3x3 stride-2
convs of 32, 32, 128, ELU: 128 features), which RIDE's code uses for its RND baseline on
MiniGrid; the whitening and everything else stay the paper's.
"""


import gin
import numpy as np
import torch
from torch import nn

from episodic_curiosity.rewards import peer_nets
from episodic_curiosity.rewards.base import IntrinsicReward
from episodic_curiosity.rewards.state_embedding import StateEmbedding
from episodic_curiosity.validation import Count, FrameSize, Index, Positive, UnitOpen


def predictor_net(in_channels: int, feature_dim: int, size: int = 84) -> nn.Sequential:
    """The target's conv torso, then dense 512 ReLU, 512 ReLU, `feature_dim` (the paper's)."""
    net = peer_nets.small_convnet(in_channels, 512, size=size)
    for layer in (nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, feature_dim)):
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, np.sqrt(2))
            nn.init.zeros_(layer.bias)
        net.append(layer)
    return net


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class RND(IntrinsicReward):
    """Args:
      learning_rate: Adam lr of the predictor (the paper's 1e-4, as its PPO).
      update_proportion: fraction of each rollout's frames the predictor trains on (0.25).
      epochs, num_minibatches: passes and minibatches over each rollout (PPO's 4 and 4).
      warmup_steps_per_env: random-policy steps per env that initialise the observation
        statistics before training (50 rollouts x 128 steps).
      feature_dim: output size of target and predictor (512; 128 on MiniGrid's symbolic view,
        RIDE's embedding).
    """

    separate_stream = True
    stat_names = ("bonus_mean", "predictor_loss")

    def __init__(self, num_envs, scenario, device, learning_rate: Positive = 1e-4,
                 update_proportion: UnitOpen = 0.25, epochs: Count = 4, num_minibatches: Count = 4,
                 warmup_steps_per_env: Index = 6400, feature_dim: Count = 512,
                 obs_size: FrameSize = 84):
        super().__init__(num_envs, scenario, device)
        self.channels = scenario.frame_channels
        self.update_proportion, self.epochs = update_proportion, epochs
        self.num_minibatches = num_minibatches
        self.warmup_env_steps = warmup_steps_per_env * num_envs
        shape = scenario.obs_shape(obs_size)[:2] + (self.channels,)
        if scenario.symbolic:  # RIDE's MiniGrid RND: its state embedding net, twice
            self.target = StateEmbedding(shape).convs.to(device)
            self.predictor = StateEmbedding(shape).convs.to(device)
        else:
            self.target = peer_nets.small_convnet(self.channels, feature_dim,
                                                  size=obs_size).to(device)
            self.predictor = predictor_net(self.channels, feature_dim, obs_size).to(device)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=learning_rate)
        self.whiten = peer_nets.ObservationWhitener(shape, device)
        self.store = peer_nets.TransitionStore()

    def _newest_frame(self, obs) -> torch.Tensor:
        return torch.as_tensor(np.asarray(obs)[..., -self.channels:])

    def errors(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame squared prediction error (mean over features) of uint8 frames [B,H,W,C]."""
        x = self.whiten(frames.to(self.device))
        return (self.predictor(x) - self.target(x)).pow(2).mean(-1)

    def warmup(self, obs):
        self.whiten.update(self._newest_frame(obs).to(self.device))

    @torch.no_grad()
    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        # As the original: the frame after the step, which after an episode end is the new
        # episode's first (the intrinsic stream does not stop there).
        frames = self._newest_frame(next_obs)
        self.store.add(None, actions, frames)
        bonus = self.errors(frames).cpu().numpy()
        self._record(bonus_mean=bonus.mean())
        return bonus

    def update(self, step):
        if not len(self.store):
            return
        frames = self.store.take()["next_obs"]
        self.whiten.update(frames.to(self.device))
        for idx in peer_nets.minibatches(len(frames), self.num_minibatches, self.epochs):
            loss = self.errors(frames[idx])
            mask = (torch.rand(len(idx), device=self.device) < self.update_proportion).float()
            loss = (loss * mask).sum() / mask.sum().clamp_min(1.0)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self._record(predictor_loss=loss.item())

    def state_dict(self):
        return {"target": self.target.state_dict(), "predictor": self.predictor.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "obs_stats": self.whiten.stats.state_dict()}

    def load_state_dict(self, state):
        self.target.load_state_dict(state["target"])
        self.predictor.load_state_dict(state["predictor"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.whiten.stats.load_state_dict(state["obs_stats"])
