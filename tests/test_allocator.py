"""allocator.keep_freed_memory: a freed large block is reused without page faults (glibc)."""

import inspect
import subprocess
import sys

import pytest

from episodic_curiosity.agents import trainer

# Allocates and touches a 64 MB float tensor twice; prints the minor page faults of the second.
_PROBE = """
import resource, sys, torch
from episodic_curiosity import allocator
applied = allocator.keep_freed_memory() if sys.argv[1] == "keep" else False
def touch():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(16 * 2**20)  # 64 MB, written, then freed
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
touch()
print(applied, touch())
"""
_PAGES = 64 * 2**20 // 4096


def _second_allocation_faults(mode):
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_large_blocks_are_reused_without_page_faults():
    applied, faults = _second_allocation_faults("keep")
    assert applied
    assert faults < _PAGES // 10
    # Without it glibc unmaps the block on free and the next one faults every page in again.
    _, default_faults = _second_allocation_faults("default")
    assert default_faults > _PAGES // 2


def test_training_keeps_freed_memory_by_default():
    default = inspect.signature(trainer.train_policy).parameters["keep_freed_memory"].default
    assert default is True
