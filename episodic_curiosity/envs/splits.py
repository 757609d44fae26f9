"""Seed splits: R-network data, policy training, validation and test never share a level seed."""

import enum

import numpy as np

_SEEDS_PER_SPLIT = 1_000_000


class Split(enum.Enum):
    R_TRAINING = 0
    POLICY_TRAINING = 1
    VALIDATION = 2
    TEST = 3


def level_seed(split: Split, index: int) -> int:
    """The level (and spawn) seed of the `index`-th environment of `split`; disjoint across splits."""
    if not 0 <= index < _SEEDS_PER_SPLIT:
        raise ValueError(f"env index {index} outside [0, {_SEEDS_PER_SPLIT})")
    return split.value * _SEEDS_PER_SPLIT + index


def split_of(seed: int) -> Split:
    """The split a level seed belongs to (the inverse of `level_seed`)."""
    return Split(seed // _SEEDS_PER_SPLIT)


MAX_EPISODE_ENVS = 50_000  # env indices per split that get their own episode seeds
_EPISODES_PER_ENV = 10_000  # then an env's episodes repeat (20M steps of 2k-step episodes)


def episode_seed(seed: int, episode: int) -> int:
    """A 31-bit seed for one episode of the env with level seed `seed` (labmaze takes a C int).

    Engines that regenerate the level every episode (as DMLab does) use it; seeds of different
    splits stay disjoint: split, env index and episode are packed into separate ranges.
    """
    split, index = divmod(seed, _SEEDS_PER_SPLIT)
    if index >= MAX_EPISODE_ENVS:
        raise ValueError(f"env index {index} outside [0, {MAX_EPISODE_ENVS}) for per-episode seeds")
    per_split = MAX_EPISODE_ENVS * _EPISODES_PER_ENV
    return split * per_split + index * _EPISODES_PER_ENV + episode % _EPISODES_PER_ENV


def seeded_episode_seed(seed: int, episode: int) -> int:
    """A 31-bit seed for episode `episode` after `reset(seed=seed)`: gymnasium's contract (the same
    seed, the same episodes) for engines that regenerate the level every episode."""
    return int(np.random.SeedSequence([seed, episode]).generate_state(1)[0] >> 1)
