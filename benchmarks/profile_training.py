"""Where a training run's time goes: torch.profiler over a few updates of one method, summarised by
the loop's phases (the `record_function` labels of trainer.py and collector.py) and the top
operators. The numbers behind docs/architecture.md's profile summary.

  python benchmarks/profile_training.py --method=ppo_plus_ec --scenario=doom_dense \
      [--device=cuda] [--workers=12] [--updates=3] [--bindings="PPOConfig.precision = 'bf16'"]
  ... --trace=/tmp/trace.json   # a Chrome trace (chrome://tracing, Perfetto) of the whole run

Phases are host wall time: `env.step` is the wait for the env workers, `policy.act` and
`intrinsic_reward` include the device work they wait for (their results go back to the envs).
The first update (warm-up: cuDNN autotuning, compilation) is profiled too; use enough updates.
"""

import tempfile

import torch
from absl import app, flags

import throughput

from episodic_curiosity import devices
from episodic_curiosity.agents import trainer
from episodic_curiosity.workdir import RunDir

PHASES = ("env.step", "policy.act", "intrinsic_reward", "gae", "ppo.update",
          "intrinsic_reward.update", "evaluate", "checkpoint")

# --scenario, --num_envs, --workers, --updates, --device: throughput.py's flags.
flags.DEFINE_string("method", "ppo_plus_ec", "Method to profile.")
flags.DEFINE_integer("rnet_width", 64, "R-network width for ppo_plus_ec / ppo_plus_eco.")
flags.DEFINE_multi_string("bindings", [], "Extra gin bindings (e.g. a precision option).")
flags.DEFINE_integer("top", 15, "Operators listed.")
flags.DEFINE_string("trace", "", "Write a Chrome trace here.")
flags.DEFINE_enum("sort", "device", ["device", "host"],
                  "Operators by self device time, or by self host (CPU) time: host overhead.")
flags.DEFINE_bool("python", False, "cProfile the run instead: the Python functions by own time "
                  "(where a host-bound loop spends its time).")
FLAGS = flags.FLAGS


def _configured(tmp, device) -> RunDir:
    """Gin parsed as the throughput benchmark does for --method; the run directory to train."""
    throughput.configure_training(FLAGS.method, FLAGS.scenario, FLAGS.num_envs, FLAGS.workers,
                                  FLAGS.updates, str(device), tmp, FLAGS.rnet_width,
                                  FLAGS.bindings)
    return RunDir(f"{tmp}/run")


def python_profile(device):
    import cProfile
    import pstats
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = _configured(tmp, device)
        profiler = cProfile.Profile()
        profiler.runcall(trainer.train_policy, run_dir)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(FLAGS.top)


def profile(device):
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = _configured(tmp, device)
        with torch.profiler.profile(activities=activities) as prof:
            trainer.train_policy(run_dir)
    return prof


def print_phases(events):
    by_name = {e.key: e for e in events}
    total = sum(by_name[p].cpu_time_total for p in PHASES if p in by_name)
    print(f"\n{'phase':<26}{'calls':>8}{'host s':>9}{'share':>8}")
    for phase in PHASES:
        if phase in by_name:
            event = by_name[phase]
            print(f"{phase:<26}{event.count:>8}{event.cpu_time_total / 1e6:>9.2f}"
                  f"{event.cpu_time_total / total:>8.1%}")


def main(argv):
    del argv
    device = devices.resolve_device(FLAGS.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    print(f"{FLAGS.method} on {FLAGS.scenario}, {FLAGS.num_envs} envs, device {device}, "
          f"{FLAGS.updates + 1} updates, bindings {FLAGS.bindings or 'none'}")
    if FLAGS.python:
        python_profile(device)
        return
    prof = profile(device)
    events = prof.key_averages()
    print_phases(events)
    sort = ("self_cuda_time_total" if device.type == "cuda" and FLAGS.sort == "device"
            else "self_cpu_time_total")
    print(events.table(sort_by=sort, row_limit=FLAGS.top, max_name_column_width=48))
    if FLAGS.trace:
        prof.export_chrome_trace(FLAGS.trace)


if __name__ == "__main__":
    app.run(main)
