"""Binary: random-policy rollouts on R_TRAINING level seeds, written as train/valid shards.

  python -m episodic_curiosity.generate_r_training_data --scenario=doom_dense \
      --output_dir=/tmp/r_data --gin_bindings="generate.total_steps = 100000"
"""

from absl import flags

from episodic_curiosity import cli, configuration, envs, preflight
from episodic_curiosity.rnet import data
from episodic_curiosity.workdir import DirectoryLock

flags.DEFINE_string("scenario", None, "Scenario to play.", required=True)
flags.DEFINE_string("output_dir", None, "Directory for the shards.", required=True)
cli.define_gin_flags()
FLAGS = flags.FLAGS


def main(argv):
    del argv
    envs.get(FLAGS.scenario)
    configuration.parse(FLAGS.gin_config, FLAGS.gin_bindings)
    preflight.check_numeric_bindings()
    with DirectoryLock(FLAGS.output_dir):
        data.generate(FLAGS.output_dir, FLAGS.scenario)


if __name__ == "__main__":
    cli.run(main)
