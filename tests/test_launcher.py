"""The launcher as a user runs it: run directory, CSVs, kill-and-resume, bad input."""

import csv
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import REPO, kill_after_checkpoints, run_launcher
from episodic_curiosity import checkpoint
from episodic_curiosity.errors import UsageError
from episodic_curiosity.workdir import DirectoryLock

SMOKE = ["--method=ppo", "--scenario=doom_dense", "--preset=tiny"]
SMOKE_BATCH, SMOKE_TOTAL = 4 * 64, 4096


def steps(path):
    with open(path, newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_smoke_run_writes_the_run_directory(tmp_path):
    result = run_launcher(*SMOKE, f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ppo" / "doom_dense" / "run_number_0"
    for name in ("reward_train.csv", "reward_valid.csv", "reward_test.csv", "progress.csv",
                 "log.txt", "config.gin", "operative_config.gin"):
        assert (run / name).is_file(), name
    assert steps(run / "progress.csv") == list(range(SMOKE_BATCH, SMOKE_TOTAL + 1, SMOKE_BATCH))
    for split in ("train", "valid", "test"):
        split_steps = steps(run / f"reward_{split}.csv")
        assert split_steps and split_steps == sorted(set(split_steps)), split
    assert steps(run / "reward_valid.csv") == [0, 1024, 2048, 3072, 4096]
    assert checkpoint.list_steps(run / "checkpoints")[-1] == SMOKE_TOTAL
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert "steps/s" in result.stderr and "ETA" in result.stderr
    # A finished run rerun is a no-op that keeps its CSVs, said before any env worker starts.
    before = snapshot(run)
    rerun = run_launcher(*SMOKE, f"--workdir={tmp_path}")
    assert rerun.returncode == 0
    assert f"{run} is done: step {SMOKE_TOTAL} of {SMOKE_TOTAL} trained" in rerun.stdout
    assert steps(run / "progress.csv") == steps_before(before)
    assert snapshot(run) == before


def steps_before(snap):
    lines = snap[next(k for k in snap if str(k) == "progress.csv")].decode().splitlines()[1:]
    return [int(line.split(",")[0]) for line in lines]


def test_sigkill_after_a_checkpoint_then_rerun_resumes_without_duplicates(tmp_path):
    run = tmp_path / "ppo" / "doom_dense" / "run_number_0"
    # linger: let it write rows past the checkpoint, which the resume must cut
    killed_at = kill_after_checkpoints([*SMOKE, f"--workdir={tmp_path}"], run, linger=1.0,
                                       poll=0.2)
    assert 0 < killed_at < SMOKE_TOTAL
    result = run_launcher(*SMOKE, f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming doom_dense at step {killed_at}" in (run / "log.txt").read_text()
    assert steps(run / "progress.csv") == list(range(SMOKE_BATCH, SMOKE_TOTAL + 1, SMOKE_BATCH))
    for split in ("train", "valid", "test"):
        split_steps = steps(run / f"reward_{split}.csv")
        assert split_steps == sorted(set(split_steps)), split
    assert steps(run / "reward_valid.csv") == [0, 1024, 2048, 3072, 4096]


def assert_one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("args, needles", [
    (["--method=ppo_plus_nope", "--scenario=doom_dense"], ["ppo_plus_nope", "ppo_plus_ec"]),
    (["--method=ppo", "--scenario=atlantis"], ["atlantis", "doom_dense"]),
    (["--method=ppo", "--gin_bindings=PPOConfig.learning_rate = = 3"], ["gin"]),
    (["--method=ppo", "--gin_bindings=NoSuchThing.x = 3"], ["NoSuchThing"]),
    # An unknown parameter names the nearest valid one (tests/test_configuration.py: more).
    (["--method=ppo", "--gin_bindings=train_policy.num_envs = 0"],
     ["train_policy", "num_envs", "did you mean PPOConfig.num_envs"]),
    (["--method=ppo", "--preset=huge"], ["huge", "smoke"]),
    (["--method=ppo", "--no_such_flag=1"], ["no_such_flag"]),
    # Numeric gin parameters: checked before the run directory exists.
    (["--method=ppo", "--gin_bindings=PPOConfig.num_envs = 0"], ["PPOConfig.num_envs = 0", ">= 1"]),
    (["--method=ppo_plus_ec", "--gin_bindings=generate.valid_fraction = 0.0"],
     ["generate.valid_fraction"]),
    (["--method=ppo", "--run_number=99999"], ["--run_number", "99999"]),
])  # every numeric rule, in-process: tests/test_validation.py
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, needles):
    assert_one_line_error(run_launcher(*args, f"--workdir={tmp_path}"), *needles)
    assert not any(tmp_path.iterdir())


def test_unwritable_workdir(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert_one_line_error(run_launcher(*SMOKE, f"--workdir={blocker}/runs"), "workdir")


def _prepared_run(tmp_path):
    run = tmp_path / "ppo" / "doom_dense" / "run_number_0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "reward_train.csv").write_text("step,reward_train,timestamp_s\n256,0.5,1.0\n")
    return run


def test_corrupt_checkpoint_is_reported_and_nothing_is_overwritten(tmp_path):
    run = _prepared_run(tmp_path)
    (run / "checkpoints" / "ckpt_000000000256.pt").write_bytes(b"\x80\x02garbage")
    before = snapshot(tmp_path)
    assert_one_line_error(run_launcher(*SMOKE, f"--workdir={tmp_path}"), "corrupt",
                          "ckpt_000000000256.pt")
    assert snapshot(tmp_path) == before


def _refused_checkpoint(tmp_path, network, meta, *needles):
    run = _prepared_run(tmp_path)
    checkpoint.save(run / "checkpoints", 256, {
        "update": 1, "network": network, "optimizer": {}, "rng": checkpoint.rng_state(),
        "meta": meta})
    before = snapshot(tmp_path)
    assert_one_line_error(run_launcher(*SMOKE, f"--workdir={tmp_path}"), *needles)
    assert snapshot(tmp_path) == before


def test_checkpoint_of_another_scenario_is_refused(tmp_path):
    _refused_checkpoint(tmp_path, {}, {"scenario": "doom_basic", "obs_shape": [84, 84, 3],
                                       "num_actions": 3}, "doom_basic",
                        "rerun with the --method and --scenario it was written for")


def test_checkpoint_of_another_method_is_refused(tmp_path):
    # An EC run's checkpoint resumed as plain PPO: same network, another intrinsic reward.
    _refused_checkpoint(tmp_path, {}, {"scenario": "doom_dense", "obs_shape": [84, 84, 3],
                                       "num_actions": 5, "intrinsic_reward": "EpisodicCuriosity"},
                        "EpisodicCuriosity", "--method")


def test_checkpoint_with_wrong_weights_is_refused(tmp_path):
    _refused_checkpoint(tmp_path, {"policy.weight": torch.zeros(2, 2)},
                        {"scenario": "doom_dense", "obs_shape": [84, 84, 3], "num_actions": 5},
                        "does not fit")


def test_progress_csv_of_a_newer_version_is_refused_and_nothing_is_touched(tmp_path):
    # Columns this version does not write (an older package on a newer run): values would be lost.
    run = _prepared_run(tmp_path)
    (run / "progress.csv").write_text("step,update,column_from_the_future\n256,1,3\n")
    before = snapshot(tmp_path)
    assert_one_line_error(run_launcher(*SMOKE, f"--workdir={tmp_path}"), "progress.csv",
                          "column_from_the_future")
    assert snapshot(tmp_path) == before


def test_numeric_error_on_an_existing_run_touches_nothing(tmp_path):
    _prepared_run(tmp_path)
    before = snapshot(tmp_path)
    assert_one_line_error(run_launcher(*SMOKE, f"--workdir={tmp_path}",
                                       "--gin_bindings=PPOConfig.num_envs = 0"), "num_envs")
    assert snapshot(tmp_path) == before


def _wait_for(predicate, what, proc=None, timeout=900):
    deadline = time.time() + timeout  # a hang guard only
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        assert proc is None or proc.poll() is None, f"launcher exited while waiting for {what}"
        time.sleep(0.1)


def test_second_launcher_on_a_run_directory_is_refused_and_the_first_keeps_all_rows(tmp_path):
    basic = ["--method=ppo", "--scenario=doom_basic", "--preset=smoke",
             "--gin_bindings=train_policy.total_steps = 1024"]
    run = tmp_path / "ppo" / "doom_basic" / "run_number_0"
    first = subprocess.Popen([sys.executable, str(REPO / "scripts" / "launcher_script.py"), *basic,
                              f"--workdir={tmp_path}"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        lock = run / ".lock"
        _wait_for(lambda: lock.is_file() and lock.read_text().strip() == str(first.pid),
                  "the first launcher's lock", first)
        # Frozen while the second one tries: the first certainly holds the lock throughout.
        os.kill(first.pid, signal.SIGSTOP)
        before = snapshot(run)
        second = run_launcher(*basic, f"--workdir={tmp_path}")
        assert_one_line_error(second, "in use by process", str(first.pid))
        assert snapshot(run) == before  # the refused launcher touched nothing
    finally:
        os.kill(first.pid, signal.SIGCONT)
    _, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stderr[-3000:]
    assert steps(run / "progress.csv") == list(range(SMOKE_BATCH, 1024 + 1, SMOKE_BATCH))
    assert (run / "log.txt").read_text().count("starting doom_basic") == 1
    assert len(list((run / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert not (run / ".lock").exists()  # let go at the end


def test_a_sigkilled_holder_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from episodic_curiosity.workdir import "
         "DirectoryLock; DirectoryLock(sys.argv[1]).acquire(); print('held', flush=True); "
         "time.sleep(600)", str(tmp_path)], stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(UsageError, match=f"in use by process {holder.pid}"):
        DirectoryLock(tmp_path).acquire()
    holder.kill()  # SIGKILL: no cleanup runs, the lock file stays behind
    holder.wait()
    assert (tmp_path / ".lock").exists()
    with DirectoryLock(tmp_path) as lock:  # free at once: the kernel dropped the flock
        assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
        assert lock.path.exists()
    assert not (tmp_path / ".lock").exists()


def test_a_total_that_is_not_a_whole_number_of_updates_is_said_in_the_log(caplog):
    """20000 asked with batches of 4 x 64 trains 79 updates = 20224 steps: the run says so
    (log.txt gets absl's lines) instead of silently passing the asked step."""
    import logging
    from absl import logging as absl_logging
    from episodic_curiosity.agents import trainer
    caplog.set_level(logging.INFO)
    # Restored as it was (unset), not as a verbosity: set_verbosity(get_verbosity()) would pin
    # absl's logger at WARNING and silence later tests' INFO lines (test_progress).
    absl_logger = absl_logging.get_absl_logger()
    level = absl_logger.level
    absl_logging.set_verbosity(absl_logging.INFO)  # as the binaries run (absl's default: WARNING)
    try:
        assert trainer._num_updates(20_000, SMOKE_BATCH) == 79
        (record,) = [r for r in caplog.records if "not a multiple" in r.getMessage()]
        assert "20000" in record.getMessage()
        assert "20224 steps, 79 whole updates" in record.getMessage()
        caplog.clear()
        assert trainer._num_updates(20_224, SMOKE_BATCH) == 79
        assert not [r for r in caplog.records if "not a multiple" in r.getMessage()]
    finally:
        absl_logger.setLevel(level)


@pytest.mark.parametrize("binary, args", [
    ("generate_r_training_data", ["--scenario=doom_basic"]),
    ("train_r", ["--r_training_data=/nonexistent"])])
def test_r_network_stages_refuse_an_output_dir_in_use(tmp_path, binary, args):
    """generate_r_training_data and train_r lock --output_dir as the launcher locks its run
    directory: a second writer would interleave shards or overwrite the network."""
    out = tmp_path / "out"
    with DirectoryLock(out):
        before = snapshot(out)
        result = subprocess.run([sys.executable, "-m", f"episodic_curiosity.{binary}", *args,
                                 f"--output_dir={out}", "--gin_bindings=generate.total_steps = 64",
                                 "--gin_bindings=train_r.epochs = 1"],
                                capture_output=True, text=True, cwd=REPO, timeout=300)
        assert_one_line_error(result, "in use by process", str(os.getpid()))
        assert snapshot(out) == before
