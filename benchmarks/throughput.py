"""Throughput of a scenario: raw environment steps/s and PPO training env steps/s, with ratios.

  python benchmarks/throughput.py --scenario=doom_dense [--updates=3] [--workers=2]

PPO is measured end to end (rollout with acting, GAE, 4 epochs of updates, CSV logging) with the
paper's defaults (12 envs x 256 steps), evaluation off; the first update (warm-up) is not counted.
"""

import csv
import tempfile
import time

import numpy as np
from absl import app, flags

from episodic_curiosity import configuration, envs
from episodic_curiosity.agents import trainer
from episodic_curiosity.launch import methods
from episodic_curiosity.workdir import RunDir

flags.DEFINE_string("scenario", "doom_dense", "Scenario to measure.")
flags.DEFINE_integer("num_envs", 12, "Envs in the vectorised measurements (PPO's num_envs).")
flags.DEFINE_integer("workers", 2, "Subprocess workers for the vectorised env.")
flags.DEFINE_integer("raw_steps", 3000, "Env steps per raw measurement.")
flags.DEFINE_integer("updates", 3, "PPO updates to time (after one warm-up update).")
flags.DEFINE_string("device", "auto", "Torch device for PPO.")
FLAGS = flags.FLAGS


def raw_steps_per_second(scenario, num_envs, workers, total_steps):
    factories = envs.env_factories(scenario, envs.Split.POLICY_TRAINING, range(num_envs))
    with envs.VecEnv(factories, num_workers=workers) as vec:
        vec.reset()
        rng = np.random.default_rng(0)
        iterations = max(1, total_steps // num_envs)
        start = time.perf_counter()
        for _ in range(iterations):
            vec.step(rng.integers(0, vec.action_space.n, num_envs))
        return iterations * num_envs / (time.perf_counter() - start)


def ppo_steps_per_second(scenario, num_envs, workers, updates, device):
    batch = num_envs * 256
    configuration.parse(methods.get("ppo").gin_files, [
        f"train_policy.scenario = '{scenario}'", f"PPOConfig.num_envs = {num_envs}",
        f"train_policy.total_steps = {batch * (updates + 1)}",
        f"train_policy.num_workers = {workers}", f"train_policy.device = '{device}'",
        "train_policy.eval_every_updates = 1000000",
        "train_policy.checkpoint_every_updates = 1000000"])
    with tempfile.TemporaryDirectory() as tmp:
        trainer.train_policy(RunDir(tmp))
        with open(f"{tmp}/progress.csv") as f:
            times = [float(row["timestamp_s"]) for row in csv.DictReader(f)]
    return updates * batch / (times[-1] - times[0])


def main(argv):
    del argv
    s, n, w = FLAGS.scenario, FLAGS.num_envs, FLAGS.workers
    single = raw_steps_per_second(s, 1, 0, FLAGS.raw_steps // 3)
    vector = raw_steps_per_second(s, n, w, FLAGS.raw_steps)
    ppo = ppo_steps_per_second(s, n, w, FLAGS.updates, FLAGS.device)
    rows = [("raw env, 1 env in process", single, 1.0),
            (f"raw env, {n} envs / {w} subprocess workers", vector, vector / single),
            (f"PPO training ({n} envs x 256 steps, 4 epochs)", ppo, ppo / single)]
    print(f"\nscenario {s}")
    print(f"{'measurement':<48}{'env steps/s':>12}{'vs 1 env':>10}")
    for name, value, ratio in rows:
        print(f"{name:<48}{value:>12.0f}{ratio:>9.2f}x")
    print(f"PPO / vectorised raw env: {ppo / vector:.2f}")


if __name__ == "__main__":
    app.run(main)
