"""Shared fixtures: tests run the repo's own binaries in subprocesses, like a user would."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent


LAUNCHER = str(REPO / "scripts" / "launcher_script.py")


def run_launcher(*args, timeout=600, check=False, extra_env=None):
    """Runs scripts/launcher_script.py with `args`; returns the CompletedProcess."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(extra_env or {}))
    return subprocess.run([sys.executable, LAUNCHER, *args],
                          capture_output=True, text=True, timeout=timeout, env=env, check=check)


def kill_after_checkpoints(args, run_dir, checkpoints=2, linger=0.0, poll=0.1) -> int:
    """Starts the launcher with `args`, SIGKILLs its whole process group (env workers and
    engines too) once `run_dir` holds `checkpoints` checkpoints (and `linger` seconds more);
    returns the step of the last checkpoint left behind."""
    from episodic_curiosity import checkpoint
    proc = subprocess.Popen([sys.executable, LAUNCHER, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while (time.time() < deadline
           and len(checkpoint.list_steps(run_dir / "checkpoints")) < checkpoints):
        time.sleep(poll)
    time.sleep(linger)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return checkpoint.list_steps(run_dir / "checkpoints")[-1]


@pytest.fixture
def repo():
    return REPO
