"""Binary: play a policy checkpoint on held-out levels; returns and coverage per episode.

  python -m episodic_curiosity.eval_policy --policy_path=/tmp/ec/ppo/doom_dense/run_number_0 \
      --split=test --num_episodes=20 --save_dataset --include_images

Writes to --output_dir (default: <run dir>/eval_<split>/): episodes.csv (episode, level_seed,
return, length, cells_visited, distance_travelled), dataset.npz with --save_dataset (per step:
episode, step, action, reward, terminated, truncated, agent_xy; observations with
--include_images) and episode_<i>.mp4 for the first --num_videos episodes.
"""

import csv
import pathlib

import numpy as np
import torch
from absl import flags

from episodic_curiosity import cli, envs
from episodic_curiosity.analysis import evaluate, policy as policy_lib, video
from episodic_curiosity.devices import resolve_device
from episodic_curiosity.errors import UsageError

flags.DEFINE_string("policy_path", None, "Policy checkpoint: a run directory, its checkpoints/ "
                    "or a ckpt_<step>.pt.", required=True)
flags.DEFINE_string("scenario", None, "Scenario (default: the policy's; must have its actions).")
flags.DEFINE_enum("split", "validation", ["validation", "test"], "Held-out level seeds to play.")
flags.DEFINE_integer("num_episodes", 10, "Episodes; episode i plays the split's level i.")
flags.DEFINE_integer("max_steps", None, "Cut episodes after this many steps (default: the "
                     "scenario's episode length).")
flags.DEFINE_bool("greedy", False, "Most likely action instead of sampling (the trainer's "
                  "evaluation samples).")
flags.DEFINE_string("output_dir", None, "Where to write (default: <run dir>/eval_<split>).")
flags.DEFINE_bool("save_dataset", False, "Write dataset.npz: actions, rewards, positions.")
flags.DEFINE_bool("include_images", False, "Add the observations to dataset.npz (implies "
                  "--save_dataset).")
flags.DEFINE_integer("num_videos", 1, "MP4s of the first this many episodes.")
flags.DEFINE_string("device", "auto", "cpu, cuda or auto.")
flags.DEFINE_integer("torch_threads", 1, "CPU threads for torch (0: torch's default).")
flags.DEFINE_integer("seed", 0, "Seeds the policy's action sampling: reruns repeat the episodes.")
FLAGS = flags.FLAGS


def default_output_dir(checkpoint_file: pathlib.Path, split: str) -> pathlib.Path:
    directory = checkpoint_file.parent
    run_dir = directory.parent if directory.name == "checkpoints" else directory
    return run_dir / f"eval_{split}"


def main(argv):
    del argv
    policy_lib.set_torch_threads(FLAGS.torch_threads)
    torch.manual_seed(FLAGS.seed)
    if FLAGS.num_episodes < 1:
        raise UsageError(f"--num_episodes must be >= 1, got {FLAGS.num_episodes}")
    policy = policy_lib.load(FLAGS.policy_path, resolve_device(FLAGS.device))
    spec = policy_lib.scenario_for(policy, FLAGS.scenario)
    out = pathlib.Path(FLAGS.output_dir or default_output_dir(policy.path, FLAGS.split))
    out.mkdir(parents=True, exist_ok=True)
    result = evaluate.evaluate(policy, spec.name, envs.Split[FLAGS.split.upper()],
                               FLAGS.num_episodes, FLAGS.greedy, FLAGS.include_images,
                               min(FLAGS.num_videos, FLAGS.num_episodes), FLAGS.max_steps)
    with open(out / "episodes.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, evaluate.EPISODE_COLUMNS)
        writer.writeheader()
        writer.writerows(result.episodes)
    if FLAGS.save_dataset or FLAGS.include_images:
        evaluate.save_dataset(out / "dataset.npz", result.dataset)
    for i, frames in enumerate(result.videos):
        video.write_mp4(out / f"episode_{i}.mp4", video.upscale(frames))
    returns = [row["return"] for row in result.episodes]
    print(f"{spec.name} {FLAGS.split}: return {np.mean(returns):.3f} ± {np.std(returns):.3f} "
          f"over {len(returns)} episodes of the policy at step {policy.step} ({policy.path}); "
          f"wrote {out}")


if __name__ == "__main__":
    cli.run(main)
