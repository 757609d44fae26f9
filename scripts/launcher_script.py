"""Launch one (method, scenario, run) locally; rerunning the same command resumes it (with the
run's own configuration: docs/resuming.md).

  python scripts/launcher_script.py --method=ppo --scenario=doom_dense --workdir=/tmp/ec
  python scripts/launcher_script.py --method=ppo --scenario=doom_dense --workdir=/tmp/ec --preset=smoke
  python scripts/launcher_script.py --method=ppo --scenario=doom_dense --workdir=/tmp/ec --num_ranks=2
"""

from absl import flags

from episodic_curiosity import cli, wandb_sink
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import local, methods, sweep

flags.DEFINE_string("method", "ppo", "Method: " + methods.usage_text())
flags.DEFINE_string("scenario", "doom_dense",
                    "Scenario (python -m episodic_curiosity.envs --list shows all).")
flags.DEFINE_string("workdir", None, "Root directory; the run goes to "
                    "<workdir>/<method>/<scenario>/run_number_<n>/.", required=True)
flags.DEFINE_integer("run_number", 0, "Run index: seeds the network and the training levels.")
flags.DEFINE_string("preset", None, f"Optional presets, comma-separated: "
                    f"{', '.join(methods.PRESETS)} (smoke: a few minutes on a laptop CPU; "
                    "rnet_small: a narrower R-network for CPUs).")
flags.DEFINE_string("r_networks_path", None, "ppo_plus_ec: use the trained R-network in this "
                    "directory (r_network.pt) instead of generating data and training one.")
flags.DEFINE_multi_string("gin_bindings", [], "Extra gin bindings, applied last.")
flags.DEFINE_string("wandb_project", None, "Also log training scalars to this Weights & Biases "
                    "project (needs `pip install wandb`; off by default).")
cli.define_accept_config_change()
flags.DEFINE_integer("num_ranks", 1, "Train the policy on this many data-parallel ranks of one "
                     "run (torch.distributed: one per GPU, gloo processes on a CPU); the "
                     "R-network stages stay single-process (docs/training.md, 'Many ranks').")
flags.DEFINE_string("sweep", None, "Run many jobs on this machine through Ray instead of one: "
                    "'methods=ppo,ppo_plus_ec;scenarios=doom_dense;runs=3' (--method, --scenario "
                    "and --run_number are then ignored; --preset and --gin_bindings apply to all).")
flags.DEFINE_float("sweep_gpus_per_job", 1, "--sweep: GPUs per job (0: CPU jobs).")
flags.DEFINE_float("sweep_cpus_per_job", 1, "--sweep: CPUs per job.")
flags.DEFINE_integer("sweep_num_gpus", None, "--sweep: GPUs Ray may hand out (default: detected).")
flags.DEFINE_integer("sweep_num_cpus", None, "--sweep: CPUs Ray may hand out (default: all).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if FLAGS.sweep:
        if FLAGS.num_ranks != 1:
            raise UsageError("--num_ranks is for one run, not a --sweep (each sweep job is one "
                             "rank); drop one of the two")
        sweep.main(FLAGS)
        return
    wandb_sink.check_available(FLAGS.wandb_project)
    local.run(FLAGS.method, FLAGS.scenario, FLAGS.workdir, FLAGS.run_number, FLAGS.preset,
              FLAGS.gin_bindings + wandb_sink.binding(FLAGS.wandb_project), FLAGS.r_networks_path,
              FLAGS.accept_config_change, FLAGS.num_ranks)


if __name__ == "__main__":
    cli.run(main)
