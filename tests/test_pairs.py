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
