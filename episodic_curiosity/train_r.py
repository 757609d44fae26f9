"""Binary: train an R-network on generated shards; logs accuracy per epoch, then the report card.

  python -m episodic_curiosity.train_r --r_training_data=/tmp/r_data --output_dir=/tmp/r_net
"""

from absl import flags

from episodic_curiosity import cli, configuration, preflight, report_card
from episodic_curiosity.devices import resolve_device
from episodic_curiosity.rnet import offline
from episodic_curiosity.workdir import DirectoryLock

flags.DEFINE_string("r_training_data", None, "Output of generate_r_training_data.", required=True)
flags.DEFINE_string("output_dir", None, "Where r_network.pt, r_training.csv and checkpoints go.",
                    required=True)
flags.DEFINE_string("device", "auto", "Torch device (auto: CUDA when visible).")
cli.define_gin_flags()
FLAGS = flags.FLAGS


def main(argv):
    del argv
    configuration.parse(FLAGS.gin_config, FLAGS.gin_bindings)
    preflight.check_numeric_bindings()
    device = resolve_device(FLAGS.device)
    with DirectoryLock(FLAGS.output_dir):
        offline.train_r(FLAGS.r_training_data, FLAGS.output_dir, device,
                        write_report=report_card.write_report)


if __name__ == "__main__":
    cli.run(main)
