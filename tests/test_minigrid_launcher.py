"""The episodic-novelty methods on MiniGrid through the launcher: kill and resume, bad input."""

import csv

import pytest

from conftest import kill_after_checkpoints, run_launcher
from episodic_curiosity import checkpoint

TINY = ["--scenario=minigrid_multiroom_n2_s4", "--preset=tiny"]
TINY_BATCH, TINY_TOTAL = 4 * 64, 4096  # gin/presets/tiny.gin


def _episodes_in_first_update(run, killed_at):
    with open(run / "progress.csv", newline="") as f:
        return next(int(r["episodes"]) for r in csv.DictReader(f) if int(r["step"]) > killed_at)


def steps(path):
    with open(path, newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


# One method through the whole binary (RIDE: networks, optimizer and episodic counts in its
# state); every method's state round trip is exact in test_episodic_bonuses.py.
@pytest.mark.parametrize("method", ["ppo_plus_ride"])
def test_sigkill_then_rerun_resumes_with_the_bonus_state(tmp_path, method):
    run = tmp_path / method / "minigrid_multiroom_n2_s4" / "run_number_0"
    killed_at = kill_after_checkpoints([f"--method={method}", *TINY, f"--workdir={tmp_path}"],
                                       run)
    assert 0 < killed_at < TINY_TOTAL
    saved = checkpoint.load_latest(run / "checkpoints")["intrinsic_reward"]
    assert saved["model"]["embedding"] and saved["model"]["optimizer"]["state"]
    result = run_launcher(f"--method={method}", *TINY, f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    log = (run / "log.txt").read_text()
    assert f"resuming minigrid_multiroom_n2_s4 at step {killed_at}" in log
    # The return window was checkpointed: the first update after the resume averages over the
    # episodes before the kill as well, it does not start from none ("return n/a").
    after = log.split(f"resuming minigrid_multiroom_n2_s4 at step {killed_at}")[1]
    first = next(line for line in after.splitlines() if " | update " in line)
    window = int(first.split("(last ")[1].split()[0])
    assert "return n/a" not in first
    assert window > _episodes_in_first_update(run, killed_at), first
    assert steps(run / "progress.csv") == list(range(TINY_BATCH, TINY_TOTAL + 1, TINY_BATCH))
    with open(run / "progress.csv", newline="") as f:
        assert all(row["intrinsic_bonus_mean"] for row in csv.DictReader(f))


@pytest.mark.parametrize("args, needles", [
    (["--method=ppo_plus_ride", "--scenario=minigrid_multiroom_n99_s4"],
     ["minigrid_multiroom_n99_s4", "minigrid_multiroom_n7_s4"]),
    (["--method=ppo_plus_counts", "--scenario=doom_dense"], ["state_key", "doom_dense"]),
    (["--method=ppo_plus_ec", "--scenario=minigrid_multiroom_n2_s4"],
     ["pixel", "minigrid_multiroom_n2_s4_rgb"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needles):
    result = run_launcher(*args, f"--workdir={tmp_path}")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert not any(tmp_path.rglob("*.csv"))


def test_success_rate_is_logged_per_split(tmp_path):
    """Tasks with a goal write success_<split>.csv beside the reward CSVs, and progress.csv's
    `success` column: the share of episodes that reached the goal, rows at the reward rows'
    steps (the episode stats say which episodes succeeded: MiniGrid's reward > 0 at the end)."""
    result = run_launcher("--method=ppo", *TINY, f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ppo" / "minigrid_multiroom_n2_s4" / "run_number_0"
    for split in ("train", "valid", "test"):
        with open(run / f"success_{split}.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(0.0 <= float(r[f"success_{split}"]) <= 1.0 for r in rows)
        assert [r["step"] for r in rows] == [str(s) for s in steps(run / f"reward_{split}.csv")]
    with open(run / "progress.csv", newline="") as f:
        successes = [row["success"] for row in csv.DictReader(f) if row["episodes"] != "0"]
    assert successes and all(0.0 <= float(s) <= 1.0 for s in successes)
    # Episodes that reached the goal are exactly those with a positive return.
    with open(run / "reward_train.csv", newline="") as f:
        returns = [float(r["reward_train"]) for r in csv.DictReader(f)]
    with open(run / "success_train.csv", newline="") as f:
        rates = [float(r["success_train"]) for r in csv.DictReader(f)]
    assert all((rate > 0) == (ret > 0) for rate, ret in zip(rates, returns))


def test_rnd_trains_on_the_symbolic_view(tmp_path):
    """RND on MiniGrid's 7x7x3 view (RIDE's MiniGrid RND network) through the launcher."""
    result = run_launcher("--method=ppo_plus_rnd", *TINY, f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ppo_plus_rnd" / "minigrid_multiroom_n2_s4" / "run_number_0"
    with open(run / "progress.csv", newline="") as f:
        assert all(float(row["intrinsic_bonus_mean"]) > 0 for row in csv.DictReader(f))
