"""NGU's life-long novelty modulator: an RND error, standardised, as a multiplier in [1, L].

Badia et al. 2020, section 2: alpha = 1 + (err(x) - mean(err)) / std(err), with
err(x) = ||g_hat(x) - g(x)||^2 for a fixed random network g and a predictor g_hat trained on the
states the agent reaches; the episodic bonus is multiplied by min(max(alpha, 1), L), L = 5. So the
episodic bonus is left alone where the state is familiar over the whole run, and amplified (up to
L) where it is new to the agent's life. Networks are the state embedding's conv torso (the
MiniGrid / pixel nets of rewards/state_embedding.py), so it runs on every observation type;
Adam lr 5e-4 is NGU's (its appendix).
"""

from typing import Annotated

import gin
import numpy as np
import torch

from episodic_curiosity.rewards.state_embedding import StateEmbedding
from episodic_curiosity.validation import Count, Positive, number_in


@gin.configurable(denylist=["obs_shape", "device"])
class LifelongNovelty:
    def __init__(self, obs_shape, device, max_multiplier: Annotated[float, number_in(1.0)] = 5.0,
                 learning_rate: Positive = 5e-4, feature_dim: Count = 128, max_batch: Count = 4096):
        self.device, self.max_multiplier, self.max_batch = device, max_multiplier, max_batch
        self.target = StateEmbedding(obs_shape, feature_dim).to(device).requires_grad_(False)
        self.predictor = StateEmbedding(obs_shape, feature_dim).to(device)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=learning_rate)
        self.count, self.mean, self.sq_sum = 0, 0.0, 0.0  # running statistics of err
        self._pending = []

    def _error(self, obs: torch.Tensor) -> torch.Tensor:
        return ((self.predictor(obs) - self.target(obs)) ** 2).sum(-1)

    @torch.no_grad()
    def multiplier(self, reached) -> np.ndarray:
        """min(max(alpha, 1), L) of each reached state; the errors join the running statistics
        and the states await the predictor's next `train`."""
        obs = torch.as_tensor(np.asarray(reached), device=self.device)
        errors = self._error(obs).cpu().numpy().astype(np.float64)
        self._pending.append(np.array(reached))
        self._add_statistics(errors)
        std = np.sqrt(self.sq_sum / self.count) if self.count > 1 else 0.0
        alpha = 1.0 + (errors - self.mean) / std if std > 0 else np.ones_like(errors)
        return np.clip(alpha, 1.0, self.max_multiplier).astype(np.float32)

    def _add_statistics(self, errors):
        """Merges a batch into the running mean and sum of squares (Chan et al.'s update)."""
        n, batch_mean = len(errors), float(errors.mean())
        total = self.count + n
        delta = batch_mean - self.mean
        self.sq_sum += float(((errors - batch_mean) ** 2).sum()) + delta ** 2 * self.count * n / total
        self.mean += delta * n / total
        self.count = total

    def train(self) -> dict:
        """One Adam step on the states reached since the last call (at most `max_batch`)."""
        if not self._pending:
            return {}
        states = np.concatenate(self._pending)
        self._pending = []
        idx = np.random.permutation(len(states))[:self.max_batch]
        loss = self._error(torch.as_tensor(states[idx], device=self.device)).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"lifelong_loss": loss.item()}

    def state_dict(self) -> dict:
        return {"target": self.target.state_dict(), "predictor": self.predictor.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "statistics": (self.count, self.mean, self.sq_sum)}

    def load_state_dict(self, state: dict) -> None:
        self.target.load_state_dict(state["target"])
        self.predictor.load_state_dict(state["predictor"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.count, self.mean, self.sq_sum = state["statistics"]
