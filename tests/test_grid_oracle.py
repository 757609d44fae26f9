"""The grid oracle as the original's oracle.py: int()-quantised 30-unit cells, the start cell
paid once a step lands in it, and the no-reward scenarios' metric is its return."""

import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.envs import coverage, maze_layout, registry
from episodic_curiosity.rewards.grid_oracle import GridOracle


def info(x, y, **extra):
    return {"agent_xy": np.array([x, y], np.float32), **extra}


def test_cells_truncate_toward_zero_like_int():
    assert coverage.cell_of((29.9, -29.9), 30) == (0, 0)  # int(-0.99) == 0, not floor's -1
    assert coverage.cell_of((30.0, -30.0), 30) == (1, -1)


def test_bonus_for_each_new_cell_once_per_episode():
    oracle = GridOracle(num_envs=1, scenario=envs.get("doom_dense"), device="cpu", alpha=0.05,
                        cell_size=10)
    oracle.begin(None, [info(1, 1)])
    no = np.array([False])
    step = lambda xy, done=False: oracle.compute(
        None, None, None, np.array([done]), no, [info(*xy)])[0]
    assert step((5, 5)) == pytest.approx(0.05)  # the start cell pays on the first step in it
    assert step((15, 5)) == pytest.approx(0.05)  # 30^2 / 900 = 1 -> alpha
    assert step((15, 8)) == 0.0
    assert step((1, 1)) == 0.0  # revisiting the start cell
    assert step((99, 99), done=True) == 0.0  # done: no bonus, a new episode begins
    assert step((1, 1)) == pytest.approx(0.05)  # new episode: every cell is new again
    assert oracle.stats()["bonus_mean"] == pytest.approx(0.15 / 6)


@pytest.mark.parametrize("name, cell", [("sparse", 0.3), ("noreward", 0.3), ("doom_dense", 32.0),
                                        ("ant_noreward", 5.0), ("dmlab_noreward", 30.0)])
def test_every_scenario_declares_the_original_oracle_cell(name, cell):
    # 30 DMLab units = 0.3 of a 100-unit maze cell; Doom ~1.3 steps; Ant as the original (5).
    assert registry._SCENARIOS[name].oracle_cell == cell
    if name == "sparse":
        assert GridOracle(1, envs.get(name), "cpu").visited[0].cell_size == cell


def test_metric_is_the_oracle_only_where_the_original_reports_it():
    oracle = {n for n, s in registry._SCENARIOS.items() if s.metric == "oracle"}
    assert oracle == {"noreward", "norewardnofire", "noreward_small", "ant_noreward", "dmlab_noreward",
                      "dmlab_norewardnofire"}


def test_noreward_return_is_the_oracle_count_of_a_scripted_walk():
    """A straight walk along a corridor: 0.2 maze cell per step = 2/3 of an oracle cell, so the
    return (and cells_visited) is the number of 0.3-cell bins the positions fall in."""
    env = envs.make_env("noreward", envs.Split.VALIDATION, 0)
    _, first = env.reset(seed=None)
    positions, total = [], 0.0
    for _ in range(40):
        _, reward, terminated, truncated, step_info = env.step(0)  # forward (into walls too)
        positions.append(step_info["agent_xy"])
        total += reward
    expected = len({coverage.cell_of(p, 0.3) for p in positions})
    assert total == expected and expected > 1
    env.close()


def test_coverage_statistic_counts_the_oracles_cells():
    """cells_visited is the oracle's measure on every scenario: the distinct 32-unit cells of the
    positions after each step of a VizDoom episode (a 100-unit cell gives 4 here, not 13)."""
    env = envs.make_env("doom_basic", envs.Split.TEST, 0)
    env.reset(seed=1)
    positions, done = [], False
    while not done:
        action = 0 if (len(positions) // 15) % 2 == 0 else 1  # strafe left, then right, ...
        _, _, terminated, truncated, step_info = env.step(action)
        positions.append(step_info["agent_xy"])
        done = terminated or truncated
    env.close()
    expected = len({coverage.cell_of(p, registry._SCENARIOS["doom_basic"].oracle_cell)
                    for p in positions})
    assert step_info["episode"]["cells_visited"] == expected > len(
        {coverage.cell_of(p, 100.0) for p in positions})
