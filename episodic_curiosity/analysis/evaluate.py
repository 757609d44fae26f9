"""Evaluation of a checkpoint on held-out level seeds: per-episode returns and coverage, an
optional dataset of the transitions, and the frames of the first episodes for videos.

Episode i plays level `level_seed(split, i)` from its start, as the trainer's evaluation does, so
the returns are comparable with reward_valid.csv / reward_test.csv.
"""

import dataclasses

import numpy as np

from episodic_curiosity import envs
from episodic_curiosity.analysis import policy as policy_lib
from episodic_curiosity.progress import Progress

EPISODE_COLUMNS = ["episode", "level_seed", "return", "length", "cells_visited",
                   "distance_travelled"]


@dataclasses.dataclass
class Evaluation:
    episodes: list  # dicts with EPISODE_COLUMNS
    dataset: dict  # name -> array, one entry per transition (see `evaluate`)
    videos: list  # frames [T+1, H, W, 3] of the first `video_episodes` episodes


def evaluate(policy, scenario: str, split: envs.Split, num_episodes: int, greedy: bool = False,
             include_images: bool = False, video_episodes: int = 0,
             max_steps: int | None = None) -> Evaluation:
    """Plays `num_episodes` episodes; the dataset holds, per transition: episode, step, action,
    reward, terminated, truncated, agent_xy (after the step) and with `include_images` the
    observation the action was chosen on (uint8 [T, H, W, 3])."""
    obs_size = policy.meta["obs_shape"][0]
    spec = envs.get(scenario)
    columns = {k: [] for k in ("episode", "step", "action", "reward", "terminated", "truncated",
                               "agent_xy")}
    observations, rows, videos = [], [], []
    total = num_episodes * (min(spec.episode_steps, max_steps or spec.episode_steps))
    with Progress(total, f"evaluate {scenario} {split.name.lower()}", unit="steps") as bar:
        for episode in range(num_episodes):
            env = envs.make_env(scenario, split, episode, obs_size)
            frames = []
            try:
                steps = policy_lib.play(env, lambda obs, t: policy.act(obs, greedy, t == 0),
                                        max_steps)
                first_obs, _ = next(steps)
                frames.append(first_obs)
                last = None
                for t, step in enumerate(steps):
                    columns["episode"].append(episode)
                    columns["step"].append(t)
                    columns["action"].append(step.action)
                    columns["reward"].append(step.reward)
                    columns["terminated"].append(step.terminated)
                    columns["truncated"].append(step.truncated)
                    columns["agent_xy"].append(step.info.get("agent_xy", (np.nan, np.nan)))
                    if include_images:
                        observations.append(step.obs)
                    if episode < video_episodes:
                        frames.append(step.next_obs)
                    last = step
                    bar.update(1)
            finally:
                env.close()
            stats = last.info.get("episode") if last is not None else None
            if stats is None:  # cut by max_steps: the wrapper has not summed it up
                mine = np.asarray(columns["episode"]) == episode
                stats = {"return": float(np.sum(np.asarray(columns["reward"])[mine])),
                         "length": int(mine.sum()), "cells_visited": "",
                         "distance_travelled": ""}
            rows.append({"episode": episode, "level_seed": envs.level_seed(split, episode),
                         **{k: stats[k] for k in EPISODE_COLUMNS[2:]}})
            if episode < video_episodes:
                videos.append(np.stack(frames))
            bar.update(0, ret=f"{np.mean([r['return'] for r in rows]):.3f}")
    dataset = {
        "episode": np.asarray(columns["episode"], np.int32),
        "step": np.asarray(columns["step"], np.int32),
        "action": np.asarray(columns["action"], np.int64),
        "reward": np.asarray(columns["reward"], np.float32),
        "terminated": np.asarray(columns["terminated"], bool),
        "truncated": np.asarray(columns["truncated"], bool),
        "agent_xy": np.asarray(columns["agent_xy"], np.float32).reshape(-1, 2),
    }
    if include_images:
        dataset["observation"] = (np.stack(observations) if observations else
                                  np.zeros((0,) + tuple(policy.meta["obs_shape"]), np.uint8))
    return Evaluation(rows, dataset, videos)


def save_dataset(path, dataset: dict) -> None:
    """Compressed NumPy (.npz): np.load(path) gives back the same arrays."""
    np.savez_compressed(path, **dataset)


def load_dataset(path) -> dict:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
