"""Binary: videos of a policy with the curiosity bonus drawn on them, one MP4 per episode.

  python -m episodic_curiosity.visualize_curiosity_reward --workdir=/tmp/videos \
      --policy_path=/tmp/ec/ppo_plus_ec/doom_dense/run_number_0 \
      --r_net_weights=/tmp/ec/ppo_plus_ec/doom_dense/run_number_0/r_networks

Each frame: the first-person view (what the policy saw) with a bar of the EC bonus under it, and
the top-down map with the trajectory coloured by the bonus (green novel, red familiar) and purple
rings where the frames held in episodic memory were seen. Without --r_net_weights the bar shows
the task reward. Any method's checkpoint works; the bonus's parameters are the ppo_plus_ec gin
defaults plus the scenario's gin file plus --gin_bindings.
"""

import json
import pathlib

import cv2
import torch
from absl import flags

from episodic_curiosity import cli, configuration, envs
from episodic_curiosity.analysis import episode_video, policy as policy_lib, video
from episodic_curiosity.analysis.curiosity_trace import CuriosityTrace, TaskRewardTrace
from episodic_curiosity.devices import resolve_device
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import local, methods
from episodic_curiosity.progress import Progress

flags.DEFINE_string("workdir", "/tmp", "Directory for video_<i>.mp4 and trajectory_<i>.json.")
flags.DEFINE_string("r_net_weights", "", "R-network (r_network.pt or the r_networks/ directory "
                    "holding it): draw the EC bonus. Empty: the task reward.")
flags.DEFINE_string("policy_path", "", "Policy checkpoint: a run directory, its checkpoints/ or "
                    "a ckpt_<step>.pt. Not needed with --trajectory_mode=load.")
flags.DEFINE_integer("num_episodes", 2, "Episodes, one video each.")
flags.DEFINE_integer("num_steps", 2000, "At most this many steps per episode.")
flags.DEFINE_enum("visualization_type", "surrogate_reward", ["surrogate_reward", "observation"],
                  "surrogate_reward: view + bonus bar + map; observation: the view alone.")
flags.DEFINE_enum("trajectory_mode", "save", ["do_nothing", "save", "load"],
                  "save: also write the actions to trajectory_<i>.json; load: replay them "
                  "instead of the policy (e.g. the same path with another R-network).")
flags.DEFINE_string("scenario", None, "Scenario (default: the policy's).")
flags.DEFINE_enum("split", "validation", ["validation", "test", "policy_training"],
                  "Level seeds to play: episode i uses the split's level i + --first_level.")
flags.DEFINE_integer("first_level", 0, "Index of the first episode's level in the split.")
flags.DEFINE_bool("greedy", False, "Most likely action instead of sampling.")
flags.DEFINE_string("device", "auto", "cpu, cuda or auto.")
flags.DEFINE_integer("torch_threads", 1, "CPU threads for torch (0: torch's default).")
flags.DEFINE_integer("seed", 7, "Seeds the policy's action sampling: reruns repeat the episodes.")
flags.DEFINE_integer("fps", 15, "Video frames per second (15 = DMLab's agent steps per second).")
flags.DEFINE_integer("frame_strip", 0, "Also write video_<i>_strip.png: this many evenly spaced "
                     "frames side by side (a still for a README or a paper; 0: none).")
cli.define_gin_flags()
FLAGS = flags.FLAGS


def _actions(path: pathlib.Path):
    if FLAGS.trajectory_mode != "load":
        return None
    if not path.is_file():
        raise UsageError(f"--trajectory_mode=load but {path} does not exist; record it first "
                         "with --trajectory_mode=save")
    return json.loads(path.read_text())


def main(argv):
    del argv
    policy_lib.set_torch_threads(FLAGS.torch_threads)
    torch.manual_seed(FLAGS.seed)
    device = resolve_device(FLAGS.device)
    if not FLAGS.policy_path and FLAGS.trajectory_mode != "load":
        raise UsageError("--policy_path is required (or --trajectory_mode=load to replay actions)")
    policy = policy_lib.load(FLAGS.policy_path, device) if FLAGS.policy_path else None
    spec = policy_lib.scenario_for(policy, FLAGS.scenario)
    # The bonus as ppo_plus_ec trains it on this scenario (e.g. Ant's beta), then the user's.
    configuration.parse(local.gin_files(methods.get("ppo_plus_ec"), spec.name, None),
                        FLAGS.gin_bindings)
    trace = (CuriosityTrace(FLAGS.r_net_weights, spec, device) if FLAGS.r_net_weights
             else TaskRewardTrace())
    split = envs.Split[FLAGS.split.upper()]
    obs_size = policy.meta["obs_shape"][0] if policy else 84
    workdir = pathlib.Path(FLAGS.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # Every replayed trajectory is read first: a missing one is refused before any video.
    recorded = [_actions(workdir / f"trajectory_{e}.json") for e in range(FLAGS.num_episodes)]
    with Progress(FLAGS.num_episodes, f"videos {spec.name}", unit="episodes") as bar:
        for episode, saved in enumerate(recorded):
            trajectory = workdir / f"trajectory_{episode}.json"

            def choose(obs, t):
                if saved is not None:
                    if t >= len(saved):
                        raise UsageError(f"{trajectory} holds {len(saved)} actions, fewer than "
                                         "--num_steps")
                    return int(saved[t])
                return policy.act(obs, FLAGS.greedy, start=t == 0)

            # The raw frame rides along in info: the R-network's view (EpisodicCuriosity.view).
            env = envs.make_env(spec.name, split, FLAGS.first_level + episode, obs_size,
                                keep_raw_obs=True)
            try:
                record = episode_video.record_episode(
                    env, spec, choose, trace,
                    min(FLAGS.num_steps, len(saved)) if saved is not None else FLAGS.num_steps,
                    observation_only=FLAGS.visualization_type == "observation")
            finally:
                env.close()
            path = workdir / f"video_{episode}.mp4"
            video.write_mp4(path, record.frames, FLAGS.fps)
            if FLAGS.frame_strip:
                strip = video.frame_strip(record.frames, FLAGS.frame_strip)
                cv2.imwrite(str(workdir / f"video_{episode}_strip.png"),
                            cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
            if FLAGS.trajectory_mode == "save":
                trajectory.write_text(json.dumps(record.actions))
            print(f"wrote {path} ({len(record.frames)} frames)")
            bar.update(1)


if __name__ == "__main__":
    cli.run(main)
