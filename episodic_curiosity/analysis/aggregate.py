"""Across runs: a mean curve with a band, and the paper's Table 1 (final reward per method).

Runs of unequal length are handled explicitly: a curve is averaged over the runs that reached a
step (`count` says how many), and the table reads every run at one step both can show, the
chosen one or the last step all runs reached.
"""

import csv
import dataclasses
import io

import numpy as np


@dataclasses.dataclass(frozen=True)
class MeanCurve:
    steps: np.ndarray
    mean: np.ndarray
    std: np.ndarray  # over the runs present at each step; 0 where only one is
    count: np.ndarray  # runs that reached each step


def mean_curve(curves, points: int = 200) -> MeanCurve:
    """Each run linearly interpolated on a shared grid of steps, inside its own step range only,
    then averaged over the runs present at each grid step."""
    first = min(int(c.steps[0]) for c in curves)
    last = max(c.last_step for c in curves)
    grid = np.unique(np.concatenate([np.linspace(first, last, points).round(),
                                     *[c.steps for c in curves]]))
    values = np.full((len(curves), len(grid)), np.nan)
    for i, curve in enumerate(curves):
        inside = (grid >= curve.steps[0]) & (grid <= curve.steps[-1])
        values[i, inside] = np.interp(grid[inside], curve.steps, curve.rewards)
    count = np.sum(~np.isnan(values), axis=0)
    keep = count > 0
    values, grid, count = values[:, keep], grid[keep], count[keep]
    mean = np.nanmean(values, axis=0)
    std = np.nanstd(values, axis=0)
    return MeanCurve(grid, mean, std, count)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One (method, scenario) entry of Table 1."""

    method: str
    scenario: str
    step: int  # the step every run was read at
    mean: float
    std: float  # sample standard deviation over runs (ddof=1); nan with a single run
    runs: int

    def text(self) -> str:
        spread = f" ± {self.std:.3g}" if self.runs > 1 else ""
        return f"{self.mean:.3g}{spread} (n={self.runs})"


def table_cells(grouped: dict, step: int | None = None) -> list[Cell]:
    """Final reward per (method, scenario) from `curves.group(...)`'s {scenario: {method: runs}}.

    Each run contributes its last row at or before the step: `step` when given, else the last
    step every run of that (method, scenario) reached. Runs without such a row are left out.
    """
    cells = []
    for scenario, by_method in sorted(grouped.items()):
        for method, runs in sorted(by_method.items()):
            at = step if step is not None else min(c.last_step for c in runs)
            values = [v for c in runs if (v := c.value_at(at)) is not None]
            if not values:
                continue
            std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
            cells.append(Cell(method, scenario, int(at), float(np.mean(values)), std,
                              len(values)))
    return cells


def markdown(cells, split: str, metric: str = "reward") -> str:
    """Rows methods, columns scenarios, 'mean ± std (n=runs)' at the step given per scenario."""
    scenarios = sorted({c.scenario for c in cells})
    methods = sorted({c.method for c in cells})
    by_key = {(c.method, c.scenario): c for c in cells}
    lines = [f"| method \\ {metric}_{split} | " + " | ".join(scenarios) + " |",
             "| --- |" + " --- |" * len(scenarios)]
    for method in methods:
        row = [by_key[method, s].text() if (method, s) in by_key else "–" for s in scenarios]
        lines.append(f"| {method} | " + " | ".join(row) + " |")
    steps = "; ".join(f"{s}: " + ", ".join(sorted({f'{c.step:,}' for c in cells
                                                   if c.scenario == s})) for s in scenarios)
    lines += ["", f"Final {metric}_{split}, mean ± sample std over runs (n runs), read at step "
                  f"({steps})."]
    return "\n".join(lines) + "\n"


def csv_text(cells, split: str, metric: str = "reward") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["method", "scenario", "split", "step", "mean", "std", "runs", "metric"])
    for c in cells:
        writer.writerow([c.method, c.scenario, split, c.step, f"{c.mean:.6g}",
                         "" if np.isnan(c.std) else f"{c.std:.6g}", c.runs, metric])
    return out.getvalue()
