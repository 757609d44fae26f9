"""Disagreement (Pathak, Gandhi & Gupta 2019): reward what an ensemble of dynamics models has
not yet agreed on.

bonus = mean_d Var_m[f_m(phi(s_t), a_t)_d], the variance over the ensemble's M predictions of
phi(s_t+1), averaged over the feature dimensions (the reference's rollouts.py calculate_reward,
np.var over the models: no Bessel correction). It is the curiosity study's dynamics curiosity
(rewards/dynamics.py, whose code the reference is built on) with its forward model replaced by M
of them: the same random features phi (a frozen conv net on frames whitened by random-agent
statistics), the same residual forward model, trained by the same Adam steps on the rollout's
transitions, the same separate, normalised, non-episodic reward stream, all set by the
`DynamicsCuriosity.*` bindings of gin/methods/ppo_plus_curiosity.gin. Each model trains on its
own random `keep_prob` of every minibatch: the reference's dropout on the per-transition loss
(dynamics.py get_loss_partial), its stand-in for the paper's bootstrap samples; the losses are
summed over the models. On MiniGrid's symbolic 7x7 view phi is dynamics.GridRandomFeatures.
"""

from typing import Annotated

import gin
import torch
from torch import nn

from episodic_curiosity.rewards import peer_nets
from episodic_curiosity.rewards.dynamics import DynamicsCuriosity, ForwardModel
from episodic_curiosity.validation import UnitOpen, at_least


class Ensemble(nn.Module):
    """M forward models, each its own initialisation; predictions stacked [M, B, features]."""

    def __init__(self, models):
        super().__init__()
        self.models = nn.ModuleList(models)

    def forward(self, phi, actions):
        return torch.stack([model(phi, actions) for model in self.models])


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class Disagreement(DynamicsCuriosity):
    """num_models: the ensemble's size M; keep_prob: the share of each minibatch every model
    trains on. Features, forward models and their training: DynamicsCuriosity.* bindings."""

    def __init__(self, num_envs, scenario, device, num_models: Annotated[int, at_least(2)] = 5,
                 keep_prob: UnitOpen = 0.8):
        super().__init__(num_envs, scenario, device)
        self.keep_prob = keep_prob
        one = self.forward_model  # the study's shape: hidden width and residual blocks
        self.forward_model = Ensemble(
            ForwardModel(self.features.out_dim, scenario.num_actions, one.inp.out_features,
                         len(one.blocks)) for _ in range(num_models)).to(device)
        params = [p for m in (self.features, self.forward_model) for p in m.parameters()
                  if p.requires_grad]  # phi too where it learns (idf, vae)
        self.optimizer = torch.optim.Adam(params, lr=self.optimizer.defaults["lr"])

    def predictions(self, obs, actions) -> torch.Tensor:
        """Every model's prediction of phi(s_t+1) [M, B, features] from uint8 frames s_t."""
        phi = self.features(self._input(torch.as_tensor(obs)))
        return self.forward_model(phi, torch.as_tensor(actions).to(self.device))

    def errors(self, obs, actions, next_obs, train: bool = False):
        """Each model's forward error [M, B]. Training: each keeps its own random `keep_prob` of
        the transitions, scaled as dropout and by M, so the update's mean over [M, B] is the
        reference's loss, the sum over models of each one's mean."""
        error, aux = super().errors(obs, actions, next_obs, train)
        if train:
            kept = torch.rand_like(error) < self.keep_prob
            error = error * kept * (len(error) / self.keep_prob)
        return error, aux

    @torch.no_grad()
    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        self.store.add(obs, actions,
                       peer_nets.final_next_obs(next_obs, terminated, truncated, infos))
        disagreement = self.predictions(obs, actions).var(0, correction=0).mean(-1)
        bonus = (self.reward_scale * disagreement).cpu().numpy()
        self._record(bonus_mean=bonus.mean())
        return bonus
