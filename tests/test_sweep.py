"""launcher_script.py --sweep: three tiny smoke jobs through Ray with fake GPU resources."""

import time

from conftest import run_launcher
from test_launcher import assert_one_line_error, steps

TINY = ["--preset=tiny", "--gin_bindings=train_policy.total_steps = 512",
        "--gin_bindings=train_policy.eval_every_updates = 2"]


def test_sweep_runs_three_jobs_one_fake_gpu_each(tmp_path):
    start = time.time()
    result = run_launcher("--sweep=methods=ppo;scenarios=doom_basic;runs=3", f"--workdir={tmp_path}",
                          "--sweep_num_gpus=3", "--sweep_num_cpus=3", *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = sorted(result.stdout.strip().splitlines())
    assert [line.split(" gpus=")[0] for line in lines] == [
        f"ppo doom_basic run {r}" for r in range(3)]
    assert all(line.endswith(": ok") for line in lines), lines
    assert sorted(line.split("gpus=[")[1][0] for line in lines) == ["0", "1", "2"]
    for r in range(3):
        assert steps(tmp_path / "ppo" / "doom_basic" / f"run_number_{r}" / "progress.csv") == [
            256, 512]
    print(f"sweep of 3 jobs: {time.time() - start:.1f} s")


def test_a_failing_job_is_reported_with_its_own_line(tmp_path):
    result = run_launcher("--sweep=methods=ppo;scenarios=doom_basic;runs=1", f"--workdir={tmp_path}",
                          "--sweep_num_gpus=1", "--sweep_num_cpus=1", "--preset=tiny",
                          "--gin_bindings=NoSuchThing.x = 3")
    assert result.returncode == 1
    assert "ppo doom_basic run 0 gpus=[0]: failed (2): error:" in result.stdout
    assert "NoSuchThing" in result.stdout


def test_bad_sweep_spec_is_one_line(tmp_path):
    assert_one_line_error(run_launcher("--sweep=methods=ppo;runs=3", f"--workdir={tmp_path}"),
                          "scenarios=")
    assert_one_line_error(run_launcher("--sweep=methods=nope;scenarios=doom_basic;runs=1",
                                       f"--workdir={tmp_path}"), "nope")
