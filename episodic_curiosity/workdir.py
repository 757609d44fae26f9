"""The run directory layout of DESIGN.md, in one place: every binary and the launcher use it."""

import os
import pathlib

from episodic_curiosity.errors import UsageError


def run_path(root, method: str, scenario: str, run_number: int) -> pathlib.Path:
    """<root>/<method>/<scenario>/run_number_<n>: one (method, scenario, run) per directory."""
    return pathlib.Path(root) / method / scenario / f"run_number_{run_number}"


class RunDir:
    """Paths inside one run directory; creating it checks that it is writable."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def create(self) -> "RunDir":
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create workdir {self.path}: {e.strerror}; "
                             "pass a --workdir you can write to") from e
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise UsageError(f"workdir {self.path} is not writable; pass a --workdir you can write to")
        return self

    @property
    def checkpoints(self):
        return self.path / "checkpoints"

    @property
    def r_training_data(self):
        return self.path / "r_training_data"

    @property
    def r_networks(self):
        return self.path / "r_networks"

    def reward_csv(self, split: str):
        return self.path / f"reward_{split}.csv"

    @property
    def progress_csv(self):
        return self.path / "progress.csv"

    @property
    def log_txt(self):
        return self.path / "log.txt"

    @property
    def gin_config(self):
        return self.path / "config.gin"

    @property
    def operative_gin_config(self):
        return self.path / "operative_config.gin"

    @property
    def tensorboard(self):
        return self.path / "tensorboard"


def atomic_write_text(path, text: str) -> None:
    """Write-then-rename, so a kill never leaves a half-written file behind."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
