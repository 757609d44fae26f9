"""Progress of a long stage: a live bar in a terminal, plain log lines everywhere else.

Every long stage (R-network data, R-network training, policy training, evaluation, bucket sync)
reports through `Progress`, so a user at a terminal sees a bar with rate and ETA and a CI job or a
cloud VM's journal gets one readable line every `log_every_s` seconds instead of bar redraws.

    with Progress(total=20_000_000, desc="train doom_dense", unit="steps", initial=step) as bar:
        ...
        bar.update_to(step, ret=f"{mean_return:.2f}")   # once per PPO update
"""

import os
import sys
import time

from absl import logging


def interactive(stream=None) -> bool:
    """True when a person watches `stream` (stderr by default): a TTY, not CI, not a dumb term.

    EC_PROGRESS=bar / EC_PROGRESS=log force either mode.
    """
    forced = os.environ.get("EC_PROGRESS", "").lower()
    if forced in ("bar", "log"):
        return forced == "bar"
    stream = stream or sys.stderr
    return (hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("CI")
            and os.environ.get("TERM", "") != "dumb")


def format_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


class Progress:
    """Counts `unit`s of a stage towards `total`; draws a bar or logs lines (see module doc).

    `update(n)` adds n, `update_to(n)` sets the count (what a resumed loop knows); keyword
    arguments of either are shown after the rate (the latest episode return, a loss, ...).
    """

    def __init__(self, total: int | None, desc: str, unit: str = "steps", initial: int = 0,
                 log_every_s: float = 30.0, bar: bool | None = None, stream=None):
        self.total, self.desc, self.unit = total, desc, unit
        self.count = self._start_count = initial
        self.log_every_s = log_every_s
        self._start = self._last_log = time.time()
        self._postfix = {}
        self._logged_count = None
        self._bar = None
        if interactive(stream) if bar is None else bar:
            import tqdm  # only when a bar is drawn
            self._bar = tqdm.tqdm(total=total, desc=desc, unit=unit, initial=initial,
                                  file=stream or sys.stderr, dynamic_ncols=True,
                                  unit_scale=True, smoothing=0.1)

    @property
    def rate(self) -> float:
        """Units per second since this Progress was created (a resumed count is not counted)."""
        return (self.count - self._start_count) / max(time.time() - self._start, 1e-9)

    @property
    def eta_s(self) -> float | None:
        if not self.total or self.rate <= 0:
            return None
        return (self.total - self.count) / self.rate

    def update(self, n: int = 1, **postfix):
        self.update_to(self.count + n, **postfix)

    def update_to(self, count: int, **postfix):
        delta, self.count = count - self.count, count
        self._postfix.update(postfix)
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix(self._postfix, refresh=False)
            self._bar.update(delta)
        elif time.time() - self._last_log >= self.log_every_s:
            self._log()

    def line(self) -> str:
        """'desc: 1,024/4,096 steps (25%) | 310 steps/s | ETA 0h00m09s | ret 0.5'."""
        done = f"{self.count:,}" + (f"/{self.total:,}" if self.total else "") + f" {self.unit}"
        if self.total:
            done += f" ({100 * self.count / self.total:.0f}%)"
        rate = self.rate
        if 0 < rate < 1:  # slow units (epochs, episodes) read better as seconds per unit
            speed = f"{1 / rate:.1f} s/{self.unit.removesuffix('s')}"
        else:
            speed = f"{rate:.1f} {self.unit}/s"
        parts = [f"{self.desc}: {done}", speed]
        if self.eta_s is not None:
            parts.append(f"ETA {format_duration(self.eta_s)}")
        parts += [f"{k} {v}" for k, v in self._postfix.items()]
        return " | ".join(parts)

    def _log(self):
        self._last_log, self._logged_count = time.time(), self.count
        logging.info("%s", self.line())

    def close(self):
        """Ends the bar, or logs the final line unless it was just logged (stages shorter than a
        second stay silent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif time.time() - self._start >= 1.0 and self._logged_count != self.count:
            self._log()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
