"""NGU's episodic novelty: a kernel over the k nearest controllable states in this episode.

Badia et al. 2020 (Never Give Up), Algorithm 1: squared distances to the k = 10 nearest
embeddings in the episode's memory, divided by their running mean, less the cluster distance
xi = 0.008 (floored at 0); kernel K = eps / (d + eps), eps = 1e-4; similarity
s = sqrt(sum K) + c, c = 1e-3; bonus 1/s, or 0 when s > s_max = 8. The embedding (32-d) is trained
by inverse dynamics (ngu_episodic.gin). NGU multiplies by a life-long RND modulator clipped to
[1, L = 5]: `lifelong='rnd'` asks for it (rewards/lifelong.py; NGU's full agent).
"""

from typing import Annotated

import gin
import numpy as np
import torch

from episodic_curiosity.errors import UsageError
from episodic_curiosity.rewards.base import IntrinsicReward, done_mask, reached_obs
from episodic_curiosity.rewards.lifelong import LifelongNovelty
from episodic_curiosity.rewards.state_embedding import DynamicsModel
from episodic_curiosity.validation import Count, NonNegative, Positive, Real, one_of


def ngu_similarity_bonus(sq_distances, mean_sq_distance, cluster_distance, kernel_epsilon, c,
                         max_similarity):
    """The episodic bonus from [N, k] squared k-NN distances (inf marks a missing neighbour)."""
    normalised = sq_distances / max(mean_sq_distance, 1e-12)
    normalised = torch.clamp(normalised - cluster_distance, min=0.0)
    kernel = kernel_epsilon / (normalised + kernel_epsilon)  # 0 where the distance is inf
    similarity = torch.sqrt(kernel.sum(-1)) + c
    return torch.where(similarity > max_similarity, torch.zeros_like(similarity), 1.0 / similarity)


def _lifelong_modulator(name, obs_shape, device):
    if name is None:
        return None
    if name != "rnd":
        raise UsageError(f"unknown NGUEpisodic.lifelong '{name}'; choose 'rnd' or None")
    return LifelongNovelty(obs_shape, device)


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class NGUEpisodic(IntrinsicReward):
    """coef: NGU's beta (0.3 in the paper's final agents)."""

    stat_names = ("bonus_mean", "mean_sq_distance", "inverse_loss")

    def __init__(self, num_envs, scenario, device, coef: Real = 0.3, k: Count = 10,
                 kernel_epsilon: Positive = 1e-4, cluster_distance: NonNegative = 0.008,
                 c: Positive = 1e-3, max_similarity: Positive = 8.0, memory_capacity: Count = 30000,
                 lifelong: Annotated[str | None, one_of(None, "rnd")] = None):
        super().__init__(num_envs, scenario, device)
        self.coef, self.k = coef, k
        self.kernel = dict(cluster_distance=cluster_distance, kernel_epsilon=kernel_epsilon, c=c,
                           max_similarity=max_similarity)
        self.model = DynamicsModel(scenario.obs_shape(), scenario.num_actions, device)
        # An episode never holds more states than its steps (+ the first one).
        capacity = min(memory_capacity, scenario.episode_steps + 1)
        self.memory = torch.zeros(num_envs, capacity, self.model.embedding.out_dim, device=device)
        self.fill = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.mean_sq_distance, self.distance_count = 0.0, 0
        # Built last: the episodic networks' initialisation does not depend on it.
        self.modulator = _lifelong_modulator(lifelong, scenario.obs_shape(), device)
        if self.modulator is not None:
            self.stat_names = self.stat_names + ("lifelong_multiplier", "lifelong_loss")

    def _add(self, envs, embeddings):
        """Stores each embedding in its env's memory (random replacement when full, as EC)."""
        slots = self.fill[envs].clone()
        full = slots >= self.memory.shape[1]
        slots[full] = torch.randint(self.memory.shape[1], (int(full.sum()),), device=self.device)
        self.memory[envs, slots] = embeddings
        self.fill[envs] = torch.clamp(self.fill[envs] + 1, max=self.memory.shape[1])

    def _restart(self, envs, embeddings):
        self.fill[envs] = 0
        self._add(envs, embeddings)

    def _neighbour_sq_distances(self, embeddings):
        """[N, k] squared distances to the k nearest memory slots (inf where fewer exist)."""
        sq = ((self.memory - embeddings[:, None]) ** 2).sum(-1)
        empty = torch.arange(self.memory.shape[1], device=self.device)[None] >= self.fill[:, None]
        sq = sq.masked_fill(empty, float("inf"))
        return torch.topk(sq, min(self.k, sq.shape[1]), largest=False).values

    def _update_mean(self, sq_distances):
        found = sq_distances[torch.isfinite(sq_distances)]
        if found.numel():
            self.distance_count += found.numel()
            self.mean_sq_distance += (float(found.mean()) - self.mean_sq_distance) * (
                found.numel() / self.distance_count)

    def begin(self, obs, infos):
        self._restart(torch.arange(self.num_envs), self.model.embed(obs))

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        reached = reached_obs(next_obs, terminated, truncated, infos)
        everyone = torch.arange(self.num_envs)
        with torch.no_grad():
            embeddings = self.model.embed(reached)
            sq_distances = self._neighbour_sq_distances(embeddings)
            self._update_mean(sq_distances)
            episodic = ngu_similarity_bonus(sq_distances, self.mean_sq_distance, **self.kernel)
            self._add(everyone, embeddings)
            done = np.flatnonzero(done_mask(terminated, truncated))
            if len(done):
                self._restart(torch.as_tensor(done), self.model.embed(next_obs[done]))
        bonus = (self.coef * episodic.cpu().numpy()).astype(np.float32)
        if self.modulator is not None:
            multiplier = self.modulator.multiplier(reached)
            bonus *= multiplier
            self._record(lifelong_multiplier=multiplier.mean())
        self.model.observe(obs, actions, reached)
        self._record(bonus_mean=bonus.mean(), mean_sq_distance=self.mean_sq_distance)
        return bonus

    def update(self, step):
        self._record(**self.model.train())
        if self.modulator is not None:
            self._record(**self.modulator.train())

    def state_dict(self):
        return {"model": self.model.state_dict(), "memory": self.memory.cpu(),
                "fill": self.fill.cpu(), "mean_sq_distance": self.mean_sq_distance,
                "distance_count": self.distance_count,
                "lifelong": self.modulator.state_dict() if self.modulator else None}

    def load_state_dict(self, state):
        if state:
            self.model.load_state_dict(state["model"])
            self.memory = state["memory"].to(self.device)
            self.fill = state["fill"].to(self.device)
            self.mean_sq_distance = state["mean_sq_distance"]
            self.distance_count = state["distance_count"]
            if self.modulator is not None:
                if not state.get("lifelong"):
                    raise UsageError("this checkpoint was trained without NGU's life-long "
                                     "modulator; resume with NGUEpisodic.lifelong = None")
                self.modulator.load_state_dict(state["lifelong"])
