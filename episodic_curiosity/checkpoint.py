"""Atomic checkpoints of a training run: written whole or not at all, checked when read back."""

import os
import pathlib
import random
import re

import numpy as np
import torch

from episodic_curiosity.errors import UsageError

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
    """Writes ckpt_<step>.pt via a temporary file and rename; keeps the newest `keep` files."""
    path = path_for(directory, step)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        torch.save({"format_version": FORMAT_VERSION, "step": step, **state}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)  # make the rename itself durable
    finally:
        os.close(fd)
    for old in list_steps(directory)[:-keep]:
        path_for(directory, old).unlink(missing_ok=True)
    return path


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
