"""The subpackage commands the docs name still run, as aliases of the package root's binaries:
`python -m episodic_curiosity.envs` is `.scenarios`, `.rnet.report` is `.rnet_report`."""

import subprocess
import sys

import pytest

from conftest import REPO
from test_launcher import assert_one_line_error


def run_module(module, *args):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_envs_lists_the_scenarios_as_the_root_binary_does():
    old, new = (run_module(m, "--list") for m in ("episodic_curiosity.envs",
                                                    "episodic_curiosity.scenarios"))
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    assert old.stdout == new.stdout and "doom_dense" in old.stdout
    assert_one_line_error(run_module("episodic_curiosity.envs", "--gallery=/tmp/never.png",
                                     "--scenarios=nope"), "unknown scenario 'nope'")


@pytest.mark.parametrize("module", ["episodic_curiosity.rnet.report",
                                    "episodic_curiosity.rnet_report"])
def test_the_report_card_command_parses_its_flags_under_either_name(module):
    assert_one_line_error(run_module(module), "--r_networks_path is required")
    assert_one_line_error(run_module(module, "--no_such_flag"), "no_such_flag")
