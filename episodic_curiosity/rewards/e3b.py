"""E3B: an elliptical episodic bonus, phi(s')^T C^-1 phi(s'), C reset every episode.

C = ridge * I + sum of phi phi^T over the episode's states so far; its inverse is kept per env and
updated by Sherman-Morrison (rank one) after each bonus (Henaff et al. 2022). phi comes from an
inverse-dynamics encoder (state_embedding.DynamicsModel with the forward loss off, see e3b.gin).
"""

import gin
import numpy as np
import torch

from episodic_curiosity.rewards.base import IntrinsicReward, done_mask, reached_obs
from episodic_curiosity.rewards.state_embedding import DynamicsModel
from episodic_curiosity.validation import Positive, Real


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class E3B(IntrinsicReward):
    """ridge: C_0 = ridge * I (E3B's lambda, 0.1); coef scales the bonus."""

    stat_names = ("bonus_mean", "inverse_loss")

    def __init__(self, num_envs, scenario, device, coef: Real = 1.0, ridge: Positive = 0.1):
        super().__init__(num_envs, scenario, device)
        self.coef, self.ridge = coef, ridge
        self.model = DynamicsModel(scenario.obs_shape(), scenario.num_actions, device)
        dim = self.model.embedding.out_dim
        self.cov_inverse = torch.eye(dim, device=device).repeat(num_envs, 1, 1) / ridge

    def _restart(self, envs, embeddings):
        """New episodes: C^-1 = I / ridge, then their first state enters C."""
        self.cov_inverse[envs] = torch.eye(self.cov_inverse.shape[-1],
                                           device=self.device) / self.ridge
        self.observe_states(envs, embeddings)

    def observe_states(self, envs, embeddings) -> torch.Tensor:
        """Returns phi^T C^-1 phi for each (env, phi), then adds phi phi^T to that env's C."""
        cov_inverse = self.cov_inverse[envs]
        u = torch.bmm(cov_inverse, embeddings.unsqueeze(-1)).squeeze(-1)
        bonus = (embeddings * u).sum(-1)
        self.cov_inverse[envs] = cov_inverse - torch.einsum("ni,nj->nij", u, u) / (
            1.0 + bonus)[:, None, None]
        return bonus

    def begin(self, obs, infos):
        self._restart(torch.arange(self.num_envs), self.model.embed(obs))

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        reached = reached_obs(next_obs, terminated, truncated, infos)
        with torch.no_grad():
            elliptical = self.observe_states(torch.arange(self.num_envs),
                                             self.model.embed(reached)).cpu().numpy()
            done = np.flatnonzero(done_mask(terminated, truncated))
            if len(done):
                self._restart(torch.as_tensor(done), self.model.embed(next_obs[done]))
        bonus = (self.coef * elliptical).astype(np.float32)
        self.model.observe(obs, actions, reached)
        self._record(bonus_mean=bonus.mean())
        return bonus

    def update(self, step):
        self._record(**self.model.train())

    def state_dict(self):
        return {"model": self.model.state_dict(), "cov_inverse": self.cov_inverse.cpu()}

    def load_state_dict(self, state):
        if state:
            self.model.load_state_dict(state["model"])
            self.cov_inverse = state["cov_inverse"].to(self.device)
