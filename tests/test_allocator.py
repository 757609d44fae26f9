"""allocator.keep_freed_memory: a freed large block is reused without page faults (glibc)."""

import inspect
import subprocess
import sys

import pytest

from episodic_curiosity.agents import trainer

# Allocates, writes and frees a 64 MB tensor 30 times; prints the minor page faults of the last 10.
# (glibc places a few of the first ones further up the heap before the freed blocks coalesce
# into one that fits: the steady state is what training sees.)
_PROBE = """
import resource, sys, torch
from episodic_curiosity import allocator
applied = allocator.keep_freed_memory() if sys.argv[1] == "keep" else False
def touch():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(16 * 2**20)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults = [touch() for _ in range(30)]
print(applied, sum(faults[-10:]))
"""
_PAGES = 64 * 2**20 // 4096


def _steady_state_faults(mode):
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_large_blocks_are_reused_without_page_faults():
    applied, faults = _steady_state_faults("keep")
    assert applied
    assert faults < _PAGES // 10  # ten allocations, not one block's worth of faults
    # Without it glibc unmaps each block on free and every next one faults all its pages in.
    _, default_faults = _steady_state_faults("default")
    assert default_faults > 9 * _PAGES


def test_training_keeps_freed_memory_by_default():
    default = inspect.signature(trainer.train_policy).parameters["keep_freed_memory"].default
    assert default is True
