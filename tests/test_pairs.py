import numpy as np
import pytest

from episodic_curiosity.rnet.pairs import sample_pairs


def test_distances_labels_and_episode_boundaries():
    lengths = [100, 40, 300]
    episode_of = np.repeat(np.arange(3), lengths)
    first, second, labels = sample_pairs(lengths, 20000, np.random.default_rng(0), k=5,
                                         negative_gap=5)
    distance = np.abs(first - second)
    assert (episode_of[first] == episode_of[second]).all()
    assert ((distance >= 1) & (distance <= 5))[labels == 1].all()
    assert (distance > 25)[labels == 0].all()
    assert labels.mean() == pytest.approx(0.5, abs=0.02)
    assert (first > second).mean() == pytest.approx(0.5, abs=0.02)  # order randomly swapped
    assert set(distance[labels == 1]) == {1, 2, 3, 4, 5}


def test_no_negatives_possible_is_an_error():
    with pytest.raises(ValueError, match="longer than 26"):
        sample_pairs([10, 20], 8, np.random.default_rng(0))


def test_negative_partners_are_uniform_over_far_frames_as_the_original():
    """r_network_training.py: the partner is uniform over the frames more than 25 steps from the
    anchor, on either side: mean gap ~L/3 (~600 on 1800-step episodes), not ~900."""
    rng = np.random.default_rng(0)
    first, second, labels = sample_pairs([1800] * 10, 40000, rng)
    gaps = np.abs(first - second)[labels == 0]
    assert 570 < gaps.mean() < 660, gaps.mean()
    assert gaps.min() == 26
    old = sample_pairs([1800] * 10, 40000, rng, mode="uniform_gap")
    assert np.abs(old[0] - old[1])[old[2] == 0].mean() > 850  # the option keeps the old sampler


def test_short_episodes_still_give_far_negatives():
    first, second, labels = sample_pairs([30, 40, 60], 5000, np.random.default_rng(1))
    episode_of = np.repeat(np.arange(3), [30, 40, 60])
    assert (episode_of[first] == episode_of[second]).all()
    assert (np.abs(first - second)[labels == 0] > 25).all()
