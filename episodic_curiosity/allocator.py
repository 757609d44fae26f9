"""Large CPU buffers kept for reuse instead of handed back to the OS after every minibatch.

glibc's malloc serves each block over its mmap threshold (32 MB at most) with a fresh mmap and
unmaps it on free, so every PPO minibatch's activations (768 frames: the float input alone is
65 MB) page-fault in afresh: converting that input cost 23 ms instead of 3 ms, and the whole PPO
update (4 epochs x 4 minibatches of 768) 6.3 s instead of 4.9 s on the 2-core CPU. PyTorch's CPU
tuning guide swaps in jemalloc or tcmalloc for the same reason; this asks glibc itself, in-process
(no LD_PRELOAD), to serve large blocks from its heap and keep what is freed.
"""

import ctypes
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_MAX = -4
_KEEP_UP_TO = 1 << 30  # free heap memory above this at the heap's top goes back to the OS

_applied = False


def keep_freed_memory() -> bool:
    """Process-wide and for the rest of the process: no mmap for large blocks, freed memory kept
    (up to 1 GB) for the next allocation. Numerics are untouched; the resident size stays at the
    peak working set (25 PPO updates: 742 MB throughout, against a 736 MB peak without). False
    where the C library is not glibc (macOS, musl): nothing changes."""
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_UP_TO))
    return _applied
