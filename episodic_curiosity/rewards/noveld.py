"""NovelD (Zhang et al. 2021): reward the step from a familiar state into a novel one, once.

bonus = coef * max(novelty(s') - alpha * novelty(s), 0) * 1[N_episodic(s') = 1]

novelty is RND's prediction error, the L2 norm ||predictor(x) - target(x)||_2 as in NovelD's
code (src/algos/bebold.py), of rnd.py's networks: RIDE's MiniGrid embedding net on the symbolic
view, the RND paper's conv nets on frames. The predictor trains as RND's does (`RND.update`, set
by the `RND.*` bindings of gin/methods/ppo_plus_noveld.gin) on the same L2 error. NovelD's code
feeds the raw symbolic view, unnormalised (`normalize_obs = False`); True whitens it as RND.
N_episodic counts `info["state_key"]` where the scenario provides it (MiniGrid: full grid, agent
cell and heading), else a digest of the observation (NovelD's code keys on the observation).
The bonus is added to the task reward (one stream, as NovelD's IMPALA learner).
"""

import hashlib

import gin
import numpy as np
import torch

from episodic_curiosity.rewards.base import done_mask, reached_obs
from episodic_curiosity.rewards.counts import EpisodicCounter
from episodic_curiosity.rewards.rnd import RND
from episodic_curiosity.validation import NonNegative


def observation_key(obs: np.ndarray) -> int:
    """An episodic-count key for a scenario without `state_key`: 64 bits of the frame's hash."""
    digest = hashlib.blake2b(np.ascontiguousarray(obs).tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class NovelD(RND):
    """coef: NovelD's intrinsic reward coefficient; alpha: the weight of novelty(s) (its
    scale_fac); normalize_obs: whiten the predictor's input as RND (NovelD's code: no)."""

    separate_stream = False
    stat_names = ("bonus_mean", "novelty_mean", "first_visit_fraction", "predictor_loss")

    def __init__(self, num_envs, scenario, device, coef: NonNegative = 0.05,
                 alpha: NonNegative = 0.5, normalize_obs: bool = False):
        super().__init__(num_envs, scenario, device)  # the predictor's numbers: RND.* bindings
        self.coef, self.alpha, self.normalize_obs = coef, alpha, normalize_obs
        if not normalize_obs:
            self.warmup_env_steps = 0  # no statistics to gather
        self.symbolic = scenario.symbolic
        self.keyed = "state_key" in scenario.features
        self.counter = EpisodicCounter(num_envs)

    def errors(self, frames: torch.Tensor) -> torch.Tensor:
        """novelty: ||predictor(x) - target(x)||_2 of uint8 frames [B, H, W, C] (RND.update
        trains the predictor on it)."""
        frames = frames.to(self.device)
        if self.normalize_obs:
            x = self.whiten(frames)
        else:  # NovelD's code: the symbolic view as it is; frames in [0, 1]
            x = frames.permute(0, 3, 1, 2).float()
            x = x if self.symbolic else x / 255.0
        return torch.linalg.vector_norm(self.predictor(x) - self.target(x), dim=-1)

    def _key(self, info: dict, field: str, obs: np.ndarray) -> int:
        return info[field] if self.keyed else observation_key(obs)

    def begin(self, obs, infos):
        for i, info in enumerate(infos):
            self.counter.restart(i, self._key(info, "state_key", obs[i]))

    def first_visits(self, reached, next_obs, done, infos) -> np.ndarray:
        """1[N_episodic(s') = 1] per env; ended episodes restart with their new first state."""
        first = np.empty(len(infos), bool)
        for i, info in enumerate(infos):
            first[i] = self.counter.visit(i, self._key(info, "state_key", reached[i])) == 1
            if done[i]:
                self.counter.restart(i, self._key(info, "state_key_reset", next_obs[i]))
        return first

    @torch.no_grad()
    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        reached = reached_obs(next_obs, terminated, truncated, infos)
        frames = self._newest_frame(np.concatenate([obs, reached]))
        novelty = self.errors(frames).cpu().numpy()
        novelty_obs, novelty_reached = novelty[:self.num_envs], novelty[self.num_envs:]
        first = self.first_visits(reached, next_obs, done_mask(terminated, truncated), infos)
        bonus = (self.coef * np.maximum(novelty_reached - self.alpha * novelty_obs, 0.0)
                 * first).astype(np.float32)
        self.store.add(None, actions, frames[self.num_envs:])
        self._record(bonus_mean=bonus.mean(), novelty_mean=novelty_reached.mean(),
                     first_visit_fraction=first.mean())
        return bonus

    def state_dict(self):
        return {**super().state_dict(), "counter": self.counter.state_dict()}

    def load_state_dict(self, state):
        if state:
            super().load_state_dict(state)
            self.counter.load_state_dict(state["counter"])
