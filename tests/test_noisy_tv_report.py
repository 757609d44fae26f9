"""noisy_tv_report reads every method's run through the one policy reader (analysis.policy)."""

import subprocess
import sys

import torch

from conftest import REPO
from episodic_curiosity import checkpoint, envs
from episodic_curiosity.agents import networks
from episodic_curiosity.workdir import RunDir, run_path

NOISY = "minigrid_multiroom_noisytv_n7_s4"


def _run(workdir, method, trained: bool):
    run = RunDir(run_path(workdir, method, NOISY, 0))
    run.create()
    if trained:
        spec = envs.get(NOISY)
        network = networks.ActorCritic(spec.obs_shape(), spec.num_actions)
        checkpoint.save(run.checkpoints, 128, {"network": network.state_dict(), "meta": {
            "scenario": NOISY, "obs_shape": list(spec.obs_shape()),
            "num_actions": spec.num_actions}})


def report(*args):
    return subprocess.run([sys.executable, "-m", "episodic_curiosity.noisy_tv_report", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_a_row_per_trained_run_and_none_for_a_run_without_a_checkpoint(tmp_path):
    torch.manual_seed(0)
    _run(tmp_path, "ppo", trained=True)
    _run(tmp_path, "ppo_plus_rnd", trained=True)
    _run(tmp_path, "ppo_plus_ec", trained=False)  # started, nothing checkpointed yet
    result = report(f"--workdir={tmp_path}", f"--scenario={NOISY}", "--episodes=2")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines()[1:-1]]
    assert [row[0] for row in rows] == ["ppo", "ppo_plus_rnd"]
    assert all(row[1] == "128" for row in rows)


def test_no_trained_run_is_one_line(tmp_path):
    _run(tmp_path, "ppo", trained=False)
    result = report(f"--workdir={tmp_path}", f"--scenario={NOISY}", "--episodes=1")
    assert result.returncode == 2 and result.stderr.strip().startswith("error:"), result.stderr
    assert f"no trained run of {NOISY} under {tmp_path}" in result.stderr
