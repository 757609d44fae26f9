"""Count-based bonuses on exact states: coef / sqrt(N(s')), as in the RIDE code base.

`StateCounts` counts over the whole run (RIDE's `count` baseline), `EpisodicStateCounts` within
the episode (its `only_episodic_counts` ablation). States are `info["state_key"]`, a fingerprint
of the full grid, agent cell and heading (RIDE keys its counts on the fully observed grid).
"""

import collections

import gin
import numpy as np

from episodic_curiosity import distributed
from episodic_curiosity.rewards.base import IntrinsicReward, done_mask, require_feature
from episodic_curiosity.validation import Real


class EpisodicCounter:
    """One visit table per env, emptied when its episode ends."""

    def __init__(self, num_envs):
        self.tables = [collections.Counter() for _ in range(num_envs)]

    def visit(self, env: int, key) -> int:
        """Counts a visit and returns the count including it."""
        self.tables[env][key] += 1
        return self.tables[env][key]

    def restart(self, env: int, first_key) -> None:
        """A new episode whose first state is `first_key`."""
        self.tables[env] = collections.Counter({first_key: 1})

    def state_dict(self):
        return {"tables": [dict(t) for t in self.tables]}

    def load_state_dict(self, state):
        self.tables = [collections.Counter(t) for t in state["tables"]]


def episodic_visits(counter: EpisodicCounter, infos, done) -> np.ndarray:
    """N_episodic(s') for every env (s' = the state the step reached), then restarts ended ones."""
    visits = np.empty(len(infos), np.float32)
    for i, info in enumerate(infos):
        visits[i] = counter.visit(i, info["state_key"])
        if done[i]:
            counter.restart(i, info["state_key_reset"])
    return visits


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class StateCounts(IntrinsicReward):
    """coef / sqrt(N(s')), N over the whole run and all envs (RIDE's `count` model).

    RIDE keeps one table per actor process; one shared table is what "over the whole run" means
    with envs stepped together.
    """

    stat_names = ("bonus_mean", "distinct_states")

    def __init__(self, num_envs, scenario, device, coef: Real = 0.005):
        super().__init__(num_envs, scenario, device)
        require_feature(scenario, "state_key", "count-based bonuses")
        self.coef = coef
        self.counts = collections.Counter()
        # Many ranks: this rank's visits since the last update, for the other ranks' tables.
        self._new = collections.Counter() if distributed.world_size() > 1 else None

    def begin(self, obs, infos):
        self._count(info["state_key"] for info in infos)

    def _count(self, keys) -> None:
        keys = list(keys)
        self.counts.update(keys)
        if self._new is not None:
            self._new.update(keys)

    def update(self, step):
        """Many ranks: every rank's new visits join every rank's table (one table for the run;
        the other ranks' visits of a rollout arrive at its end)."""
        if self._new is None:
            return
        parts = distributed.gather_objects([self._new])
        for rank, part in enumerate(parts):
            if rank != distributed.rank():
                self.counts.update(part)
        self._new = collections.Counter()

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        done = done_mask(terminated, truncated)
        visits = np.empty(self.num_envs, np.float32)
        for i, info in enumerate(infos):
            self._count([info["state_key"]])
            visits[i] = self.counts[info["state_key"]]
            if done[i]:
                self._count([info["state_key_reset"]])
        bonus = (self.coef / np.sqrt(visits)).astype(np.float32)
        self._record(bonus_mean=bonus.mean(), distinct_states=len(self.counts))
        return bonus

    def state_dict(self):
        return {"counts": dict(self.counts)}

    def load_state_dict(self, state):
        self.counts = collections.Counter(state.get("counts", {}))


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class EpisodicStateCounts(IntrinsicReward):
    """coef / sqrt(N_episodic(s')): counts kept per env and reset at every episode start."""

    stat_names = ("bonus_mean", "episode_distinct_states")

    def __init__(self, num_envs, scenario, device, coef: Real = 0.005):
        super().__init__(num_envs, scenario, device)
        require_feature(scenario, "state_key", "episodic-count bonuses")
        self.coef = coef
        self.counter = EpisodicCounter(num_envs)

    def begin(self, obs, infos):
        for i, info in enumerate(infos):
            self.counter.restart(i, info["state_key"])

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        visits = episodic_visits(self.counter, infos, done_mask(terminated, truncated))
        bonus = (self.coef / np.sqrt(visits)).astype(np.float32)
        self._record(bonus_mean=bonus.mean(),
                     episode_distinct_states=np.mean([len(t) for t in self.counter.tables]))
        return bonus

    def state_dict(self):
        return self.counter.state_dict()

    def load_state_dict(self, state):
        if state:
            self.counter.load_state_dict(state)
