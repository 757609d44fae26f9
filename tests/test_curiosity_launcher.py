"""ppo_plus_ec / ppo_plus_eco / ppo_plus_grid_oracle through the launcher, as a user runs them."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import torch

from conftest import REPO, run_launcher
from episodic_curiosity import checkpoint
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import save_rnet
from test_launcher import assert_one_line_error, steps

SHORT = ["--gin_bindings=train_policy.total_steps = 1024"]


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_ppo_plus_ec_runs_three_stages_then_skips_them(tmp_path):
    args = ["--method=ppo_plus_ec", "--scenario=doom_dense", "--preset=tiny",
            f"--workdir={tmp_path}"]
    result = run_launcher(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ppo_plus_ec" / "doom_dense" / "run_number_0"
    assert (run / "r_training_data" / "DONE").is_file()
    assert list((run / "r_training_data" / "train").glob("shard_*.lengths.npy"))
    assert list((run / "r_training_data" / "valid").glob("shard_*.lengths.npy"))
    assert [r["epoch"] for r in rows(run / "r_networks" / "r_training.csv")] == ["1", "2"]
    assert (run / "r_networks" / "r_network.pt").is_file()
    # The report card, and its verdict printed before the policy stage.
    card = json.loads((run / "r_networks" / "report.json").read_text())
    assert (run / "r_networks" / "report.md").is_file()
    assert (run / "r_networks" / "report.png").stat().st_size > 0
    assert [r["gap"] for r in card["gap_table"]][:3] == ["1-5", "6-25", "26-100"]
    assert all(math.isfinite(r["p_reachable"]) for r in card["gap_table"] if r["pairs"])
    for agent in ("couch_potato", "random", "explorer"):
        assert math.isfinite(card["agents"][agent]["bonus_mean"])
        assert card["agents"][agent]["memory_final"] >= 1
    assert f"R-network report card ({run / 'r_networks'}/report.md): {card['verdict']}" \
        in result.stdout
    progress = rows(run / "progress.csv")
    assert all(r["intrinsic_bonus_mean"] != "" for r in progress)
    assert all(0 < float(r["intrinsic_memory_fill"]) <= 1 for r in progress)
    rerun = run_launcher(*args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "R-network data already generated" in rerun.stderr
    assert "R-network already trained" in rerun.stderr

    # A trained R-network elsewhere replaces the first two stages.
    other = tmp_path / "other"
    result = run_launcher("--method=ppo_plus_ec", "--scenario=doom_dense", "--preset=tiny",
                          f"--workdir={other}", f"--r_networks_path={run / 'r_networks'}", *SHORT)
    assert result.returncode == 0, result.stderr[-3000:]
    other_run = other / "ppo_plus_ec" / "doom_dense" / "run_number_0"
    assert not (other_run / "r_training_data").exists()
    assert steps(other_run / "progress.csv")[-1] == 1024
    assert card["verdict"] in result.stdout

    # On demand: the report binary rewrites the card and prints the verdict.
    on_demand = subprocess.run(
        [sys.executable, "-m", "episodic_curiosity.rnet.report",
         f"--r_networks_path={run / 'r_networks'}", "--gin_bindings=write_report.agent_steps = 8",
         "--gin_bindings=write_report.pairs_per_bin = 8"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert on_demand.returncode == 0, on_demand.stderr[-2000:]
    assert on_demand.stdout.startswith(("PASS", "FAIL"))
    # write_report.levels defaults to 3 VALIDATION levels, pooled: 3 x 8 steps.
    assert json.loads((run / "r_networks" / "report.json").read_text())["agents"]["random"][
        "steps"] == 3 * 8


def test_missing_r_networks_path_is_one_line(tmp_path):
    result = run_launcher("--method=ppo_plus_ec", "--scenario=doom_dense", "--preset=tiny",
                          f"--workdir={tmp_path / 'w'}", f"--r_networks_path={tmp_path / 'none'}")
    assert_one_line_error(result, "no R-network", "--r_networks_path")
    assert not (tmp_path / "w").exists()


def test_r_network_of_the_wrong_shape_is_one_line(tmp_path):
    save_rnet(tmp_path / "r_network.pt", RNetwork(width=8))
    state = torch.load(tmp_path / "r_network.pt", weights_only=False)
    state["config"]["embedding_size"] = 256
    torch.save(state, tmp_path / "r_network.pt")
    result = run_launcher("--method=ppo_plus_ec", "--scenario=doom_dense", "--preset=tiny",
                          f"--workdir={tmp_path / 'w'}", f"--r_networks_path={tmp_path}")
    assert_one_line_error(result, "cannot be loaded")


def test_train_r_on_empty_data_is_one_line(tmp_path):
    (tmp_path / "data" / "train").mkdir(parents=True)
    result = subprocess.run([sys.executable, "-m", "episodic_curiosity.train_r",
                             f"--r_training_data={tmp_path / 'data'}",
                             f"--output_dir={tmp_path / 'out'}"], capture_output=True, text=True)
    assert_one_line_error(result, "no R-network training data")


def test_grid_oracle_bonus_is_logged(tmp_path):
    result = run_launcher("--method=ppo_plus_grid_oracle", "--scenario=doom_dense",
                          "--preset=tiny", f"--workdir={tmp_path}", *SHORT)
    assert result.returncode == 0, result.stderr[-3000:]
    progress = rows(tmp_path / "ppo_plus_grid_oracle" / "doom_dense" / "run_number_0" /
                    "progress.csv")
    assert max(float(r["intrinsic_bonus_mean"]) for r in progress) > 0
    assert max(float(r["intrinsic_episode_cells"]) for r in progress) > 1


def test_eco_killed_after_training_resumes_with_its_r_network(tmp_path):
    run = tmp_path / "ppo_plus_eco" / "doom_dense" / "run_number_0"
    args = [sys.executable, str(REPO / "scripts" / "launcher_script.py"), "--method=ppo_plus_eco",
            "--scenario=doom_dense", "--preset=tiny", f"--workdir={tmp_path}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    # Smoke: the R-network trains every 256 vector steps (after update 4); checkpoints every 2.
    while time.time() < deadline and (checkpoint.list_steps(run / "checkpoints") or [0])[-1] < 1536:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole run, env workers and engines too
    proc.wait()
    killed_at = checkpoint.list_steps(run / "checkpoints")[-1]
    saved = checkpoint.load_latest(run / "checkpoints")["intrinsic_reward"]
    assert saved["trainings"] >= 1
    result = run_launcher("--method=ppo_plus_eco", "--scenario=doom_dense", "--preset=tiny",
                          f"--workdir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    progress = rows(run / "progress.csv")
    assert [int(r["step"]) for r in progress] == list(range(256, 4097, 256))
    after = [r for r in progress if int(r["step"]) > killed_at]
    # Restored, not retrained from scratch: the count continues and the bonus never drops to zero.
    assert int(float(after[0]["intrinsic_rnet_trainings"])) >= saved["trainings"]
    assert all(float(r["intrinsic_bonus_mean"]) != 0 for r in after)
