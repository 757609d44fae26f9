"""Grid oracle: a privileged bonus for each (x, y) cell visited for the first time in an episode."""

import gin
import numpy as np

from episodic_curiosity.rewards.base import IntrinsicReward


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class GridOracle(IntrinsicReward):
    """bonus = alpha * grid^2 / normalizer per new cell (30^2 / 900 = 1 in the paper)."""

    stat_names = ("bonus_mean", "episode_cells")

    def __init__(self, num_envs, scenario, device, alpha: float = 0.052469, grid: int = 30,
                 normalizer: float = 900.0, cell_size: float | None = None):
        super().__init__(num_envs, scenario, device)
        self.new_cell_bonus = alpha * grid ** 2 / normalizer
        self.cell_size = cell_size or scenario.cell_size
        self.visited = [set() for _ in range(num_envs)]

    def _cell(self, xy):
        return tuple(np.floor(np.asarray(xy) / self.cell_size).astype(int))

    def begin(self, obs, infos):
        for i, info in enumerate(infos):
            self.visited[i] = {self._cell(info["agent_xy"])}

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        bonus = np.zeros(self.num_envs, np.float32)
        for i, info in enumerate(infos):
            if terminated[i] or truncated[i]:
                self.visited[i] = {self._cell(info["agent_xy_reset"])}
                continue
            cell = self._cell(info["agent_xy"])
            if cell not in self.visited[i]:
                self.visited[i].add(cell)
                bonus[i] = self.new_cell_bonus
        self._record(bonus_mean=bonus.mean(),
                     episode_cells=np.mean([len(v) for v in self.visited]))
        return bonus
