"""CSV writers that survive kills and resumes: rows past the resume step are dropped, not repeated.

Rows are written and flushed one at a time; a resumed run first cuts every row whose step is later
than the checkpoint it resumes from, so the file never holds a step twice or skips one. A file
written by an older version with fewer columns is widened (its rows keep their values, the new
columns stay blank there), so upgrading the package does not strand a run that is half done.
"""

import csv
import os
import pathlib
import time

from episodic_curiosity.errors import UsageError


class ResumableCsv:
    def __init__(self, path, columns, resume_step: int = 0):
        """Opens `path` for appending after cutting rows with step > resume_step.

        The first column is the integer resume key (step, or epoch); a file whose header is not a
        subset of `columns` with the same key is an incompatible run. (Whether the configuration
        matches is the checkpoint's check, run_state.restore, which runs first.)
        """
        self.path, self.columns = pathlib.Path(path), list(columns)
        kept = self._rows_up_to(resume_step)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows([self.columns] + kept)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._file = open(self.path, "a", newline="")
        self._writer = csv.writer(self._file)

    def _rows_up_to(self, resume_step):
        if not self.path.exists():
            return []
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows:
            return []
        header = rows[0]
        if header[:1] != self.columns[:1] or not set(header) <= set(self.columns):
            raise UsageError(f"{self.path} has columns {header}, this run writes {self.columns}; "
                             "use a new --workdir for a different configuration")
        # A row cut short by a kill fails to parse or has the wrong width: drop it.
        kept = [dict(zip(header, r)) for r in rows[1:]
                if len(r) == len(header) and _step(r) <= resume_step]
        return [[row.get(c, "") for c in self.columns] for row in kept]

    def write(self, step: int, **values):
        """Appends one row; `step` fills the first column."""
        row = [step] + [values.get(c, "") for c in self.columns[1:]]
        self._writer.writerow(row)
        self._file.flush()

    def close(self):
        self._file.close()


def _step(row):
    try:
        return int(row[0])
    except ValueError:
        return float("inf")


class RewardCsv(ResumableCsv):
    """<metric>_<split>.csv with the columns step,<metric>_<split>,timestamp_s: the reward
    (reward_<split>.csv), or the success rate of tasks with a goal (success_<split>.csv)."""

    def __init__(self, path, split: str, resume_step: int = 0, metric: str = "reward"):
        self.column = f"{metric}_{split}"
        super().__init__(path, ["step", self.column, "timestamp_s"], resume_step)

    def add(self, step: int, value: float):
        self.write(step, **{self.column: f"{value:.6g}", "timestamp_s": f"{time.time():.3f}"})
