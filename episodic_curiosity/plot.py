"""Binary: reward curves (PNG + SVG) and the paper's Table 1 from run directories or a bucket.

  python -m episodic_curiosity.plot --runs=/tmp/ec --out=/tmp/ec/rewards
  python -m episodic_curiosity.plot --runs=gs://my-ec-runs/table1 --out=fig --table=table1
"""

import pathlib
import sys
import warnings

from absl import flags

from episodic_curiosity import cli
from episodic_curiosity.analysis import aggregate, curves, figures
from episodic_curiosity.errors import UsageError

flags.DEFINE_string("runs", None, "A directory or gs://bucket/prefix holding "
                    "<method>/<scenario>/run_number_<n>/reward_<split>.csv.", required=True)
flags.DEFINE_string("out", None, "Figure path without suffix: writes OUT.png and OUT.svg.")
flags.DEFINE_list("splits", list(curves.SPLITS), "Reward CSVs to plot, one row of panels each.")
flags.DEFINE_integer("smooth", 1, "Plot each run's mean of its last N rows (1: raw). The table "
                     "always reads raw rows.")
flags.DEFINE_string("table", None, "Also write Table 1 (rows methods, columns scenarios) to "
                    "TABLE.md and TABLE.csv.")
flags.DEFINE_enum("table_split", "test", list(curves.SPLITS), "The split the table reports.")
flags.DEFINE_enum("metric", "reward", list(curves.METRICS), "What the curves and the table show: "
                  "'reward' (reward_<split>.csv) or 'success', the share of episodes that reached "
                  "the goal (success_<split>.csv; tasks with a goal, e.g. MiniGrid).")
flags.DEFINE_integer("table_step", None, "Read every run at this agent step (its last row at or "
                     "before it); default: the last step all runs of a method and scenario reached.")
FLAGS = flags.FLAGS


def _warn_line(message, category, filename, lineno, file=None, line=None):
    return f"warning: {message}\n"


def main(argv):
    del argv
    if not FLAGS.out and not FLAGS.table:
        raise UsageError("nothing to write: pass --out=FIG and/or --table=TABLE")
    if FLAGS.smooth < 1:
        raise UsageError(f"--smooth must be >= 1 (rows averaged), got {FLAGS.smooth}")
    unknown = set(FLAGS.splits) - set(curves.SPLITS)
    if unknown:
        raise UsageError(f"unknown --splits {','.join(sorted(unknown))}; choose from "
                         f"{','.join(curves.SPLITS)}")
    warnings.formatwarning = _warn_line
    found = curves.load(FLAGS.runs, set(FLAGS.splits) | {FLAGS.table_split},
                        metric=FLAGS.metric)
    metric = FLAGS.metric
    if not found:
        raise UsageError(f"no readable {metric}_<split>.csv below {FLAGS.runs} (expected "
                         f"<method>/<scenario>/run_number_<n>/{metric}_train.csv)")
    runs = {(c.method, c.scenario, c.run) for c in found}
    print(f"read {len(found)} {metric} CSVs of {len(runs)} runs from {FLAGS.runs}")
    if FLAGS.out:
        figure = figures.reward_figure(
            [curves.smoothed(c, FLAGS.smooth) for c in found if c.split in FLAGS.splits],
            FLAGS.splits)
        for path in figures.save(figure, FLAGS.out):
            print(f"wrote {path}")
    if FLAGS.table:
        cells = aggregate.table_cells(curves.group(found, FLAGS.table_split), FLAGS.table_step)
        base = pathlib.Path(FLAGS.table)
        base = base.with_suffix("") if base.suffix in (".md", ".csv") else base
        base.parent.mkdir(parents=True, exist_ok=True)
        text = aggregate.markdown(cells, FLAGS.table_split, metric)
        base.with_suffix(".md").write_text(text)
        base.with_suffix(".csv").write_text(aggregate.csv_text(cells, FLAGS.table_split, metric))
        sys.stdout.write(text)
        print(f"wrote {base.with_suffix('.md')} and {base.with_suffix('.csv')}")


if __name__ == "__main__":
    cli.run(main)
