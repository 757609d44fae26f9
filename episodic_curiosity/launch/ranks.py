"""The policy stage on many ranks: this process is their agent, as torchrun's would be. It
starts one `python -m episodic_curiosity.train_policy` per rank, forwards one stop signal to
them, and ends as the run does: quietly, or with the one line of the rank that failed first."""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from episodic_curiosity import errors
from episodic_curiosity.workdir import RunDir

LOST_PEER = "lost another rank"  # a rank's line when it only saw another one fail
GRACE_S = 20.0  # how long the other ranks get to end on their own once one has failed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_preexec():
    """A rank's own process group (a signal reaches it once, forwarded by this agent) that dies
    with the agent (PR_SET_PDEATHSIG: the agent SIGKILLed leaves no rank behind)."""
    os.setpgrp()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: the ranks outlive a SIGKILLed agent
        pass


class _Rank:
    """One rank's process; its stderr passes through except its last one-line verdict."""

    def __init__(self, rank, num_ranks, port, run_dir, args):
        env = dict(os.environ, WORLD_SIZE=str(num_ranks), RANK=str(rank), LOCAL_RANK=str(rank),
                   LOCAL_WORLD_SIZE=str(num_ranks), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), EPISODIC_CURIOSITY_LOCK_HELD=str(run_dir.path))
        self.rank, self.line, self.failed_at = rank, None, None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "episodic_curiosity.train_policy",
             f"--workdir={run_dir.path}", *args],
            env=env, stderr=subprocess.PIPE, text=True, preexec_fn=_rank_preexec)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            if line.startswith(("error:", "stopped by")):
                self.line = line.rstrip("\n")
            else:
                sys.stderr.write(line)
                sys.stderr.flush()

    def signal_group(self, signum) -> None:
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def train_on_ranks(run_dir: RunDir, num_ranks: int, args: list) -> None:
    """Starts the ranks, forwards one stop signal to them, and ends as the run does: quietly,
    or with the one line of the rank that failed first (exit status its own, 1 for a death)."""
    port = _free_port()
    ranks = [_Rank(r, num_ranks, port, run_dir, args) for r in range(num_ranks)]
    try:
        with errors.deferred_stop():
            _watch(ranks)
    finally:
        for rank in ranks:  # only the ones still alive (a second signal, a failure)
            if rank.proc.poll() is None:
                rank.signal_group(signal.SIGKILL)
            rank.proc.wait()
            rank.reader.join(timeout=5)
    _conclude(ranks, num_ranks)


def _watch(ranks) -> None:
    """Polls until every rank has ended; a failed one gives the others GRACE_S, then SIGKILL."""
    forwarded, first_failure = False, None
    while any(r.proc.poll() is None for r in ranks):
        if (signum := errors.stop_requested()) and not forwarded:
            for rank in ranks:
                rank.signal_group(signum)
            forwarded = True
        for rank in ranks:
            if rank.failed_at is None and rank.proc.poll() not in (None, 0):
                rank.failed_at = time.time()
                first_failure = first_failure or rank.failed_at
        if first_failure and time.time() - first_failure > GRACE_S:
            for rank in ranks:
                if rank.proc.poll() is None:
                    rank.signal_group(signal.SIGKILL)
        time.sleep(0.1)


def _conclude(ranks, num_ranks) -> None:
    """Nothing for a finished run; else the failing rank's one line and its exit status."""
    failed = [r for r in ranks if r.proc.returncode != 0]
    if not failed:
        return
    # The cause, not its echo: a rank that died or said why before one that lost a peer.
    cause = min(failed, key=lambda r: (r.line is not None and LOST_PEER in r.line,
                                       r.failed_at or float("inf"), r.rank))
    code = cause.proc.returncode
    line = cause.line
    if code < 0 or line is None:
        how = (f"was killed by {errors.signal_name(-code)}" if code < 0
               else f"exited with status {code}")
        line = (f"error: rank {cause.rank} of {num_ranks} {how}; the run stopped; rerun the "
                "same command to resume from the last checkpoint")
        code = 1
    print(line, file=sys.stderr, flush=True)
    sys.exit(code)
