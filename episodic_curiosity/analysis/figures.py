"""Reward curves as a matplotlib Figure: a row per split, a panel per scenario, a line per method.

Built on `matplotlib.figure.Figure` (no pyplot state), so it renders headless, in tests and in
notebooks alike.
"""

import pathlib

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter

from episodic_curiosity.analysis import aggregate, curves as curves_lib

# The paper's methods keep their colours across figures; other names take the next free colour.
_COLOURS = {"ppo": "#7f7f7f", "ppo_plus_ec": "#1f77b4", "ppo_plus_eco": "#2ca02c",
            "ppo_plus_grid_oracle": "#ff7f0e"}
_OTHERS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")


def colours(methods) -> dict:
    free = iter(_OTHERS * 4)
    return {m: _COLOURS.get(m) or next(free) for m in sorted(methods)}


def reward_figure(curves, splits=curves_lib.SPLITS, panel_size=(4.2, 3.0)) -> Figure:
    """Mean over runs (line) +- one std over runs (band, where 2+ runs reach the step).

    A method's line is solid while all its runs contribute and dashed where only the longer runs
    do, so the end of a short run is not mistaken for a change in reward.
    """
    splits = [s for s in splits if any(c.split == s for c in curves)]
    scenarios = sorted({c.scenario for c in curves})
    palette = colours({c.method for c in curves})
    if not splits or not scenarios:
        figure = Figure(figsize=panel_size)
        figure.text(0.5, 0.5, "no reward CSVs found", ha="center", va="center")
        return figure
    width = max(panel_size[0] * len(scenarios), 7.0)  # room for the legend under one panel
    figure = Figure(figsize=(width, panel_size[1] * len(splits)), layout="constrained")
    axes = figure.subplots(len(splits), len(scenarios), squeeze=False, sharex="col")
    handles = {}
    for row, split in enumerate(splits):
        grouped = curves_lib.group(curves, split)
        for col, scenario in enumerate(scenarios):
            ax = axes[row, col]
            for method, runs in sorted(grouped.get(scenario, {}).items()):
                curve = aggregate.mean_curve(runs)
                # Solid where every run contributes; dashed past the end of the shorter runs.
                all_runs = curve.count == len(runs)
                ax.plot(curve.steps, curve.mean, color=palette[method], lw=1.6, gid=method,
                        ls="-" if all_runs.all() else "--")
                if not all_runs.all():
                    ax.plot(curve.steps, np.where(all_runs, curve.mean, np.nan),
                            color=palette[method], lw=1.6, gid=f"{method}:all runs")
                several = curve.count >= 2
                if several.any():
                    ax.fill_between(curve.steps, curve.mean - curve.std, curve.mean + curve.std,
                                    where=several, color=palette[method], alpha=0.2, lw=0)
                handles.setdefault(method, Line2D([], [], color=palette[method], lw=1.6))
            if row == 0:
                ax.set_title(scenario)
            if col == 0:
                ax.set_ylabel(f"{curves[0].metric}_{split}")
            if row == len(splits) - 1:
                ax.set_xlabel("agent steps")
            ax.xaxis.set_major_formatter(EngFormatter(sep=""))
            ax.grid(alpha=0.3)
            if not ax.lines:
                ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", color="0.5")
    _legend(figure, [handles[m] for m in sorted(handles)],
            [_label(curves, m) for m in sorted(handles)])
    return figure


def _legend(figure, handles, labels):
    """Under the panels, in as many columns (up to 4) as fit the figure's width: one row of
    long labels is wider than a two-panel figure, and the saved PNG would cut its ends."""
    for ncols in range(min(len(handles), 4), 0, -1):
        legend = figure.legend(handles, labels, loc="outside lower center", ncols=ncols,
                               frameon=False, title_fontsize="small", title="mean over runs, "
                               "band ±1 std over runs, dashed where not all runs reached")
        if ncols == 1 or legend.get_window_extent().width <= 0.98 * figure.bbox.width:
            return legend
        legend.remove()


def _label(curves, method):
    runs = {(c.scenario, c.run) for c in curves if c.method == method}
    per = {s for s, _ in runs}
    return (f"{method} ({len(runs)} run{'s' * (len(runs) > 1)} in {len(per)} "
            f"scenario{'s' * (len(per) > 1)})")


def save(figure: Figure, out) -> list[pathlib.Path]:
    """Writes OUT.png and OUT.svg (a suffix on `out` is replaced); returns both paths."""
    out = pathlib.Path(out)
    if out.suffix.lower() in (".png", ".svg", ".pdf"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(".png"), out.with_suffix(".svg")]
    figure.savefig(paths[0], dpi=110)
    figure.savefig(paths[1])
    return paths

