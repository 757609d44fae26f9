"""eval_policy on a trained checkpoint: per-episode CSV, the dataset round trip, videos."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from episodic_curiosity import checkpoint, envs
from episodic_curiosity.analysis import evaluate, policy as policy_lib, video
from episodic_curiosity.errors import UsageError
from policy_checkpoint import trained_run  # noqa: F401  (fixture)


def run_tool(*args):
    return subprocess.run([sys.executable, "-m", "episodic_curiosity.eval_policy", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=600)


def test_cli_writes_episodes_dataset_with_images_and_a_video(trained_run, tmp_path):  # noqa: F811
    out = tmp_path / "eval"
    result = run_tool(f"--policy_path={trained_run}", "--split=test", "--num_episodes=2",
                      "--max_steps=40", "--include_images", "--num_videos=1",
                      f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out / "episodes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["episode"]) for r in rows] == [0, 1]
    assert [int(r["level_seed"]) for r in rows] == [envs.level_seed(envs.Split.TEST, i)
                                                    for i in range(2)]
    assert [int(r["length"]) for r in rows] == [40, 40]
    data = evaluate.load_dataset(out / "dataset.npz")
    assert data["observation"].shape == (80, 84, 84, 3) and data["observation"].dtype == np.uint8
    assert data["observation"].std() > 5  # real frames, not zeros
    for key, shape in (("action", (80,)), ("reward", (80,)), ("episode", (80,)),
                       ("agent_xy", (80, 2))):
        assert data[key].shape == shape, key
    assert set(data["action"]) <= set(range(5))
    for i, row in enumerate(rows):
        mine = data["episode"] == i
        assert np.array_equal(data["step"][mine], np.arange(40))
        assert abs(float(row["return"]) - data["reward"][mine].sum()) < 1e-5
    frames = video.read_frames(out / "episode_0.mp4")
    assert frames.shape == (41, 336, 336, 3)  # the reset frame + 40 steps, 4x the 84x84 view


def test_dataset_round_trip_and_whole_episode_stats(trained_run, tmp_path):  # noqa: F811
    policy = policy_lib.load(trained_run)
    assert policy.meta["scenario"] == "doom_dense" and policy.step == 256
    result = evaluate.evaluate(policy, "doom_dense", envs.Split.VALIDATION, 1)
    (episode,) = result.episodes
    data = result.dataset
    assert "observation" not in data
    assert episode["length"] == len(data["action"]) <= 525
    assert abs(episode["return"] - float(data["reward"].sum())) < 1e-4
    assert episode["cells_visited"] >= 1
    assert data["terminated"][-1] or data["truncated"][-1]
    evaluate.save_dataset(tmp_path / "d.npz", data)
    back = evaluate.load_dataset(tmp_path / "d.npz")
    assert back.keys() == data.keys()
    for key in data:
        assert back[key].dtype == data[key].dtype and np.array_equal(back[key], data[key]), key


def test_a_scenario_with_other_actions_is_one_line(trained_run):  # noqa: F811
    result = run_tool(f"--policy_path={trained_run}", "--scenario=doom_basic")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith("error:") and "5 actions" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_tool(f"--policy_path={trained_run / 'nothing'}")
    assert result.returncode == 2 and "no policy checkpoint" in result.stderr, result.stderr


def test_a_checkpoint_train_policy_did_not_write_is_refused(tmp_path):
    checkpoint.save(tmp_path, 0, {"weights": []})
    with pytest.raises(UsageError, match="is not a policy checkpoint"):
        policy_lib.load(tmp_path)
    with pytest.raises(UsageError, match="no policy checkpoint at .*; pass --run_dir="):
        policy_lib.read(tmp_path / "nothing", "--run_dir")
