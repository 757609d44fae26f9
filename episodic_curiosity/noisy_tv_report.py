"""Binary: the NoisyTV table: per method, how often the trained policy presses the noisy action.

  python -m episodic_curiosity.noisy_tv_report --workdir=/tmp/noisytv \
      --scenario=minigrid_multiroom_noisytv_n7_s4_rgb --episodes=32

Reads <workdir>/<method>/<scenario>/run_number_<n>/ for every method trained there.
"""

from absl import flags

from episodic_curiosity import checkpoint, cli, envs
from episodic_curiosity.agents import action_stats
from episodic_curiosity.analysis import policy as policy_lib
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import methods
from episodic_curiosity.workdir import RunDir, run_path

NOISY_ACTION = 4  # MiniGrid's `drop`, which re-colours the ball in the NoisyTV task
flags.DEFINE_string("workdir", None, "Root directory of the runs.", required=True)
flags.DEFINE_string("scenario", "minigrid_multiroom_noisytv_n7_s4", "A NoisyTV scenario.")
flags.DEFINE_integer("run_number", 0, "Which run of each method.")
flags.DEFINE_integer("episodes", 32, "TEST-split episodes per method (stochastic policy).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    scenario = envs.get(FLAGS.scenario)
    if "noisytv" not in scenario.name:
        raise UsageError(f"--scenario={scenario.name} has no noisy TV; use "
                         "minigrid_multiroom_noisytv_n7_s4 or its _rgb view")
    rows = []
    for method in methods.METHODS:
        run_dir = RunDir(run_path(FLAGS.workdir, method, scenario.name, FLAGS.run_number))
        if not checkpoint.list_steps(run_dir.checkpoints):  # not trained (yet): no row
            continue
        policy = policy_lib.load(run_dir.path)
        policy_lib.scenario_for(policy, scenario.name)
        shares, success = action_stats.action_frequencies(policy.network, scenario.name,
                                                          FLAGS.episodes)
        rows.append((method, policy.step, shares[NOISY_ACTION], success))
    if not rows:
        raise UsageError(f"no trained run of {scenario.name} under {FLAGS.workdir}")
    print(f"{'method':<26}{'steps':>10}{'noisy action':>14}{'goal reached':>14}")
    for method, step, noisy, success in rows:
        print(f"{method:<26}{step:>10}{noisy:>13.1%}{success:>14.1%}")
    print(f"(a uniform policy presses it {1 / scenario.num_actions:.1%} of the time)")


if __name__ == "__main__":
    cli.run(main)
