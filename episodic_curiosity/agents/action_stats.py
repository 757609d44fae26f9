"""How often a trained policy takes each action, and how often it reaches the goal.

The NoisyTV experiment's metric: the share of steps spent on the noisy action (a policy drawn to
the random ball colours presses it far more than the 1/7 of a uniform policy).
"""

import numpy as np
import torch

from episodic_curiosity import envs
from episodic_curiosity.agents.rollout import Acting


@torch.no_grad()
def action_frequencies(network, scenario_name: str, episodes: int, greedy: bool = False):
    """Plays `episodes` TEST-split episodes (one per env); returns (action shares, success rate)."""
    vec = envs.VecEnv(envs.env_factories(scenario_name, envs.Split.TEST, range(episodes)))
    counts = np.zeros(envs.get(scenario_name).num_actions)
    finished = [None] * episodes
    try:
        obs, _ = vec.reset()
        acting, starts = Acting(network, episodes, "cpu"), None
        while any(f is None for f in finished):
            actions = acting(obs, starts, greedy)[0].numpy()
            live = np.array([f is None for f in finished])
            counts += np.bincount(actions[live], minlength=len(counts))
            obs, _, terminated, truncated, infos = vec.step(actions)
            starts = terminated | truncated
            for i, info in enumerate(infos):
                if finished[i] is None and "episode" in info:
                    finished[i] = info["episode"]
    finally:
        vec.close()
    success = float(np.mean([e["return"] > 0 for e in finished]))
    return counts / counts.sum(), success
