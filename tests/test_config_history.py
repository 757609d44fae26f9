"""A run remembers its configuration: a resume with another one is refused (one line, exit 2,
nothing written) unless --accept_config_change, which appends the change to the run's
config_history.jsonl; length, cadences, device and threads may change freely."""

import datetime
import shutil
import subprocess
import sys

import gin
import pytest

from conftest import run_launcher
from episodic_curiosity import configuration, run_config
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import local
from episodic_curiosity.workdir import RunDir
from test_launcher import assert_one_line_error, snapshot, steps

SCENARIO = "minigrid_multiroom_n2_s4"
# Env workers in the launcher's process (settings a resume may change): a call takes seconds.
ARGS = ["--method=ppo", f"--scenario={SCENARIO}", "--preset=tiny",
        "--gin_bindings=train_policy.num_workers = 0",
        "--gin_bindings=train_policy.eval_workers = 0"]
TOTAL = "--gin_bindings=train_policy.total_steps = 512"  # 2 updates, checkpointed at the second
LONGER = "--gin_bindings=train_policy.total_steps = 1024"
LR = "--gin_bindings=PPOConfig.learning_rate = 0.01"
ACCEPT = "--accept_config_change"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished 512-step run, trained once for the module."""
    root = tmp_path_factory.mktemp("finished")
    result = run_launcher(*ARGS, TOTAL, f"--workdir={root}")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.fixture
def workdir(finished, tmp_path):
    """A copy of the finished run's workdir; its run directory is run_dir(workdir)."""
    shutil.copytree(finished, tmp_path, dirs_exist_ok=True)
    return tmp_path


def run_dir(workdir):
    return RunDir(workdir / "ppo" / SCENARIO / "run_number_0")


def test_a_changed_learning_rate_is_refused_and_nothing_is_written(workdir):
    before = snapshot(workdir)
    result = run_launcher(*ARGS, TOTAL, LR, "--gin_bindings=PPOConfig.ent_coef = 0.5",
                          f"--workdir={workdir}")
    assert_one_line_error(result, "was trained with another configuration",
                          "PPOConfig.learning_rate 0.001 -> 0.01", "PPOConfig.ent_coef", ACCEPT,
                          "--run_number or --workdir")
    assert "total_steps" not in result.stderr
    assert snapshot(workdir) == before


def test_a_longer_run_resumes_and_keeps_its_first_configuration(workdir):
    run = run_dir(workdir)
    config, operative = run.gin_config.read_bytes(), run.operative_gin_config.read_bytes()
    result = run_launcher(*ARGS, LONGER, f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert steps(run.progress_csv) == [256, 512, 768, 1024]
    assert run.gin_config.read_bytes() == config
    assert run.operative_gin_config.read_bytes() == operative
    [entry] = run_config.history(run)
    assert entry["changed"] == {"train_policy.total_steps": ["512", "1024"]}
    assert entry["step"] == 512 and not entry["accepted"]


def test_the_accept_flag_appends_the_change_and_resumes_with_it(workdir):
    run = run_dir(workdir)
    config, operative = run.gin_config.read_bytes(), run.operative_gin_config.read_bytes()
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    result = run_launcher(*ARGS, LONGER, LR, ACCEPT, f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert steps(run.progress_csv) == [256, 512, 768, 1024]
    [entry] = run_config.history(run)
    assert entry["changed"] == {"PPOConfig.learning_rate": ["0.001", "0.01"],
                                "train_policy.total_steps": ["512", "1024"]}
    assert entry["accepted"] and entry["step"] == 512
    assert datetime.datetime.fromisoformat(entry["time"]) >= start  # dated, UTC
    # The first records stay: config.gin, and the operative configuration of the first segment.
    assert run.gin_config.read_bytes() == config
    assert run.operative_gin_config.read_bytes() == operative
    # The run's configuration is now the accepted one: the same again (spelled otherwise)
    # resumes, the first one is the change now.
    assert run_launcher(*ARGS, LONGER, "--gin_bindings=PPOConfig.learning_rate = 1e-2",
                        f"--workdir={workdir}").returncode == 0
    assert len(run_config.history(run)) == 1
    assert_one_line_error(run_launcher(*ARGS, LONGER, f"--workdir={workdir}"),
                          "PPOConfig.learning_rate 0.01 -> 0.001")


def test_train_policy_takes_the_flag_too(workdir):
    run = run_dir(workdir)
    cmd = [sys.executable, "-m", "episodic_curiosity.train_policy", f"--workdir={run.path}",
           f"--gin_config={run.gin_config}", LR, LONGER]  # longer: a finished run only says so
    assert_one_line_error(subprocess.run(cmd, capture_output=True, text=True),
                          "PPOConfig.learning_rate", ACCEPT)
    result = subprocess.run([*cmd, ACCEPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert run_config.history(run)[0]["accepted"]


def test_a_run_directory_from_before_config_gin_resumes(workdir):
    run = run_dir(workdir)
    run.gin_config.unlink()
    result = run_launcher(*ARGS, LONGER, LR, f"--workdir={workdir}")  # a finished run writes nothing
    assert result.returncode == 0, result.stderr[-3000:]
    assert steps(run.progress_csv) == [256, 512, 768, 1024]
    assert "PPOConfig.learning_rate = 0.01" in run.gin_config.read_text()
    assert not run.config_history.exists()


# -- the comparison itself, in-process ---------------------------------------------------------

def _configured(*bindings):
    local.configure("ppo", SCENARIO, "/tmp/unused", 0, "tiny", bindings)
    return gin.config_str()


def test_comments_order_spelling_and_spelled_out_defaults_do_not_count():
    configuration.register_configurables()
    text = ("PPOConfig.learning_rate = 2.5e-4\n"
            "train_policy.intrinsic_reward = @RND\n"
            "PPOConfig.num_envs = 8\n")
    other = ("# a comment\n"
             "PPOConfig.num_envs = 8  # reordered\n"
             "ppo.PPOConfig.learning_rate = 0.00025\n"
             "PPOConfig.adam_eps = 1e-5  # the code's default, spelled out\n"
             "train_policy.intrinsic_reward = @RND\n")
    assert run_config.bindings(text) == run_config.bindings(other)
    assert run_config.config_hash(text) == run_config.config_hash(other)
    assert run_config.differences(run_config.bindings(text), run_config.bindings(
        "PPOConfig.num_envs = 8\ntrain_policy.intrinsic_reward = @RND\n")) == {
        "PPOConfig.learning_rate": ("0.00025", "0.00019307")}  # unbound: the default


def test_the_hash_ignores_what_may_change_and_names_what_is_trained():
    base = run_config.config_hash(_configured())
    assert run_config.config_hash(_configured(
        "train_policy.total_steps = 99999", "train_policy.device = 'cpu'",
        "train_policy.torch_threads = 2", "train_policy.eval_every_updates = 7",
        "train_policy.checkpoint_every_updates = 3")) == base
    assert run_config.config_hash(_configured("PPOConfig.learning_rate = 0.01")) != base
    assert run_config.config_hash(_configured("train_policy.eval_envs = 3")) != base


def test_a_corrupt_history_is_one_line(tmp_path):
    run = RunDir(tmp_path)
    run.config_history.write_text('{"config": ""}\n{"conf\n')
    with pytest.raises(UsageError, match="config_history.jsonl line 2 is not JSON"):
        run_config.check(run, "", resumed=True)
