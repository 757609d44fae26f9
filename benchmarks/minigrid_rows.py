"""MiniGrid's reference rows for benchmarks/throughput.py, beside the toolkit's env: plain
minigrid and the path before minigrid_view.GridCache. Flag-free, so tests import it beside the
other benchmark binaries (absl refuses a flag defined twice)."""

import time

import numpy as np

from episodic_curiosity import configuration
from episodic_curiosity.launch import local, methods


def rollout_length(method, scenario) -> int:
    """PPOConfig.num_steps as the launcher's files set it (MiniGrid's family file: 128)."""
    return configuration.query_files(local.gin_files(methods.get(method), scenario, None),
                                     "PPOConfig.num_steps", 256)


def raw_rows(scenario, num_envs, total_steps):
    """MiniGrid beside the toolkit's env: plain minigrid (gym.make, the envs stepped in one
    process, no wrappers), and the toolkit's env with minigrid's own observation code (the path
    before minigrid_view.GridCache)."""
    import gymnasium as gym

    from episodic_curiosity.envs import minigrid, registry
    name = scenario.removeprefix("minigrid_").removesuffix("_rgb")
    env_id, kwargs = next((i, k) for n, i, k, _ in registry._MINIGRID if n == name)
    view = "rgb" if scenario.endswith("_rgb") else "symbolic"

    def rate(env_list):
        rng = np.random.default_rng(0)
        for env in env_list:
            env.reset(seed=0)
        iterations = max(1, total_steps // num_envs)
        start = time.perf_counter()
        for _ in range(iterations):
            for env in env_list:
                _, _, terminated, truncated, _ = env.step(int(rng.integers(7)))
                if terminated or truncated:
                    env.reset()
        return iterations * num_envs / (time.perf_counter() - start)

    make = (lambda: minigrid.MultiRoomNoisyTVEnv(**kwargs)) if env_id == "noisytv" else (
        lambda: gym.make(env_id, **kwargs))
    plain = rate([make() for _ in range(num_envs)])
    before = rate([minigrid.MiniGridTask(lambda: minigrid.make_raw(env_id, kwargs), seed, view,
                                         fast_view=False) for seed in range(num_envs)])
    return [(f"plain minigrid, {num_envs} envs in one process", plain),
            (f"our env with minigrid's gen_obs (before), {num_envs} envs in process", before)]
