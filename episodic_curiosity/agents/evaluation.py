"""Evaluation episodes on held-out level seeds (the VALIDATION and TEST splits)."""

import numpy as np

from episodic_curiosity.agents.rollout import Acting


def evaluate(network, vec_env, device, greedy: bool = False, max_steps: int = 100_000):
    """Plays one episode in each env of `vec_env`; returns (mean return, list of episode stats)."""
    network.eval()
    obs, _ = vec_env.reset()
    finished = [None] * vec_env.num_envs
    acting, starts = Acting(network, vec_env.num_envs, device), None  # fresh state per episode
    for _ in range(max_steps):
        actions, _, _ = acting(obs, starts, greedy)
        obs, _, terminated, truncated, infos = vec_env.step(actions.cpu().numpy())
        starts = terminated | truncated
        for i, info in enumerate(infos):
            if finished[i] is None and "episode" in info:
                finished[i] = info["episode"]
        if all(f is not None for f in finished):
            break
    network.train()
    episodes = [f for f in finished if f is not None]
    return float(np.mean([e["return"] for e in episodes])), episodes
