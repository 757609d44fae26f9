"""Atomic checkpoints of a training run: written whole or not at all, checked when read back."""

import errno
import os
import pathlib
import random
import re
import shutil

import numpy as np
import torch

from episodic_curiosity.errors import UsageError, WriteFailed, disk_error

FORMAT_VERSION = 1
_NAME = re.compile(r"^ckpt_(\d{12})\.pt$")


def path_for(directory, step: int) -> pathlib.Path:
    return pathlib.Path(directory) / f"ckpt_{step:012d}.pt"


def list_steps(directory) -> list[int]:
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        return []
    return sorted(int(m.group(1)) for p in directory.iterdir() if (m := _NAME.match(p.name)))


def save(directory, step: int, state: dict, keep: int = 3) -> pathlib.Path:
    """Writes ckpt_<step>.pt via a temporary file and rename; keeps the newest `keep` files.

    A failed write (disk full, the directory removed) removes its temporary file, keeps every
    older checkpoint and raises WriteFailed naming the path and what to free.
    """
    path = path_for(directory, step)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        _write(tmp, {"format_version": FORMAT_VERSION, "step": step, **state})
        os.replace(tmp, path)
        fsync_directory(directory)  # make the rename itself durable
    except BaseException as e:  # a stop signal too: no partial file is left to fill the disk
        tmp.unlink(missing_ok=True)
        cause = disk_error(e) or (e if isinstance(e, OSError) else None)
        if cause is None:
            raise
        raise WriteFailed(write_failure(path, cause, list_steps(directory))) from e
    for old in list_steps(directory)[:-keep]:
        path_for(directory, old).unlink(missing_ok=True)
    return path


def _write(tmp: pathlib.Path, state: dict) -> None:
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())


def fsync_directory(directory) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mount_point(path: pathlib.Path) -> pathlib.Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def write_failure(path: pathlib.Path, error: OSError, kept_steps) -> str:
    """One line: what failed, what to do about it, and where a rerun resumes."""
    directory = path.parent
    previous = path_for(directory, kept_steps[-1]) if kept_steps else None
    size = f"; a checkpoint takes about {_megabytes(previous.stat().st_size)}" if previous else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        mount = _mount_point(directory)
        free = shutil.disk_usage(mount).free
        fix = f"free space on {mount} ({_megabytes(free)} free{size})"
    elif error.errno == errno.EFBIG:
        fix = f"raise the file size limit (ulimit -f){size}"
    elif not directory.is_dir():
        fix = f"{directory} was removed while the run went on; keep the run directory in place"
    else:
        fix = "make it writable"
    resume = (f"resume from step {kept_steps[-1]} ({previous.name}, kept)" if kept_steps
              else "start the run again")
    return f"could not write checkpoint {path}: {error.strerror}; {fix}, then rerun to {resume}"


def load(path) -> dict:
    """Reads a checkpoint; a truncated, foreign or wrong-version file is a UsageError."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        raise UsageError(f"checkpoint {path} is corrupt ({type(e).__name__}); delete it to resume "
                         "from the previous checkpoint, or use a new --workdir") from e
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"checkpoint {path} is not a format-{FORMAT_VERSION} episodic_curiosity "
                         "checkpoint; use a new --workdir")
    return state


def load_latest(directory):
    """The newest checkpoint in `directory`, or None for a fresh run."""
    steps = list_steps(directory)
    return load(path_for(directory, steps[-1])) if steps else None


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
