"""Shared fixtures: tests run the repo's own binaries in subprocesses, like a user would."""

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent


def run_launcher(*args, timeout=600, check=False):
    """Runs scripts/launcher_script.py with `args`; returns the CompletedProcess."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, str(REPO / "scripts" / "launcher_script.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, check=check)


@pytest.fixture
def repo():
    return REPO
