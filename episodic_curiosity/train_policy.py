"""Binary: train a policy in one run directory. Reruns resume from the newest checkpoint, with
the run's own configuration (docs/resuming.md; another one needs --accept_config_change).

  python -m episodic_curiosity.train_policy --workdir=/tmp/run \
      --gin_config=gin/methods/ppo.gin --gin_bindings="train_policy.scenario='doom_dense'"
"""

from absl import flags

from episodic_curiosity import cli, configuration, preflight, wandb_sink
from episodic_curiosity.agents import trainer
from episodic_curiosity.workdir import RunDir

flags.DEFINE_string("workdir", None, "Run directory (created; resumed if it holds checkpoints).",
                    required=True)
cli.define_gin_flags()
cli.define_accept_config_change()
flags.DEFINE_string("wandb_project", None, "Also log training scalars to this Weights & Biases "
                    "project (needs `pip install wandb`; off by default).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    wandb_sink.check_available(FLAGS.wandb_project)
    configuration.parse(FLAGS.gin_config,
                        FLAGS.gin_bindings + wandb_sink.binding(FLAGS.wandb_project))
    preflight.check_numeric_bindings()
    run_dir = RunDir(FLAGS.workdir)
    with run_dir.lock():
        trainer.train_policy(run_dir, accept_config_change=FLAGS.accept_config_change)


if __name__ == "__main__":
    cli.run(main)
