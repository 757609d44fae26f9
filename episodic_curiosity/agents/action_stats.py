"""How often a trained policy takes each action, and how often it reaches the goal.

The NoisyTV experiment's metric: the share of steps spent on the noisy action (a policy drawn to
the random ball colours presses it far more than the 1/7 of a uniform policy).
"""

import numpy as np
import torch

from episodic_curiosity import envs
from episodic_curiosity.agents.evaluation import play_episodes


@torch.no_grad()
def action_frequencies(network, scenario_name: str, episodes: int, greedy: bool = False):
    """Plays `episodes` TEST-split episodes (one per env); returns (action shares, success rate)."""
    vec = envs.VecEnv(envs.env_factories(scenario_name, envs.Split.TEST, range(episodes)))
    counts = np.zeros(envs.get(scenario_name).num_actions)

    def count(actions, live):
        counts[:] += np.bincount(actions[live], minlength=len(counts))

    try:
        finished = play_episodes(network, vec, "cpu", greedy, max_steps=10**9, on_actions=count)
    finally:
        vec.close()
    success = float(np.mean([e["return"] > 0 for e in finished]))
    return counts / counts.sum(), success
