import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.envs import ant


@pytest.fixture(scope="module")
def make():
    made = []

    def _make(index, split=envs.Split.POLICY_TRAINING):
        made.append(envs.make_env("ant_noreward", split, index))
        return made[-1]
    yield _make
    for env in made:
        env.close()


def _rollout(env, actions):
    obs, info = env.reset()
    frames, positions, rewards = [obs], [info["agent_xy"]], []
    for a in actions:
        obs, reward, terminated, _, info = env.step(a)
        assert not terminated
        frames.append(obs)
        positions.append(info["agent_xy"])
        rewards.append(reward)
    return np.stack(frames), np.stack(positions), np.array(rewards)


def test_same_seed_same_episode_other_seed_other_episode(make):
    actions = np.random.default_rng(0).integers(0, len(ant.GAITS), 25)
    a = _rollout(make(0), actions)
    b = _rollout(make(0), actions)
    c = _rollout(make(1), actions)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.allclose(a[1][0], c[1][0])  # another spawn point
    assert np.abs(a[0][0].astype(int) - c[0][0].astype(int)).mean() > 5  # and another floor


def test_reward_is_the_oracles_and_the_time_limit_truncates(make):
    """No task reward: the env reports the original's Ant oracle, +1 per new 5-unit cell."""
    env = make(2)
    actions = np.random.default_rng(1).integers(0, len(ant.GAITS), 250)
    _, _, rewards = _rollout(env, actions[:-1])
    assert set(np.unique(rewards)) <= {0.0, 1.0} and rewards.sum() >= 1
    _, reward, terminated, truncated, info = env.step(actions[-1])
    assert not terminated and truncated
    assert info["episode"]["length"] == 250
    assert info["episode"]["return"] == rewards.sum() + reward == info["episode"]["cells_visited"]


def test_turning_changes_the_view(make):
    env = make(3)
    obs, _ = env.reset()
    turned, _, _, _, _ = env.step(ant.GAITS.index(next(g for g in ant.GAITS
                                                       if g[0] == "turn_left")))
    assert np.abs(turned.astype(int) - obs.astype(int)).mean() > 5


@pytest.mark.parametrize("gait", ["forward", "backward", "strafe_left", "strafe_right"])
def test_a_repeated_gait_moves_the_torso(make, gait):
    env = make(4)
    _, positions, _ = _rollout(env, [[g[0] for g in ant.GAITS].index(gait)] * 20)
    assert np.linalg.norm(positions[-1] - positions[0]) > 0.75  # 4 s of walking: >= 0.75 m


def test_a_random_policy_visits_many_cells(make):
    env = make(5)
    _, positions, _ = _rollout(env, np.random.default_rng(2).integers(0, len(ant.GAITS), 250))
    *_, info = env.step(0)
    assert len({tuple(c) for c in np.floor(positions / 0.5).astype(int)}) >= 20  # it goes places
    assert info["episode"]["cells_visited"] >= 2  # and across the oracle's 5-unit cells
