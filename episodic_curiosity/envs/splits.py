"""Seed splits: R-network data, policy training, validation and test never share a level seed."""

import enum

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
