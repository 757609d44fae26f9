"""Training pairs from trajectories: reachable if 1..k steps apart, unreachable if > gamma*k apart.

Two distributions of the pairs (`mode`):
- 'original' (the paper's, r_network_training.py): an anchor frame, a positive partner 1..k steps
  after it, or a negative partner uniform over the episode's frames more than gamma*k steps away
  on either side. On 1800-step episodes the mean negative gap is ~600 steps.
- 'uniform_gap' (this project's first sampler): the negative gap uniform over gamma*k+1 .. L-1,
  then a start for it: far more very long gaps (mean ~900 on 1800-step episodes).
"""

import numpy as np

MODES = ("original", "uniform_gap")


def _episodes_for(lengths, count, candidates, rng):
    """Episodes drawn in proportion to their length among `candidates` (one anchor per frame)."""
    weights = lengths * candidates
    return rng.choice(len(lengths), size=count, p=weights / weights.sum())


def _original_negative_partner(anchor, length, exclude, rng):
    """Uniform over [0, length) minus [anchor - exclude, anchor + exclude]; -1 where empty."""
    lo = np.maximum(anchor - exclude, 0)
    hi = np.minimum(anchor + exclude + 1, length)
    allowed = length - (hi - lo)
    index = rng.integers(0, np.maximum(allowed, 1))
    partner = np.where(index >= lo, hi + (index - lo), index)
    return np.where(allowed > 0, partner, -1)


def _negatives(lengths, count, rng, min_gap, mode):
    """(episode, first, second) positions of `count` negative pairs."""
    episodes = _episodes_for(lengths, count, lengths > min_gap, rng)
    ep_len = lengths[episodes]
    if mode == "uniform_gap":
        gap = rng.integers(min_gap, ep_len)
        start = rng.integers(0, ep_len - gap)
        return episodes, start, start + gap
    anchor = rng.integers(0, ep_len)
    partner = _original_negative_partner(anchor, ep_len, min_gap - 1, rng)
    while (partner < 0).any():  # anchors in the middle of a short episode: draw them again
        bad = partner < 0
        anchor[bad] = rng.integers(0, ep_len[bad])
        partner[bad] = _original_negative_partner(anchor[bad], ep_len[bad], min_gap - 1, rng)
    return episodes, anchor, partner


def _positives(lengths, count, rng, k):
    episodes = _episodes_for(lengths, count, lengths > 1, rng)
    ep_len = lengths[episodes]
    anchor = rng.integers(0, ep_len - 1)
    gap = rng.integers(1, np.minimum(k, ep_len - 1 - anchor) + 1)
    return episodes, anchor, anchor + gap


def sample_pairs(episode_lengths, num_pairs, rng, k=5, negative_gap=5, mode="original"):
    """Indices of balanced pairs within episodes.

    episode_lengths: length of each episode (frames laid out one episode after another).
    Returns (first, second, label) int arrays over the concatenated frames; label 1 = positive
    (1 <= |i - j| <= k), 0 = negative (|i - j| > negative_gap * k). The pair order is random.
    """
    if mode not in MODES:
        raise ValueError(f"pair sampling mode must be one of {MODES}, got {mode!r}")
    lengths = np.asarray(episode_lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    min_gap = negative_gap * k + 1
    if not (lengths > min_gap).any():
        raise ValueError(f"no episode is longer than {min_gap} frames: cannot sample negatives")
    labels = rng.integers(0, 2, num_pairs)
    first, second = np.zeros(num_pairs, np.int64), np.zeros(num_pairs, np.int64)
    for label, draw in ((1, lambda n: _positives(lengths, n, rng, k)),
                        (0, lambda n: _negatives(lengths, n, rng, min_gap, mode))):
        idx = np.flatnonzero(labels == label)
        episodes, a, b = draw(len(idx))
        first[idx], second[idx] = offsets[episodes] + a, offsets[episodes] + b
    swap = rng.random(num_pairs) < 0.5
    first[swap], second[swap] = second[swap], first[swap].copy()
    return first, second, labels


def pairs_per_pass(episode_lengths):
    """How many pairs the original draws from these episodes: one per anchor, anchors strided by
    1 + uniform(1..5) frames (~ one pair per 4 frames; r_network_training.py, mode v2)."""
    return int(sum(max(int(length) - 6, 0) // 4 for length in episode_lengths))
