"""The one interface of every intrinsic reward (EC, ECO, grid oracle, counts, RIDE, NGU, E3B,
dynamics curiosity / ICM, RND).

Unlike the original's reward-as-env-wrapper, the learner calls the module on each batch of
transitions, so task and intrinsic reward stay apart (RND's two value heads need that), and the
module's whole state is saved with the policy checkpoint.
"""

import abc

import numpy as np

from episodic_curiosity import distributed
from episodic_curiosity.errors import UsageError


def require_feature(scenario, feature: str, what: str) -> None:
    """Refuses, in one line, a scenario whose envs do not report `feature` in their info."""
    if feature not in scenario.features:
        raise UsageError(f"{what} need info['{feature}'], which scenario '{scenario.name}' does "
                         "not provide; use a scenario that has it (the minigrid_* ones do)")


def done_mask(terminated, truncated) -> np.ndarray:
    return np.asarray(terminated) | np.asarray(truncated)


def reached_obs(next_obs, terminated, truncated, infos) -> np.ndarray:
    """s' of every transition: `next_obs`, except the last frame where an episode ended (there
    `next_obs` already starts the next episode)."""
    done = done_mask(terminated, truncated)
    if not done.any():
        return next_obs
    reached = np.array(next_obs, copy=True)
    for i in np.flatnonzero(done):
        reached[i] = infos[i]["final_obs"]
    return reached


class IntrinsicReward(abc.ABC):
    """Sees batches of transitions from the vectorised env, returns one bonus per env.

    Constructed as `cls(num_envs=..., scenario=..., device=...)` (the rest comes from gin).
    """

    stat_names: tuple = ()  # columns this module adds to progress.csv
    # True: the bonus is a reward stream of its own (own value head, own GAE, non-episodic,
    # normalised; RND, the curiosity study). False: it is added to the task reward (EC, ICM).
    separate_stream: bool = False
    # Random-policy env steps (over all envs) to run before training, each batch of
    # observations given to `warmup` (observation statistics); 0: none.
    warmup_env_steps: int = 0

    def __init__(self, num_envs, scenario, device):
        self.num_envs, self.scenario, self.device = num_envs, scenario, device
        self._sums: dict = {}
        self._counts: dict = {}

    @property
    def checkpoint_name(self) -> str | None:
        """What a checkpoint records as its intrinsic reward (a resume must match it)."""
        return type(self).__name__

    def begin(self, obs: np.ndarray, infos: list) -> None:
        """First observations of every env (after VecEnv.reset)."""

    @abc.abstractmethod
    def compute(self, obs, actions, next_obs, terminated, truncated, infos) -> np.ndarray:
        """Bonus [num_envs] for the transitions obs -> next_obs.

        With same-step auto-reset, `next_obs[i]` starts a new episode where terminated | truncated.
        """

    def warmup(self, obs: np.ndarray) -> None:
        """Observations [num_envs, ...] of one random-policy step (see `warmup_env_steps`)."""

    def update(self, step: int) -> None:
        """Called after every PPO update with the agent step count; may train own networks
        (on the transitions it saw in `compute` since the last update)."""

    def sync_across_ranks(self) -> None:
        """Many ranks: every optimizer this reward owns averages its gradients over ranks at each
        step (distributed.sync_optimizer), so its networks stay one model; a no-op for one rank.
        The trainer calls it once the reward is built; a reward that steps a rank-dependent
        number of times must agree on the count first (distributed.min_over_ranks)."""
        for optimizer in distributed.optimizers_of(self):
            distributed.sync_optimizer(optimizer)

    def _record(self, **values):
        for name, value in values.items():
            self._sums[name] = self._sums.get(name, 0.0) + float(value)
            self._counts[name] = self._counts.get(name, 0) + 1

    def stats(self) -> dict:
        """Means of the recorded statistics since the last call, keyed by `stat_names`."""
        out = {n: self._sums[n] / self._counts[n] for n in self.stat_names if self._counts.get(n)}
        self._sums, self._counts = {}, {}
        return out

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        del state


class NoIntrinsicReward(IntrinsicReward):
    """Plain PPO's reward: a bonus of 0, nothing learned. The loop calls it as any other, so it
    asks no `is None`; checkpoints record no reward (None), as they did before it existed."""

    checkpoint_name = None

    def __init__(self, num_envs=0, scenario=None, device=None):
        super().__init__(num_envs, scenario, device)

    def compute(self, obs, actions, next_obs, terminated, truncated, infos) -> np.ndarray:
        return np.zeros(len(next_obs))

