"""EC bonus semantics with a transparent R-network double, and ECO state round trip."""

import numpy as np
import pytest
import torch
from torch import nn

from episodic_curiosity import envs
from episodic_curiosity.rewards.episodic_curiosity import (EpisodicCuriosity,
                                                           EpisodicCuriosityOnline,
                                                           bonus_from_similarity)


class MeanColourRNet(nn.Module):
    """Test double with RNetwork's interface: frames are 'reachable' when their mean colours match."""

    memory_dim = 3

    def embed(self, frames):
        colour = frames.float().mean(dim=(1, 2))
        return colour, colour

    def similarity_to_memory(self, query, memory):
        return torch.exp(-((query[:, None] - memory) ** 2).sum(-1) / 100.0)


def frames(*colours):
    return np.stack([np.full((84, 84, 3), c, np.uint8) for c in colours])


NO = np.array([False, False])


def test_bonus_formula():
    assert bonus_from_similarity(0.2, alpha=0.030172, beta=0.5) == pytest.approx(0.030172 * 0.3)
    assert bonus_from_similarity(1.0, alpha=2.0, beta=1.0) == 0.0  # Ant: beta = 1


def test_familiar_frames_cost_novel_frames_pay_and_enter_memory():
    ec = EpisodicCuriosity(2, envs.get("doom_dense"), "cpu", rnet=MeanColourRNet(), view="policy", alpha=1.0,
                           beta=0.5)
    ec.begin(frames(0, 0), [{}, {}])
    assert ec.memory.count.tolist() == [1, 1]
    bonus = ec.compute(None, None, frames(0, 200), NO, NO, [{}, {}])
    assert bonus[0] == pytest.approx(-0.5)  # similarity 1 -> 0.5 - 1
    assert bonus[1] == pytest.approx(0.5)  # similarity 0 -> 0.5 - 0
    assert ec.memory.count.tolist() == [1, 2]  # only the novel frame (C < 0.5) was added
    bonus = ec.compute(None, None, frames(0, 200), NO, NO, [{}, {}])
    assert bonus[1] < 0  # the frame is familiar now
    # Episode end: zero bonus, memory reset to the first frame of the new episode.
    bonus = ec.compute(None, None, frames(0, 90), NO, np.array([False, True]), [{}, {}])
    assert bonus[1] == 0.0 and ec.memory.count[1] == 1
    assert ec.memory.slots[1, 0].tolist() == [90.0, 90.0, 90.0]
    stats = ec.stats()
    assert set(stats) == {"bonus_mean", "memory_fill", "added_fraction"}


def test_percentile_not_max_decides_novelty():
    ec = EpisodicCuriosity(1, envs.get("doom_dense"), "cpu", rnet=MeanColourRNet(), view="policy", alpha=1.0,
                           beta=0.5, percentile=90)
    ec.begin(frames(0), [{}])
    for colour in (40, 80, 120, 160, 200, 240, 20, 60, 100, 140):
        ec.compute(None, None, frames(colour), np.array([False]), np.array([False]), [{}])
    # One close slot among eleven is below the 90th percentile: a near-duplicate of one memory
    # still scores as fairly novel.
    bonus = ec.compute(None, None, frames(41), np.array([False]), np.array([False]), [{}])
    assert bonus[0] > 0


def test_eco_gives_no_bonus_before_training_and_restores_its_state():
    scenario = envs.get("doom_dense")
    kwargs = dict(history_steps=64, retrain_period=60, epochs=1, steps_per_epoch=2, view="policy",
                  memory_before_training=False)
    torch.manual_seed(0)
    eco = EpisodicCuriosityOnline(2, scenario, "cpu", **kwargs)
    rng = np.random.default_rng(0)
    eco.begin(rng.integers(0, 255, (2, 84, 84, 3), dtype=np.uint8), [{}, {}])
    for _ in range(59):
        bonus = eco.compute(None, None, rng.integers(0, 255, (2, 84, 84, 3), dtype=np.uint8),
                            NO, NO, [{}, {}])
        assert not bonus.any()
    eco.update(step=60)
    assert eco.trainings == 1
    bonus = eco.compute(None, None, rng.integers(0, 255, (2, 84, 84, 3), dtype=np.uint8), NO, NO,
                        [{}, {}])
    assert bonus.any()
    restored = EpisodicCuriosityOnline(2, scenario, "cpu", **kwargs)
    restored.load_state_dict(eco.state_dict())
    assert restored.trainings == 1
    for a, b in zip(eco.rnet.state_dict().values(), restored.rnet.state_dict().values()):
        assert torch.equal(a, b)
    assert restored.trainer.optimizer.state_dict()["state"].keys() == \
        eco.trainer.optimizer.state_dict()["state"].keys()
