import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.rewards.grid_oracle import GridOracle


def info(x, y, **extra):
    return {"agent_xy": np.array([x, y], np.float32), **extra}


def test_bonus_for_each_new_cell_once_per_episode():
    oracle = GridOracle(num_envs=1, scenario=envs.get("doom_dense"), device="cpu", alpha=0.05,
                        cell_size=10)
    oracle.begin(None, [info(1, 1)])
    no = np.array([False])
    step = lambda xy, done=False, **extra: oracle.compute(
        None, None, None, np.array([done]), no, [info(*xy, **extra)])[0]
    assert step((5, 5)) == 0.0  # same cell as the spawn
    assert step((15, 5)) == pytest.approx(0.05)  # 30^2 / 900 = 1 -> alpha
    assert step((15, 8)) == 0.0
    assert step((1, 1)) == 0.0  # revisiting the spawn cell
    assert step((99, 99), done=True, agent_xy_reset=np.array([15.0, 5.0])) == 0.0  # done: no bonus
    assert step((1, 1)) == pytest.approx(0.05)  # new episode: the spawn cell is new again
    assert oracle.stats()["bonus_mean"] == pytest.approx(0.1 / 6)
