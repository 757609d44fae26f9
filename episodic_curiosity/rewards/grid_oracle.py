"""Grid oracle: a privileged bonus for each oracle cell first reached in an episode."""


import gin
import numpy as np

from episodic_curiosity.envs.coverage import CellCounter
from episodic_curiosity.rewards.base import IntrinsicReward
from episodic_curiosity.validation import Count, OptionalPositive, Positive, Real


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class GridOracle(IntrinsicReward):
    """bonus = alpha * grid^2 / normalizer per new cell (30^2 / 900 = 1 in the paper).

    The cell is the scenario's `oracle_cell` (30 DMLab units = 0.3 maze cell; envs/coverage.py);
    `grid` and `normalizer` only set the per-cell reward, as in the original's formula.
    As the original's oracle, the start position pays once a step lands in its cell.
    """

    stat_names = ("bonus_mean", "episode_cells")

    def __init__(self, num_envs, scenario, device, alpha: Real = 0.052469,
                 grid: Count = 30, normalizer: Positive = 900.0,
                 cell_size: OptionalPositive = None):
        super().__init__(num_envs, scenario, device)
        self.new_cell_bonus = alpha * grid ** 2 / normalizer
        cell_size = cell_size or scenario.oracle_cell
        self.visited = [CellCounter(cell_size) for _ in range(num_envs)]

    def begin(self, obs, infos):
        for counter in self.visited:
            counter.reset()

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        bonus = np.zeros(self.num_envs, np.float32)
        for i, info in enumerate(infos):
            if terminated[i] or truncated[i]:
                self.visited[i].reset()
            elif self.visited[i].visit(info["agent_xy"]):
                bonus[i] = self.new_cell_bonus
        self._record(bonus_mean=bonus.mean(),
                     episode_cells=np.mean([len(v) for v in self.visited]))
        return bonus
