"""The run directory layout, in one place: every binary and the launcher use it."""

import fcntl
import os
import pathlib

from episodic_curiosity.errors import UsageError, WriteFailed


def run_path(root, method: str, scenario: str, run_number: int) -> pathlib.Path:
    """<root>/<method>/<scenario>/run_number_<n>: one (method, scenario, run) per directory."""
    return pathlib.Path(root) / method / scenario / f"run_number_{run_number}"


class RunDir:
    """Paths inside one run directory; creating it checks that it is writable."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def lock(self) -> "DirectoryLock":
        """`with run_dir.lock():` owns the run directory (a second process gets a UsageError)."""
        return DirectoryLock(self.path)

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

    def reward_csv(self, split: str, metric: str = "reward"):
        """reward_<split>.csv, or success_<split>.csv (metric 'success')."""
        return self.path / f"{metric}_{split}.csv"

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
    def config_history(self):
        """The run's configuration changes on resume, appended (run_config.py)."""
        return self.path / "config_history.jsonl"

    @property
    def tensorboard(self):
        return self.path / "tensorboard"


class DirectoryLock:
    """One process at a time per directory: an exclusive flock on `<dir>/.lock`, held while open.

    The kernel drops a flock when its process dies, SIGKILL included, so no stale lock survives a
    crash. The holder's PID is written inside for the refusal message. A refused process changes
    nothing; the holder removes the lock file (and directories it created itself, if still empty)
    when it lets go, so a run refused later for bad input leaves the workdir as it found it.
    """

    NAME = ".lock"

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.path = self.directory / self.NAME
        self._fd = None
        self._created = []

    def acquire(self) -> "DirectoryLock":
        self._created = [p for p in [self.directory, *self.directory.parents] if not p.exists()]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create workdir {self.directory}: {e.strerror}; "
                             "pass a --workdir you can write to") from e
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise UsageError(f"cannot create {self.path}: {e.strerror}; "
                                 "pass a --workdir you can write to") from e
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise UsageError(f"{self.directory} is in use by process {holder} (lock "
                                 f"{self.path}); wait for that run to end or stop it, or pass "
                                 "another --workdir / --run_number") from None
            # The holder unlinks the file when it lets go: a lock won on an unlinked file is no
            # lock (a third process may have created a new one); try again on the current file.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still held: see acquire()
        os.close(self._fd)
        self._fd = None
        for directory in self._created:  # innermost first; a non-empty one stays
            try:
                directory.rmdir()
            except OSError:
                break

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def atomic_write_text(path, text: str) -> None:
    """Write-then-rename, so a kill never leaves a half-written file behind; a failed write
    (disk full) removes its temporary file, keeps the old one and raises WriteFailed."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if not isinstance(e, OSError):
            raise
        raise WriteFailed(f"could not write {path}: {e.strerror}; free space there (or make it "
                          "writable) and rerun the same command to resume") from e
