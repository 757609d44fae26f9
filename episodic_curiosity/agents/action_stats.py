"""How often a trained policy takes each action, and how often it reaches the goal.

The NoisyTV experiment's metric: the share of steps spent on the noisy action (a policy drawn to
the random ball colours presses it far more than the 1/7 of a uniform policy).
"""

import numpy as np
import torch

from episodic_curiosity import checkpoint, envs
from episodic_curiosity.agents import networks
from episodic_curiosity.agents.rollout import act
from episodic_curiosity.errors import UsageError


def load_policy(run_dir, scenario):
    """The newest checkpointed policy of a run directory, on the CPU."""
    state = checkpoint.load_latest(run_dir.checkpoints)
    if state is None:
        raise UsageError(f"no checkpoint in {run_dir.checkpoints}; train the run first")
    network = networks.load_actor_critic(state["network"], scenario.obs_shape(),
                                         scenario.num_actions)
    return network.eval(), state["step"]


@torch.no_grad()
def action_frequencies(network, scenario_name: str, episodes: int, greedy: bool = False):
    """Plays `episodes` TEST-split episodes (one per env); returns (action shares, success rate)."""
    vec = envs.VecEnv(envs.env_factories(scenario_name, envs.Split.TEST, range(episodes)))
    counts = np.zeros(envs.get(scenario_name).num_actions)
    finished = [None] * episodes
    try:
        obs, _ = vec.reset()
        while any(f is None for f in finished):
            actions = act(network, obs, "cpu", greedy)[0].numpy()
            live = np.array([f is None for f in finished])
            counts += np.bincount(actions[live], minlength=len(counts))
            obs, _, _, _, infos = vec.step(actions)
            for i, info in enumerate(infos):
                if finished[i] is None and "episode" in info:
                    finished[i] = info["episode"]
    finally:
        vec.close()
    success = float(np.mean([e["return"] > 0 for e in finished]))
    return counts / counts.sum(), success
