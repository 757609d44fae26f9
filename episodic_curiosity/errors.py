"""The exceptions that reach users as a single line: UsageError (exit 2), WriteFailed (exit 1),
Stopped (a stop signal: exit 130 / 143), and the stop-signal handling behind Stopped."""

import contextlib
import errno
import re
import signal
import threading


class UsageError(Exception):
    """Bad input from the user (flag, scenario, gin binding, workdir, checkpoint).

    The message is one line naming the problem and the fix; binaries print it and exit 2.
    """


def not_one_of(kind: str, value: str, choices) -> str:
    """'unknown scenario 'x'; choose one of: a, b' -- the shape of every choice error."""
    return f"unknown {kind} '{value}'; choose one of: {', '.join(sorted(choices))}"


_SIZE_MISMATCH = re.compile(r"size mismatch for (\S+): copying a param with shape (.+?) from "
                            r"checkpoint, the shape in current model is (.+?)\.(?:\s|$)")


def load_error_summary(error: Exception, limit: int = 200) -> str:
    """torch's state_dict error in one short line that keeps what the user needs.

    A size mismatch becomes 'size mismatch for <param>: checkpoint <shape>, this model <shape>
    (and N more)'; anything else is cut at a word boundary, never mid-token.
    """
    text = " ".join(str(error).split())
    mismatches = _SIZE_MISMATCH.findall(text)
    if mismatches:
        name, saved, current = mismatches[0]
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        return f"size mismatch for {name}: checkpoint {saved}, this model {current}{more}"
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."


class WriteFailed(Exception):
    """A write the run needs failed (disk full, a removed directory, a file-size limit): not bad
    input, so binaries print its one line and exit 1."""


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def disk_error(error: BaseException) -> OSError | None:
    """The OSError of a full disk (or quota, or file-size limit) behind `error`, if any: torch
    reports a failed write as a RuntimeError ('unexpected pos ...') whose context holds it."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in _DISK_ERRNOS:
            return error
        error = error.__cause__ or error.__context__
    return None


class Stopped(Exception):
    """SIGINT or SIGTERM ended the run: binaries print its one line and exit 128 + signal
    (130 / 143), as a process killed by it would report."""

    def __init__(self, signum: int, message: str = ""):
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(message or f"stopped by {signal_name(signum)}; rerun the same command "
                         "to resume")


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


# A stop signal arriving inside `deferred_stop()` is only recorded here (the training loop stops
# at its next update boundary, after a checkpoint); anywhere else it raises Stopped at once.
_deferred: list | None = None


def _on_stop_signal(signum, frame):
    del frame
    if _deferred is not None and not _deferred:
        _deferred.append(signum)
        return
    raise Stopped(signum)


def install_stop_handlers() -> None:
    """SIGINT and SIGTERM become Stopped (the binaries' one line) instead of a traceback or a
    silent death; the main thread only, where Python runs signal handlers."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _on_stop_signal)


@contextlib.contextmanager
def deferred_stop():
    """Inside, the first stop signal is recorded, not raised: the caller polls `stop_requested()`
    where stopping leaves consistent state. A second signal still stops at once."""
    global _deferred
    outer, _deferred = _deferred, []
    try:
        yield
    finally:
        _deferred = outer


def stop_requested() -> int | None:
    """The signal a deferred stop is waiting on, or None."""
    return _deferred[0] if _deferred else None
