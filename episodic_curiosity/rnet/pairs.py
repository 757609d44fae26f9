"""Training pairs from trajectories: reachable if 1..k steps apart, unreachable if > gamma*k apart."""

import numpy as np


def sample_pairs(episode_lengths, num_pairs, rng, k=5, negative_gap=5):
    """Indices of balanced pairs within episodes.

    episode_lengths: length of each episode (frames laid out one episode after another).
    Returns (first, second, label) int arrays over the concatenated frames; label 1 = positive
    (1 <= |i - j| <= k), 0 = negative (|i - j| > negative_gap * k). The pair order is random.
    """
    lengths = np.asarray(episode_lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    min_negative = negative_gap * k + 1
    negative_ok = lengths > min_negative
    if not negative_ok.any():
        raise ValueError(f"no episode is longer than {min_negative} frames: cannot sample negatives")
    labels = rng.integers(0, 2, num_pairs)
    first, second = np.zeros(num_pairs, np.int64), np.zeros(num_pairs, np.int64)
    for label, candidates, lo in ((1, lengths > 1, 1), (0, negative_ok, min_negative)):
        idx = np.flatnonzero(labels == label)
        weights = lengths * candidates
        episodes = rng.choice(len(lengths), size=len(idx), p=weights / weights.sum())
        ep_len = lengths[episodes]
        hi = np.minimum(k, ep_len - 1) if label == 1 else ep_len - 1
        gap = rng.integers(lo, hi + 1)
        start = rng.integers(0, ep_len - gap)
        first[idx] = offsets[episodes] + start
        second[idx] = offsets[episodes] + start + gap
    swap = rng.random(num_pairs) < 0.5
    first[swap], second[swap] = second[swap], first[swap].copy()
    return first, second, labels
