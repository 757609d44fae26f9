"""Dynamics curiosity: bonus = ||f(phi(s_t), a_t) - phi(s_t+1)||^2, the forward model's error.

`DynamicsCuriosity` is the Large-Scale Study of Curiosity-Driven Learning (Burda, Edwards,
Pathak et al. 2018) with its four feature spaces phi:
  pixels  the whitened frame itself (average-pooled 2x2; the study predicts it with a U-Net,
          we with the same forward model as the others),
  random  a frozen random conv net (the study's most robust choice),
  idf     a conv net trained by inverse dynamics (predict a_t from phi(s_t), phi(s_t+1)),
  vae     the mean of a VAE's posterior, trained by the VAE's loss on the frames.
Features feed the forward model without gradient; forward and auxiliary losses train together
after every PPO update on the rollout's transitions. The bonus is a separate reward stream
(normalised, non-episodic: "death is not the end"); with PPOConfig.ext_coef = 0 it is the
study's pure curiosity (gin/methods/ppo_plus_curiosity.gin).

`ICM` (Pathak et al. 2017) is the EC paper's PPO+ICM baseline: inverse-dynamics features of
Pathak's 4-conv net on frames resized to 42x42 (288 features), forward and inverse losses both
training them, bonus eta * 0.5 * ||.||^2 added to the task reward, with the EC code's weights
(curiosity_strength 0.01, forward_inverse_ratio 0.2, curiosity_loss_strength 10).
"""


import gin
import torch
import torch.nn.functional as F
from torch import nn

from episodic_curiosity.errors import UsageError, not_one_of
from episodic_curiosity.rewards import peer_nets
from episodic_curiosity.rewards.base import IntrinsicReward
from episodic_curiosity.rewards.state_embedding import StateEmbedding
from episodic_curiosity.validation import Count, FrameSize, Index, NonNegative, Positive, Unit

FEATURE_SPACES = ("pixels", "random", "idf", "vae")


class PixelFeatures(nn.Module):
    def __init__(self, channels, feature_dim, size, num_actions, **unused):
        super().__init__()
        self.out_dim = channels * (size // 2) ** 2

    def forward(self, x):
        return F.avg_pool2d(x, 2).flatten(1)

    def aux_loss(self, x, next_x, phi, next_phi, actions):
        return torch.zeros((), device=x.device)


class RandomFeatures(PixelFeatures):
    def __init__(self, channels, feature_dim, size, num_actions, **unused):
        nn.Module.__init__(self)
        self.out_dim = feature_dim
        self.net = peer_nets.small_convnet(channels, feature_dim, size=size)
        self.net.requires_grad_(False)

    def forward(self, x):
        return self.net(x)


class InverseDynamicsFeatures(PixelFeatures):
    """Features trained to tell which action led from s_t to s_t+1."""

    def __init__(self, channels, feature_dim, size, num_actions, net=None, hidden=512):
        nn.Module.__init__(self)
        self.net = net or peer_nets.small_convnet(channels, feature_dim, size=size)
        with torch.no_grad():
            self.out_dim = self.net(torch.zeros(1, channels, size, size)).shape[1]
        self.inverse = nn.Sequential(nn.Linear(2 * self.out_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, num_actions))

    def forward(self, x):
        return self.net(x)

    def aux_loss(self, x, next_x, phi, next_phi, actions):
        return F.cross_entropy(self.inverse(torch.cat([phi, next_phi], -1)), actions)


class VAEFeatures(PixelFeatures):
    """phi = posterior mean; loss = Gaussian reconstruction error + KL to N(0, I) per frame."""

    def __init__(self, channels, feature_dim, size, num_actions, **unused):
        nn.Module.__init__(self)
        self.out_dim, self.size, self.channels = feature_dim, size, channels
        self.encoder = peer_nets.small_convnet(channels, 2 * feature_dim, size=size)
        side = -(-size // 8)
        self.decoder = nn.Sequential(
            nn.Linear(feature_dim, 64 * side * side), nn.LeakyReLU(),
            nn.Unflatten(1, (64, side, side)),
            nn.ConvTranspose2d(64, 64, 4, stride=2, padding=1), nn.LeakyReLU(),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.LeakyReLU(),
            nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1))

    def forward(self, x):
        return self.encoder(x)[:, :self.out_dim]

    def aux_loss(self, x, next_x, phi, next_phi, actions):
        mean, scale = self.encoder(x).chunk(2, -1)
        scale = F.softplus(scale) + 1e-4
        z = mean + scale * torch.randn_like(mean)
        recon = self.decoder(z)[:, :, :self.size, :self.size]
        reconstruction = 0.5 * (recon - x).pow(2).flatten(1).sum(-1)
        kl = (0.5 * (mean ** 2 + scale ** 2) - scale.log() - 0.5).sum(-1)
        return (reconstruction + kl).mean()


FEATURES = dict(zip(FEATURE_SPACES, (PixelFeatures, RandomFeatures, InverseDynamicsFeatures,
                                     VAEFeatures)))


class ForwardModel(nn.Module):
    """The study's: dense to `hidden`, 4 residual blocks of two dense layers, dense out, the
    one-hot action concatenated to the input of every layer."""

    def __init__(self, feature_dim, num_actions, hidden=512, blocks=4):
        super().__init__()
        self.num_actions = num_actions
        width = hidden + num_actions
        self.inp = nn.Linear(feature_dim + num_actions, hidden)
        self.blocks = nn.ModuleList(
            nn.ModuleList([nn.Linear(width, hidden), nn.Linear(width, hidden)])
            for _ in range(blocks))
        self.out = nn.Linear(width, feature_dim)

    def forward(self, phi, actions):
        a = F.one_hot(actions, self.num_actions).float()
        x = F.leaky_relu(self.inp(torch.cat([phi, a], -1)))
        for first, second in self.blocks:
            res = F.leaky_relu(first(torch.cat([x, a], -1)))
            x = x + second(torch.cat([res, a], -1))
        return self.out(torch.cat([x, a], -1))


class GridRandomFeatures(RandomFeatures):
    """Frozen RIDE embedding convs: 128 features of MiniGrid's 7x7 view, as RND's MiniGrid
    target (the study has no MiniGrid; its frame convs do not fit a 7x7 input)."""

    def __init__(self, obs_shape):
        nn.Module.__init__(self)
        embedding = StateEmbedding(obs_shape)
        self.net, self.out_dim = embedding.convs.requires_grad_(False), embedding.out_dim


def _grid_features(scenario, feature_space):
    if feature_space != "random":
        raise UsageError(f"dynamics curiosity on MiniGrid's symbolic view has random features "
                         "only; use --gin_bindings=\"DynamicsCuriosity.feature_space='random'\" "
                         f"or --scenario={scenario.name}_rgb")
    return GridRandomFeatures(scenario.obs_shape())


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class DynamicsCuriosity(IntrinsicReward):
    """Args (defaults: the study's run.py):
      feature_space: one of FEATURE_SPACES.
      feature_dim, hidden: 512 and 512.
      learning_rate, epochs, num_minibatches: the study trains with PPO's Adam (1e-4), 3 epochs,
        8 minibatches per rollout.
      warmup_env_steps: random-agent steps whose frames give the whitening statistics (10000,
        then frozen); 0: frames / 255 instead.
      detach_features: the forward loss does not train phi (the study; ICM: it does, through
        both phi(s_t) and the target phi(s_t+1), as Pathak's and EC's code).
      forward_weight, aux_weight: weights of the forward and feature (inverse / VAE) losses.
      reward_scale: multiplies the bonus.
      sum_features: error summed over features x 0.5 (ICM) instead of averaged (the study).
      forward_blocks: residual blocks of the forward model (the study 4; ICM 0: one hidden
        layer).
    """

    separate_stream = True
    stat_names = ("bonus_mean", "forward_loss", "auxiliary_loss")

    def __init__(self, num_envs, scenario, device, feature_space: str = "random",
                 feature_dim: Count = 512, hidden: Count = 512, learning_rate: Positive = 1e-4,
                 epochs: Count = 3, num_minibatches: Count = 8, warmup_env_steps: Index = 10000,
                 detach_features: bool = True, forward_weight: NonNegative = 1.0,
                 aux_weight: NonNegative = 1.0, reward_scale: NonNegative = 1.0,
                 sum_features: bool = False, forward_blocks: Count = 4,
                 obs_size: FrameSize = 84, feature_net=None):
        super().__init__(num_envs, scenario, device)
        if feature_space not in FEATURES:
            raise UsageError(not_one_of("feature space", feature_space, FEATURE_SPACES) +
                             " (--gin_bindings=\"DynamicsCuriosity.feature_space='random'\")")
        channels = scenario.obs_channels
        if scenario.symbolic and feature_net is None:  # the study's 8x8/4 convs need frames
            self.features = _grid_features(scenario, feature_space).to(device)
        else:
            self.features = FEATURES[feature_space](channels, feature_dim, obs_size,
                                                    scenario.num_actions, net=feature_net,
                                                    hidden=hidden).to(device)
        self.forward_model = ForwardModel(self.features.out_dim, scenario.num_actions,
                                          hidden, forward_blocks).to(device)
        params = [p for m in (self.features, self.forward_model) for p in m.parameters()
                  if p.requires_grad]
        self.optimizer = torch.optim.Adam(params, lr=learning_rate)
        self.warmup_env_steps, self.epochs = warmup_env_steps, epochs
        self.num_minibatches, self.detach_features = num_minibatches, detach_features
        self.forward_weight, self.aux_weight = forward_weight, aux_weight
        self.reward_scale, self.sum_features = reward_scale, sum_features
        frame = scenario.obs_shape() if scenario.symbolic else (obs_size, obs_size, channels)
        self.whiten = (peer_nets.ObservationWhitener(frame, device, clip=None, global_std=True)
                       if warmup_env_steps else None)
        self.store = peer_nets.TransitionStore()

    def _input(self, obs: torch.Tensor) -> torch.Tensor:
        obs = obs.to(self.device)
        if self.whiten is None:
            return obs.permute(0, 3, 1, 2).float() / 255.0
        return self.whiten(obs)

    def errors(self, obs, actions, next_obs, train: bool = False):
        """(per-transition forward error, auxiliary loss) on uint8 frames and actions."""
        x, next_x = self._input(obs), self._input(next_obs)
        phi, next_phi = self.features(x), self.features(next_x)
        if self.detach_features:  # the study: phi is trained by its own loss only
            phi_in, phi_target = phi.detach(), next_phi.detach()
        else:  # ICM (Pathak's and EC's code): the forward loss trains phi(s) and phi(s') alike
            phi_in, phi_target = phi, next_phi
        error = (self.forward_model(phi_in, actions.to(self.device)) - phi_target).pow(2)
        error = 0.5 * error.sum(-1) if self.sum_features else error.mean(-1)
        aux = (self.features.aux_loss(x, next_x, phi, next_phi, actions.to(self.device))
               if train else None)
        return error, aux

    def warmup(self, obs):
        self.whiten.update(torch.as_tensor(obs, device=self.device))

    @torch.no_grad()
    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        next_obs = peer_nets.final_next_obs(next_obs, terminated, truncated, infos)
        self.store.add(obs, actions, next_obs)
        error, _ = self.errors(torch.as_tensor(obs), torch.as_tensor(actions),
                               torch.as_tensor(next_obs))
        bonus = (self.reward_scale * error).cpu().numpy()
        self._record(bonus_mean=bonus.mean())
        return bonus

    def update(self, step):
        if not len(self.store):
            return
        batch = self.store.take()
        for idx in peer_nets.minibatches(len(batch["actions"]), self.num_minibatches,
                                         self.epochs):
            error, aux = self.errors(batch["obs"][idx], batch["actions"][idx],
                                     batch["next_obs"][idx], train=True)
            forward_loss = error.mean()
            loss = self.forward_weight * forward_loss + self.aux_weight * aux
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self._record(forward_loss=forward_loss.item(), auxiliary_loss=aux.item())

    def state_dict(self):
        state = {"features": self.features.state_dict(),
                 "forward_model": self.forward_model.state_dict(),
                 "optimizer": self.optimizer.state_dict()}
        if self.whiten is not None:
            state["obs_stats"] = self.whiten.stats.state_dict()
        return state

    def load_state_dict(self, state):
        self.features.load_state_dict(state["features"])
        self.forward_model.load_state_dict(state["forward_model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.whiten is not None:
            self.whiten.stats.load_state_dict(state["obs_stats"])


def pathak_convnet(channels: int, size: int = 84) -> nn.Sequential:
    """ICM's feature net: 4 x (conv 32 3x3 stride 2, ELU), flattened."""
    layers = []
    for i in range(4):
        layers += [nn.Conv2d(channels if i == 0 else 32, 32, 3, stride=2, padding=1), nn.ELU()]
    return nn.Sequential(*layers, nn.Flatten())


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class ICM(DynamicsCuriosity):
    """The EC paper's PPO+ICM: bonus added to the task reward (single stream).

    Args: reward_scale is eta (EC's curiosity_strength 0.01); forward_inverse_ratio beta (0.2)
    and loss_strength (10) weight the losses as loss_strength * ((1-beta) inverse + beta fwd);
    hidden 256 (Pathak's forward and inverse layers); learning_rate PPO's (the original trains
    ICM in PPO's optimizer), epochs and minibatches PPO's 4 and 4; feature_size: side the
    frames are resized to (Pathak's universeHead: 42, so 288 features; the original's forward
    loss 0.5 * 288 * mean is then our 0.5 * sum).
    """

    separate_stream = False

    def __init__(self, num_envs, scenario, device, reward_scale: NonNegative = 0.01,
                 forward_inverse_ratio: Unit = 0.2, loss_strength: Positive = 10.0,
                 hidden: Count = 256, learning_rate: Positive = 1.9307e-4, epochs: Count = 4,
                 num_minibatches: Count = 4, feature_size: Count = 42):
        self.feature_size = feature_size
        obs_size = feature_size  # what the feature net sees, after `_input`'s resize
        net = pathak_convnet(scenario.obs_channels, obs_size)
        super().__init__(num_envs, scenario, device, feature_space="idf", hidden=hidden,
                         learning_rate=learning_rate, epochs=epochs,
                         num_minibatches=num_minibatches, warmup_env_steps=0,
                         detach_features=False,
                         forward_weight=loss_strength * forward_inverse_ratio,
                         aux_weight=loss_strength * (1 - forward_inverse_ratio),
                         reward_scale=reward_scale, sum_features=True, forward_blocks=0,
                         obs_size=obs_size, feature_net=net)

    def _input(self, obs: torch.Tensor) -> torch.Tensor:
        """uint8 [B, H, W, C] -> [B, C, 42, 42] in [0, 1], resized bilinearly (universeHead)."""
        x = super()._input(obs)
        return F.interpolate(x, size=(self.feature_size, self.feature_size), mode="bilinear",
                             align_corners=False)
