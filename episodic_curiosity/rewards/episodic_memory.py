"""Episodic memory, one per env: fixed capacity, random replacement, percentile similarity."""

import numpy as np
import torch


class EpisodicMemory:
    """Slots [num_envs, capacity, dim] of whatever the similarity function compares against.

    When an env's memory is full, a new entry replaces a uniformly random slot (as the original).
    """

    def __init__(self, num_envs, capacity, dim, device, rng: np.random.Generator):
        self.capacity, self.rng = capacity, rng
        self.slots = torch.zeros((num_envs, capacity, dim), device=device)
        self.count = np.zeros(num_envs, np.int64)

    def reset(self, env_ids) -> None:
        self.count[np.asarray(env_ids, np.int64)] = 0

    def add(self, env_ids, vectors) -> None:
        for env, vector in zip(np.asarray(env_ids, np.int64), vectors):
            if self.count[env] < self.capacity:
                slot = self.count[env]
                self.count[env] += 1
            else:
                slot = self.rng.integers(self.capacity)
            self.slots[env, slot] = vector

    def similarity(self, score_fn, query, percentile: float = 90.0) -> torch.Tensor:
        """Per env, the `percentile` of score_fn(query [N, ...], slots [N, M, dim]) -> [N, M] over
        its filled slots; 0 for an empty memory. Only the filled prefix is scored."""
        filled = int(self.count.max())
        if filled == 0:
            return torch.zeros(len(self.count), device=self.slots.device)
        scores = score_fn(query, self.slots[:, :filled])
        valid = torch.as_tensor(np.arange(filled)[None, :] < self.count[:, None],
                                device=scores.device)
        scores = torch.where(valid, scores, torch.full_like(scores, float("nan")))
        result = torch.nanquantile(scores, percentile / 100.0, dim=1)
        return torch.nan_to_num(result, nan=0.0)

    @property
    def fill(self) -> float:
        return float(self.count.mean() / self.capacity)
