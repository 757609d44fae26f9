import numpy as np
import pytest
import torch

from episodic_curiosity.rewards.episodic_memory import EpisodicMemory


def first_component(query, slots):
    """Score = the slot's first component, whatever the query: makes percentiles checkable."""
    return slots[..., 0]


def memory(num_envs=2, capacity=3, seed=0):
    return EpisodicMemory(num_envs, capacity, 2, "cpu", np.random.default_rng(seed))


def test_fills_up_to_capacity_then_replaces_random_slots():
    mem = memory(capacity=3)
    for value in range(3):
        mem.add([0], torch.tensor([[float(value), 0.0]]))
    assert mem.count.tolist() == [3, 0]
    assert mem.slots[0, :, 0].tolist() == [0.0, 1.0, 2.0]
    mem.add([0], torch.tensor([[9.0, 0.0]]))
    assert mem.count[0] == 3
    values = sorted(mem.slots[0, :, 0].tolist())
    assert 9.0 in values and len(set(values) & {0.0, 1.0, 2.0}) == 2
    # Replacement is uniform: over many additions every slot gets replaced.
    replaced = set()
    for value in range(10, 60):
        mem.add([0], torch.tensor([[float(value), 0.0]]))
        replaced |= {i for i, v in enumerate(mem.slots[0, :, 0].tolist()) if v == value}
    assert replaced == {0, 1, 2}


def test_percentile_over_filled_slots_only():
    mem = EpisodicMemory(2, 10, 2, "cpu", np.random.default_rng(0))
    env0 = [0.1, 0.5, 0.2, 0.9, 0.3]
    for v in env0:
        mem.add([0], torch.tensor([[v, 0.0]]))
    mem.add([1], torch.tensor([[0.7, 0.0]]))
    similarity = mem.similarity(first_component, torch.zeros(2, 2), percentile=90)
    assert similarity[0].item() == pytest.approx(np.percentile(env0, 90))
    assert similarity[1].item() == pytest.approx(0.7)


def test_empty_memory_is_dissimilar_and_reset_empties():
    mem = memory()
    assert mem.similarity(first_component, torch.zeros(2, 2)).tolist() == [0.0, 0.0]
    mem.add([0, 1], torch.ones(2, 2))
    mem.reset([1])
    assert mem.count.tolist() == [1, 0]
    assert mem.similarity(first_component, torch.zeros(2, 2)).tolist() == [1.0, 0.0]
    assert mem.fill == pytest.approx(1 / 6)


def test_fifo_replaces_the_oldest_entry():
    mem = EpisodicMemory(1, 3, 2, "cpu", np.random.default_rng(0), replacement="fifo")
    for value in range(7):
        mem.add([0], torch.tensor([[float(value), 0.0]]))
    assert mem.slots[0, :, 0].tolist() == [6.0, 4.0, 5.0]  # 0..2, then 3, 4, 5 replaced 0, 1, 2
    mem.reset([0])
    mem.add([0], torch.tensor([[9.0, 0.0]]))
    assert mem.count[0] == 1 and mem.slots[0, 0, 0] == 9.0


def test_noreward_scenarios_use_fifo_memory_the_others_random():
    from episodic_curiosity import configuration
    from episodic_curiosity.launch import local, methods
    for scenario, expected in (("noreward", "fifo"), ("norewardnofire", "fifo"),
                               ("sparse", "random"), ("doom_dense", "random")):
        for method in ("ppo_plus_ec", "ppo_plus_eco"):
            configuration.parse(local.gin_files(methods.get(method), scenario, None))
            assert configuration.query("EpisodicCuriosity.memory_replacement", None) == expected
    configuration.parse()
