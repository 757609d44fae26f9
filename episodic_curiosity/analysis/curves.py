"""Reward (or success-rate) curves read from run directories, on disk or in a Cloud Storage bucket.

Finds every `<method>/<scenario>/run_number_<n>/reward_<split>.csv` (`success_<split>.csv` with
metric 'success': tasks with a goal, MiniGrid) below a local directory or a
`gs://bucket/prefix` (the launcher's and the cloud fleet's layout; anything above `<method>` is
ignored, so a fleet prefix or a workdir both work). CSVs of runs still being written, cut by a
kill or a partial download are read as far as they are whole: a row cut short is dropped and a
file without a single whole row is skipped, each with a warning naming the file.
"""

import dataclasses
import pathlib
import re
import warnings

import numpy as np

SPLITS = ("train", "valid", "test")
METRICS = ("reward", "success")
_PATH = re.compile(r"(?:^|/)(?P<method>[^/]+)/(?P<scenario>[^/]+)/run_number_(?P<run>\d+)/"
                   r"(?P<metric>reward|success)_(?P<split>train|valid|test)\.csv$")


class CsvWarning(UserWarning):
    """A reward CSV (or some of its rows) could not be read and was left out."""


@dataclasses.dataclass(frozen=True)
class Curve:
    """One run's reward_<split>.csv: agent steps and rewards, steps increasing."""

    method: str
    scenario: str
    run: int
    split: str
    steps: np.ndarray
    rewards: np.ndarray
    source: str  # the file it was read from, for messages
    metric: str = "reward"  # or "success": the share of episodes that reached the goal

    @property
    def last_step(self) -> int:
        return int(self.steps[-1])

    def value_at(self, step: int) -> float | None:
        """The reward of the last row at or before `step` (an evaluation that happened)."""
        index = np.searchsorted(self.steps, step, side="right") - 1
        return None if index < 0 else float(self.rewards[index])


def smoothed(curve: Curve, window: int) -> Curve:
    """The curve with each reward replaced by the mean of its last `window` rows (fewer at the
    start): episode returns of sparse tasks are all-or-nothing, a trend needs a few of them."""
    if window <= 1:
        return curve
    sums = np.cumsum(np.concatenate([[0.0], curve.rewards]))
    ends = np.arange(1, len(curve.rewards) + 1)
    starts = np.maximum(ends - window, 0)
    return dataclasses.replace(curve, rewards=(sums[ends] - sums[starts]) / (ends - starts))


def parse_csv(text: str, split: str, source: str,
              metric: str = "reward") -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, values) of a reward (success) CSV's whole rows, or None (with a warning) if it
    has none."""
    if not text.strip():
        warnings.warn(f"{source} is empty; skipped", CsvWarning, stacklevel=2)
        return None
    lines = text.splitlines()
    if not text.endswith(("\n", "\r")):  # the writer ends every row: the last one is cut short
        warnings.warn(f"{source}: last line {lines[-1]!r} is cut short; ignored", CsvWarning,
                      stacklevel=2)
        lines = lines[:-1]
    header = ["step", f"{metric}_{split}", "timestamp_s"]
    if not lines or lines[0].split(",") != header:
        warnings.warn(f"{source} does not start with the header {','.join(header)}; skipped",
                      CsvWarning, stacklevel=2)
        return None
    steps, rewards = [], []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        try:
            if len(fields) != len(header):
                raise ValueError
            step, reward = int(fields[0]), float(fields[1])
        except ValueError:
            warnings.warn(f"{source}: line {number} {line!r} is not a whole row; ignored",
                          CsvWarning, stacklevel=2)
            continue
        if steps and step <= steps[-1]:
            warnings.warn(f"{source}: line {number} goes back to step {step}; ignored",
                          CsvWarning, stacklevel=2)
            continue
        steps.append(step)
        rewards.append(reward)
    if not steps:
        warnings.warn(f"{source} has no whole rows; skipped", CsvWarning, stacklevel=2)
        return None
    return np.asarray(steps, np.int64), np.asarray(rewards, np.float64)


def _curve(relative: str, text: str, source: str) -> Curve | None:
    match = _PATH.search(relative)
    parsed = parse_csv(text, match["split"], source, match["metric"])
    if parsed is None:
        return None
    return Curve(match["method"], match["scenario"], int(match["run"]), match["split"],
                 *parsed, source=source, metric=match["metric"])


def _local_files(root: pathlib.Path):
    for path in sorted(root.rglob("*_*.csv")):
        relative = path.resolve().as_posix()  # a run directory itself names its method/scenario
        if _PATH.search(relative):
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError) as e:
                warnings.warn(f"{path} cannot be read ({e}); skipped", CsvWarning, stacklevel=3)
                continue
            yield relative, text, str(path)


def _bucket_files(url: str, client=None):
    from episodic_curiosity import gcs  # google.cloud imports in seconds: only for gs:// sources
    for blob in gcs.list_blobs(url, client):
        if not _PATH.search(blob.name):
            continue
        where = f"gs://{blob.bucket.name}/{blob.name}"
        try:
            text = blob.download_as_bytes().decode()
        except Exception as e:  # a blob deleted while listing, a decode error: not fatal
            warnings.warn(f"{where} cannot be read ({type(e).__name__}); skipped", CsvWarning,
                          stacklevel=3)
            continue
        yield blob.name, text, where


def load(source: str, splits=SPLITS, client=None, metric: str = "reward") -> list[Curve]:
    """Every readable `metric` curve of `splits` below `source` (a directory or
    gs://bucket/prefix).

    `client` is an optional google.cloud.storage.Client (default: from the environment's
    credentials, or STORAGE_EMULATOR_HOST).
    """
    from episodic_curiosity.errors import UsageError
    if str(source).startswith("gs://"):
        files = _bucket_files(str(source).rstrip("/"), client)
    else:
        root = pathlib.Path(source)
        if not root.is_dir():
            raise UsageError(f"--runs {source} is not a directory (nor a gs://bucket/prefix)")
        files = _local_files(root)
    curves = [c for relative, text, where in files
              if _PATH.search(relative)["split"] in splits
              and _PATH.search(relative)["metric"] == metric
              and (c := _curve(relative, text, where)) is not None]
    return sorted(curves, key=lambda c: (c.scenario, c.method, c.split, c.run))


def group(curves, split: str) -> dict:
    """{scenario: {method: [Curve, ...]}} for one split, runs in order."""
    out: dict = {}
    for curve in curves:
        if curve.split == split:
            out.setdefault(curve.scenario, {}).setdefault(curve.method, []).append(curve)
    return out
