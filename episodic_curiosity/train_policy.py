"""Binary: train a policy in one run directory. Reruns resume from the newest checkpoint, with
the run's own configuration (docs/resuming.md; another one needs --accept_config_change).

  python -m episodic_curiosity.train_policy --workdir=/tmp/run \
      --gin_config=gin/methods/ppo.gin --gin_bindings="train_policy.scenario='doom_dense'"

Many ranks of one run (docs/training.md, "Many ranks"): under torchrun,

  torchrun --nproc_per_node=2 -m episodic_curiosity.train_policy --workdir=/tmp/run ...

rank 0 locks and writes the run directory, the other ranks only read its checkpoints.
"""

import contextlib
import os

from absl import flags
from absl import logging as absl_logging

from episodic_curiosity import cli, configuration, distributed, preflight, wandb_sink
from episodic_curiosity.agents import trainer
from episodic_curiosity.workdir import RunDir

flags.DEFINE_string("workdir", None, "Run directory (created; resumed if it holds checkpoints).",
                    required=True)
cli.define_gin_flags()
cli.define_accept_config_change()
flags.DEFINE_string("wandb_project", None, "Also log training scalars to this Weights & Biases "
                    "project (needs `pip install wandb`; off by default).")
FLAGS = flags.FLAGS
# Set by the launcher to the run directory it has locked for its ranks.
LOCK_HELD_ENV = "EPISODIC_CURIOSITY_LOCK_HELD"


def _lock(run_dir: RunDir):
    """Rank 0 owns the run directory, unless the launcher that started the ranks already does;
    ranks > 0 take no lock (rank 0's covers them)."""
    if distributed.env_rank() or os.environ.get(LOCK_HELD_ENV) == str(run_dir.path):
        return contextlib.nullcontext()
    return run_dir.lock()


def main(argv):
    del argv
    wandb_sink.check_available(FLAGS.wandb_project)
    configuration.parse(FLAGS.gin_config,
                        FLAGS.gin_bindings + wandb_sink.binding(FLAGS.wandb_project))
    preflight.check_numeric_bindings()
    run_dir = RunDir(FLAGS.workdir)
    if distributed.env_rank():  # rank 0 speaks for the run
        absl_logging.set_verbosity(absl_logging.WARNING)
    with _lock(run_dir):
        trainer.train_policy(run_dir, accept_config_change=FLAGS.accept_config_change)
    distributed.shutdown()


if __name__ == "__main__":
    cli.run(main)
