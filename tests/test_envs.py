import subprocess
import sys

import cv2
import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.errors import UsageError


def test_split_seeds_are_disjoint():
    seeds = {split: {envs.level_seed(split, i) for i in range(1000)} for split in envs.Split}
    for a in envs.Split:
        for b in envs.Split:
            if a != b:
                assert not seeds[a] & seeds[b]


def test_unknown_scenario_names_the_choices():
    with pytest.raises(UsageError, match="doom_dense"):
        envs.get("doom_nope")


@pytest.mark.parametrize("scenario", envs.names(available_only=True))
def test_reset_step_shapes_and_position(scenario):
    env = envs.make_env(scenario, envs.Split.POLICY_TRAINING, 0)
    obs, info = env.reset()
    shape = envs.get(scenario).obs_shape()  # 84x84x3, or MiniGrid's symbolic 7x7x3
    assert obs.shape == shape and obs.dtype == np.uint8
    assert obs.std() > (0.5 if envs.get(scenario).symbolic else 5)  # not a blank view
    assert info["agent_xy"].shape == (2,)
    obs2, reward, terminated, truncated, info = env.step(0)
    assert obs2.shape == shape and np.isfinite(reward)
    assert env.action_space.n == envs.get(scenario).num_actions
    env.close()


@pytest.mark.parametrize("scenario", [n for n in envs.names(available_only=True)
                                      if not envs.get(n).symbolic])  # EC refuses symbolic views
def test_the_r_networks_raw_view_has_the_declared_raw_shape(scenario):
    """EC's R-network is built for Scenario.raw_shape and trained on info["raw_obs"]: they must
    agree (Atari declared DMLab's 120x160x3 and EC refused its own R-network)."""
    env = envs.make_env(scenario, envs.Split.POLICY_TRAINING, 0, keep_raw_obs=True)
    _, info = env.reset()
    env.close()
    assert info["raw_obs"].shape == tuple(envs.get(scenario).raw_shape)


def _rollout(env, actions):
    obs, info = env.reset()
    frames, positions = [obs], [info["agent_xy"]]
    for a in actions:
        obs, _, _, _, info = env.step(a)
        frames.append(obs)
        positions.append(info["agent_xy"])
    return np.stack(frames), np.stack(positions)


def test_same_seed_same_episode_other_split_other_spawn():
    actions = np.random.default_rng(0).integers(0, 5, 30)
    runs = {}
    for key, split, index in [("a", envs.Split.POLICY_TRAINING, 0),
                              ("b", envs.Split.POLICY_TRAINING, 0),
                              ("c", envs.Split.TEST, 0)]:
        env = envs.make_env("doom_dense", split, index)
        runs[key] = _rollout(env, actions)
        env.close()
    assert np.array_equal(runs["a"][0], runs["b"][0])
    assert np.array_equal(runs["a"][1], runs["b"][1])
    assert not np.array_equal(runs["a"][1][0], runs["c"][1][0])  # different spawn point


def test_turning_changes_the_view_and_walking_moves_the_agent():
    env = envs.make_env("doom_dense", envs.Split.POLICY_TRAINING, 3)
    obs, info = env.reset()
    turned, _, _, _, _ = env.step(0)  # TURN_LEFT
    assert np.abs(turned.astype(int) - obs.astype(int)).mean() > 1
    start = info["agent_xy"]
    for _ in range(5):
        _, _, _, _, info = env.step(2)  # MOVE_FORWARD
    assert np.linalg.norm(info["agent_xy"] - start) > 10
    env.close()


def test_episode_statistics_and_same_step_reset():
    factories = envs.env_factories("doom_basic", envs.Split.POLICY_TRAINING, range(2))
    with envs.VecEnv(factories, num_workers=0) as vec:
        vec.reset()
        episodes = []
        for _ in range(80):  # basic times out after 75 steps
            obs, _, terminated, truncated, infos = vec.step(np.zeros(2, int))
            for done, info in zip(terminated | truncated, infos):
                if done:
                    assert "final_obs" in info and "episode" in info
                    episodes.append(info["episode"])
        assert len(episodes) == 2
        assert episodes[0]["length"] == 75 and episodes[0]["cells_visited"] >= 1
        assert episodes[0]["return"] < -250  # -1 per tic, 300 tics, no kill while strafing left


def test_subprocess_workers_match_in_process_stepping():
    factories = envs.env_factories("doom_dense", envs.Split.VALIDATION, range(3))
    actions = np.random.default_rng(1).integers(0, 5, (20, 3))
    results = []
    for workers in (0, 2):
        with envs.VecEnv(factories, num_workers=workers) as vec:
            frames = [vec.reset()[0]]
            frames += [vec.step(a)[0] for a in actions]
            results.append(np.stack(frames))
    assert results[0].shape == (21, 3, 84, 84, 3)
    assert np.array_equal(results[0], results[1])


@pytest.mark.parametrize("scenario,start", [("doom_sparse", envs.registry.DOOM_SPARSE_START),
                                            ("doom_verysparse",
                                             envs.registry.DOOM_VERYSPARSE_START)])
def test_sparse_doom_variants_start_in_their_fixed_room(scenario, start):
    for split in (envs.Split.POLICY_TRAINING, envs.Split.TEST):
        env = envs.make_env(scenario, split, 2)
        for _ in range(2):
            _, info = env.reset()
            assert np.allclose(info["agent_xy"], start, atol=2)
        env.close()


def test_distance_travelled_is_the_farthest_point_from_the_start():
    env = envs.make_env("doom_dense", envs.Split.POLICY_TRAINING, 3)
    _, info = env.reset()
    start, farthest = info["agent_xy"], 0.0
    for t in range(525):
        _, _, terminated, truncated, info = env.step(2 if t % 20 else 0)
        farthest = max(farthest, float(np.linalg.norm(info["agent_xy"] - start)))
        if terminated or truncated:
            break
    assert info["episode"]["distance_travelled"] == pytest.approx(farthest, rel=1e-5)
    assert farthest > 50
    env.close()


def test_list_and_gallery(tmp_path):
    listing = subprocess.run([sys.executable, "-m", "episodic_curiosity.envs", "--list"],
                             capture_output=True, text=True, check=True).stdout
    for name in envs.registry.names():
        assert any(line.split()[0] == name for line in listing.splitlines()[1:])
    out = tmp_path / "gallery.png"
    subprocess.run([sys.executable, "-m", "episodic_curiosity.envs", "--gallery", str(out),
                    "--scenarios=doom_dense,sparse"], check=True, capture_output=True)
    image = cv2.imread(str(out))
    assert image.shape[1] == 6 * 168 and image.std() > 20  # two scenarios, the maze with its map
    bad = subprocess.run([sys.executable, "-m", "episodic_curiosity.envs", "--gallery",
                          str(out), "--scenarios=nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
