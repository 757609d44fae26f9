"""RIDE: reward the change a step makes to a learned state, discounted by episodic visits.

bonus = coef * ||phi(s') - phi(s)||_2 / sqrt(N_episodic(s')), phi trained with forward and inverse
dynamics losses (Raileanu & Rocktaschel 2020; numbers from its code, `src/algos/ride.py`).
"""

import gin
import numpy as np
import torch

from episodic_curiosity.rewards.base import (IntrinsicReward, done_mask, reached_obs,
                                             require_feature)
from episodic_curiosity.rewards.counts import EpisodicCounter, episodic_visits
from episodic_curiosity.rewards.state_embedding import DynamicsModel
from episodic_curiosity.validation import Real


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class RIDE(IntrinsicReward):
    """coef: RIDE's --intrinsic_reward_coef (0.5 by default there; 0.1 on some tasks)."""

    stat_names = ("bonus_mean", "impact_mean", "episodic_count_mean", "forward_loss",
                  "inverse_loss")

    def __init__(self, num_envs, scenario, device, coef: Real = 0.5):
        super().__init__(num_envs, scenario, device)
        require_feature(scenario, "state_key", "RIDE's episodic counts")
        self.coef = coef
        self.model = DynamicsModel(scenario.obs_shape(), scenario.num_actions, device)
        self.counter = EpisodicCounter(num_envs)

    def begin(self, obs, infos):
        for i, info in enumerate(infos):
            self.counter.restart(i, info["state_key"])

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        reached = reached_obs(next_obs, terminated, truncated, infos)
        with torch.no_grad():
            impact = torch.linalg.vector_norm(
                self.model.embed(reached) - self.model.embed(obs), dim=-1).cpu().numpy()
        visits = episodic_visits(self.counter, infos, done_mask(terminated, truncated))
        bonus = (self.coef * impact / np.sqrt(visits)).astype(np.float32)
        self.model.observe(obs, actions, reached)
        self._record(bonus_mean=bonus.mean(), impact_mean=impact.mean(),
                     episodic_count_mean=visits.mean())
        return bonus

    def update(self, step):
        self._record(**self.model.train())

    def state_dict(self):
        return {"model": self.model.state_dict(), "counter": self.counter.state_dict()}

    def load_state_dict(self, state):
        if state:
            self.model.load_state_dict(state["model"])
            self.counter.load_state_dict(state["counter"])
