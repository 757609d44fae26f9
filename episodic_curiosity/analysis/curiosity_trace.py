"""The EC bonus of one env along an episode, and where the frames held in its memory were seen.

Runs the training's own `EpisodicCuriosity` (same memory, percentile, alpha, beta: whatever gin
holds), one env wide; which slot a frame went to is read from the memory itself (the slots that
changed), so the drawn memory is exactly the module's.
"""

import numpy as np
import torch

from episodic_curiosity.rewards.episodic_curiosity import EpisodicCuriosity
from episodic_curiosity.rnet.offline import load_rnet


class TaskRewardTrace:
    """What a video shows without an R-network: the task reward, no memory."""

    label, capacity, scale = "task reward", 0, 1.0

    def begin(self, obs, info):
        pass

    def step(self, step) -> float:
        return step.reward

    def colour_value(self, value):
        """Trajectory colour: green where the task paid, neutral elsewhere."""
        return 1.0 if value > 0 else None

    def memory_xy(self) -> list:
        return []


class CuriosityTrace:
    label = "EC bonus"

    def __init__(self, r_net_weights, scenario, device):
        self.module = EpisodicCuriosity(num_envs=1, scenario=scenario, device=device,
                                        rnet=load_rnet(r_net_weights, device))
        self.capacity = self.module.memory.capacity
        self.positions = [None] * self.capacity

    @property
    def scale(self) -> float:
        """|bonus| at similarity 0: the bar's and the colours' full scale."""
        return abs(self.module.alpha * self.module.beta) or 1.0

    def colour_value(self, value):
        return value

    def begin(self, obs, info):
        self.module.begin(obs[None], [info])
        self.positions = [None] * self.capacity
        self.positions[0] = info.get("agent_xy")

    def step(self, step) -> float:
        """The bonus of one transition (a policy.Step); records the position of a frame stored."""
        memory = self.module.memory
        before = memory.slots[0].clone()
        bonus = self.module.compute(step.obs[None], np.asarray([step.action]),
                                    step.next_obs[None], np.asarray([step.terminated]),
                                    np.asarray([step.truncated]), [step.info])
        changed = torch.nonzero((memory.slots[0] != before).any(-1)).flatten().tolist()
        for slot in changed:
            self.positions[slot] = step.info.get("agent_xy")
        return float(bonus[0])

    def memory_xy(self) -> list:
        """Positions of the frames in memory now (those with a known position)."""
        count = int(self.module.memory.count[0])
        return [p for p in self.positions[:count] if p is not None]



class BonusTrace:
    """Any method's intrinsic reward on one env (its gin defaults, a run's trained state if
    given): the bar shows its bonus per step, scaled by the largest seen so far."""

    capacity = 0

    def __init__(self, module, label: str):
        self.module, self.label, self.scale = module, label, 1e-6

    def begin(self, obs, info):
        self.module.begin(obs[None], [info])

    def step(self, step) -> float:
        bonus = float(self.module.compute(step.obs[None], np.asarray([step.action]),
                                          step.next_obs[None], np.asarray([step.terminated]),
                                          np.asarray([step.truncated]), [step.info])[0])
        self.scale = max(self.scale, abs(bonus))
        return bonus

    def colour_value(self, value):
        return value

    def memory_xy(self) -> list:
        return []
