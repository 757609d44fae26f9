"""Episodic memory, one per env: fixed capacity, random or FIFO replacement, percentile similarity."""

import numpy as np
import torch

REPLACEMENTS = ("random", "fifo")


class EpisodicMemory:
    """Slots [num_envs, capacity, dim] of whatever the similarity function compares against.

    When an env's memory is full, a new entry replaces a uniformly random slot ('random', the
    paper's default) or the oldest one ('fifo', the original's for noreward / norewardnofire).
    """

    def __init__(self, num_envs, capacity, dim, device, rng: np.random.Generator,
                 replacement: str = "random"):
        if replacement not in REPLACEMENTS:
            raise ValueError(f"memory replacement must be one of {REPLACEMENTS}, got "
                             f"{replacement!r}")
        self.capacity, self.rng, self.replacement = capacity, rng, replacement
        self.slots = torch.zeros((num_envs, capacity, dim), device=device)
        self.count = np.zeros(num_envs, np.int64)
        self.added = np.zeros(num_envs, np.int64)  # entries added since the reset (FIFO's clock)

    def reset(self, env_ids) -> None:
        env_ids = np.asarray(env_ids, np.int64)
        self.count[env_ids] = 0
        self.added[env_ids] = 0

    def add(self, env_ids, vectors) -> None:
        """Stores vectors[i] in env env_ids[i]'s memory (distinct envs): one indexed write for
        the batch, no per-env loop on the device."""
        env_ids = np.asarray(env_ids, np.int64)
        if len(env_ids) == 0:
            return
        slots = self.count[env_ids].copy()
        full = slots >= self.capacity
        if self.replacement == "fifo":
            slots[full] = self.added[env_ids][full] % self.capacity
        else:
            slots[full] = self.rng.integers(self.capacity, size=int(full.sum()))
        self.count[env_ids] = np.minimum(self.count[env_ids] + 1, self.capacity)
        self.added[env_ids] += 1
        device = self.slots.device
        self.slots[torch.as_tensor(env_ids, device=device),
                   torch.as_tensor(slots, device=device)] = torch.as_tensor(vectors).to(device)

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
