"""Running mean and variance, merged batch by batch exactly (Chan et al.), as baselines' is and
with its start (mean 0, var 1, count 1e-4): RND's observation and reward statistics.

With many ranks each batch is first merged over all ranks (distributed.merged_moments, as RND's
MPI code did), so every rank holds the statistics of the union of the ranks' data."""

import torch

from episodic_curiosity import distributed


class RunningMeanStd:
    """Mean and variance of everything seen, element-wise over `shape`."""

    def __init__(self, shape=(), device="cpu", epsilon: float = 1e-4, synced: bool = True):
        self.synced = synced  # merge each batch over ranks (every rank must call `update`)
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        self.count = epsilon

    def update(self, batch: torch.Tensor) -> None:
        """batch: [B, *shape]."""
        batch = batch.to(self.mean.device, torch.float64)
        batch_mean, batch_var, n = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        if self.synced:
            batch_mean, batch_var, n = distributed.merged_moments(batch_mean, batch_var, n)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + delta ** 2 * self.count * n / total
        self.var, self.count = m2 / total, total

    def state_dict(self) -> dict:
        return {"mean": self.mean.cpu(), "var": self.var.cpu(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        device = self.mean.device
        self.mean, self.var = state["mean"].to(device), state["var"].to(device)
        self.count = state["count"]
