"""RE3 (Seo et al. 2021): state entropy in the space of a fixed random encoder, by k-NN.

bonus = beta_t * log(d_k(y') / sigma + 1), beta_t = beta_0 * (1 - rho)^t

y' = encoder(s') with the encoder random and never trained; d_k is its distance to its k-th
nearest neighbour (itself excluded) among the last `memory_size` embeddings, this step's
included (RE3's k-NN particle estimate of the state entropy). The paper writes log(d_k + 1);
both reference codes divide d_k by the running std of the distances first
(`normalize`: sigma; False: sigma = 1). t counts agent steps over all envs (RAD+RE3 decays beta
per env step). The bonus is added to the task reward. Encoders: the reference's MiniGrid one
(a2c_re3, torch_ac/algos/base.py) on the symbolic view, raw values; RAD+RE3's (rad_re3/re3.py
Encoder) on the newest frame, /255.
"""


import gin
import numpy as np
import torch
from torch import nn

from episodic_curiosity import distributed, validation
from episodic_curiosity.agents.networks import is_symbolic
from episodic_curiosity.rewards.base import IntrinsicReward, reached_obs
from episodic_curiosity.running_stats import RunningMeanStd
from episodic_curiosity.validation import Count, FrameSize, NonNegative, Unit


def random_encoder(obs_shape, feature_dim: int) -> nn.Sequential:
    """The reference's encoders, PyTorch's default init, NCHW floats in."""
    height, width, channels = obs_shape
    if is_symbolic(obs_shape):  # a2c_re3's MiniGrid net: 64 features of a 7x7 view
        layers = [nn.Conv2d(channels, 16, 2), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(16, 32, 2), nn.ReLU(), nn.Conv2d(32, 64, 2), nn.ReLU(),
                  nn.Flatten()]
    else:  # RAD+RE3's: conv 32 3x3/2, three 3x3/1, dense `feature_dim`, LayerNorm, tanh
        layers = [nn.Conv2d(channels, 32, 3, stride=2), nn.ReLU()]
        for _ in range(3):
            layers += [nn.Conv2d(32, 32, 3), nn.ReLU()]
        layers.append(nn.Flatten())
        with torch.no_grad():
            flat = nn.Sequential(*layers)(torch.zeros(1, channels, height, width)).shape[1]
        layers += [nn.Linear(flat, feature_dim), nn.LayerNorm(feature_dim), nn.Tanh()]
    return nn.Sequential(*layers).requires_grad_(False)


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class RE3(IntrinsicReward):
    """beta: beta_0; rho: beta's decay per agent step; k: the neighbour (k-th nearest);
    memory_size: embeddings kept for the neighbours; feature_dim: the frame encoder's output;
    normalize: d_k / its running std (the reference codes) or d_k itself (the paper's formula);
    obs_size: the policy's frame side (train_policy.obs_size)."""

    stat_names = ("bonus_mean", "knn_distance_mean", "beta")

    def __init__(self, num_envs, scenario, device, beta: NonNegative = 0.05, rho: Unit = 1e-5,
                 k: Count = 3, memory_size: Count = 10000, feature_dim: Count = 50,
                 normalize: bool = True,
                 obs_size: FrameSize = 84):
        super().__init__(num_envs, scenario, device)
        validation.integer("RE3.memory_size", memory_size, max(num_envs, k + 1))
        self.beta0, self.rho, self.k, self.normalize = beta, rho, k, normalize
        self.channels, self.symbolic = scenario.frame_channels, scenario.symbolic
        shape = scenario.obs_shape(obs_size)[:2] + (self.channels,)
        self.encoder = random_encoder(shape, feature_dim).to(device)
        dim = self.encoder(torch.zeros(1, self.channels, *shape[:2], device=device)).shape[1]
        self.memory = torch.zeros(memory_size, dim, device=device)
        self.filled, self.next_slot = 0, 0
        self.steps = 0  # agent steps so far: t of beta_t
        self.distance_stats = RunningMeanStd((), device)

    def beta(self) -> float:
        return self.beta0 * (1.0 - self.rho) ** self.steps

    def embed(self, obs) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(obs)[..., -self.channels:], device=self.device)
        x = x.permute(0, 3, 1, 2).float()
        return self.encoder(x if self.symbolic else x / 255.0)

    def remember(self, embeddings: torch.Tensor) -> None:
        """Writes `embeddings` over the oldest slots of the memory."""
        slots = (self.next_slot + torch.arange(len(embeddings))) % len(self.memory)
        self.memory[slots.to(self.device)] = embeddings
        self.next_slot = int(slots[-1] + 1) % len(self.memory)
        self.filled = min(self.filled + len(embeddings), len(self.memory))

    def knn_distances(self, embeddings: torch.Tensor) -> torch.Tensor:
        """||y - y^kNN||_2 among the memory, which holds y itself (hence the (k+1)-th)."""
        distances = torch.cdist(embeddings, self.memory[:self.filled],
                                compute_mode="donot_use_mm_for_euclid_dist")  # exact: y to y is 0
        return distances.kthvalue(min(self.k + 1, self.filled), dim=1).values

    @torch.no_grad()
    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        embeddings = self.embed(reached_obs(next_obs, terminated, truncated, infos))
        self.remember(embeddings)
        distance = self.knn_distances(embeddings)
        if self.normalize:
            self.distance_stats.update(distance)
            distance_scale = self.distance_stats.var.sqrt().clamp_min(1e-8).float()
        else:
            distance_scale = 1.0
        beta = self.beta()
        bonus = (beta * torch.log(distance / distance_scale + 1.0)).cpu().numpy()
        self.steps += len(bonus) * distributed.world_size()  # t counts every rank's steps
        self._record(bonus_mean=bonus.mean(), knn_distance_mean=distance.mean().item(),
                     beta=beta)
        return bonus.astype(np.float32)

    def state_dict(self):
        return {"encoder": self.encoder.state_dict(), "memory": self.memory[:self.filled].cpu(),
                "next_slot": self.next_slot, "steps": self.steps,
                "distance_stats": self.distance_stats.state_dict()}

    def load_state_dict(self, state):
        if not state:
            return
        self.encoder.load_state_dict(state["encoder"])
        self.filled = len(state["memory"])
        self.memory[:self.filled] = state["memory"].to(self.device)
        self.next_slot, self.steps = state["next_slot"], state["steps"]
        self.distance_stats.load_state_dict(state["distance_stats"])
