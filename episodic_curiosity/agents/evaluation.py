"""Evaluation episodes on held-out level seeds (the VALIDATION and TEST splits): one episode in
each env of a vector env, played together. The training loop's evaluation and the NoisyTV
report's action counts both play them here."""

import numpy as np

from episodic_curiosity.agents.rollout import Acting


def play_episodes(network, vec_env, device, greedy: bool = False, max_steps: int = 100_000,
                  on_actions=None) -> list:
    """One episode per env (its first); returns their stats (`info["episode"]`), in env order.

    on_actions(actions, live): called each step with the batch's actions (numpy) and which envs
    are still in their first episode."""
    network.eval()
    obs, _ = vec_env.reset()
    finished = [None] * vec_env.num_envs
    acting, starts = Acting(network, vec_env.num_envs, device), None  # fresh state per episode
    try:
        for _ in range(max_steps):
            actions = acting(obs, starts, greedy)[0].cpu().numpy()
            if on_actions is not None:
                on_actions(actions, np.array([f is None for f in finished]))
            obs, _, terminated, truncated, infos = vec_env.step(actions)
            starts = terminated | truncated
            for i, info in enumerate(infos):
                if finished[i] is None and "episode" in info:
                    finished[i] = info["episode"]
            if all(f is not None for f in finished):
                break
    finally:
        network.train()
    return [f for f in finished if f is not None]


def evaluate(network, vec_env, device, greedy: bool = False, max_steps: int = 100_000):
    """Plays one episode in each env of `vec_env`; returns (mean return, list of episode stats)."""
    episodes = play_episodes(network, vec_env, device, greedy, max_steps)
    return float(np.mean([e["return"] for e in episodes])), episodes
