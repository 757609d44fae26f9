"""Binary: (re)write an R-network's report card and print its verdict.

  python -m episodic_curiosity.rnet_report --r_networks_path=DIR --scenario=S

The card itself is episodic_curiosity/report_card.py (above rnet/ and rewards/); this module is
only the command. `python -m episodic_curiosity.rnet.report`, the path the docs name, runs it.
"""

import pathlib

from absl import flags

from episodic_curiosity import cli, configuration, report_card
from episodic_curiosity.errors import UsageError


flags.DEFINE_string("r_networks_path", None, "Directory holding r_network.pt.")
flags.DEFINE_string("scenario", None, "Scenario of the scripted agents (default: the data's).")
flags.DEFINE_string("r_training_data", None,
                    "Generated data for the gap table (default: ../r_training_data).")
flags.DEFINE_string("device", "cpu", "Torch device.")
cli.define_gin_flags()
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if not FLAGS.r_networks_path:
        raise UsageError("--r_networks_path is required (a directory holding r_network.pt)")
    configuration.parse(FLAGS.gin_config, FLAGS.gin_bindings)
    data_dir = FLAGS.r_training_data or pathlib.Path(FLAGS.r_networks_path).parent / \
        "r_training_data"
    result = report_card.write_report(
        FLAGS.r_networks_path, data_dir if pathlib.Path(data_dir).is_dir() else None,
        FLAGS.device, scenario=FLAGS.scenario)
    print(result["verdict"])


if __name__ == "__main__":
    cli.run(main)
