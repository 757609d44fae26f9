"""Scenario registry and environments. Knows nothing about rewards or agents."""

from episodic_curiosity.envs.registry import Scenario, env_factories, get, make_env, names
from episodic_curiosity.envs.splits import Split, level_seed
from episodic_curiosity.envs.vector import VecEnv

__all__ = ["Scenario", "Split", "VecEnv", "env_factories", "get", "level_seed", "make_env", "names"]
