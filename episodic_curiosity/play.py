"""Binary: play any scenario with the keyboard, to feel a task before training on it.

  python -m episodic_curiosity.play --scenario=doom_dense
  python -m episodic_curiosity.play --scenario=sparse --method=ppo_plus_ec \
      --r_net_weights=/tmp/ec/ppo_plus_ec/sparse/run_number_0/r_networks
  python -m episodic_curiosity.play --scenario=minigrid_doorkey_8x8 --method=ppo_plus_ride \
      --run_dir=/tmp/mg/ppo_plus_ride/minigrid_doorkey_8x8/run_number_0

One key press is one agent step: the arrow keys move (forward, backward, turn left and right, in
the engine's own action names), every other action has a number or letter key, all shown under
the frame; Tab ends the episode, Esc or closing the window ends the session. The window shows the
player's view with a bar (the task reward, or with --method the intrinsic bonus, EC's with its
memory size) beside the map of the episode. Each episode is recorded in --output_dir: an mp4,
a row of episodes.csv (eval_policy's columns, so a human's coverage plots beside the agents') and
its steps in steps.csv; a later session appends to them. Headless (SDL_VIDEODRIVER=dummy),
--keys plays a scripted sequence of key names and ends the session after it.
"""

import csv
import os
import pathlib

import numpy as np
import torch
from absl import flags

from episodic_curiosity import cli, configuration, envs
from episodic_curiosity.analysis import episode_video, evaluate, policy as policy_lib, video
from episodic_curiosity.analysis.curiosity_trace import BonusTrace, CuriosityTrace, TaskRewardTrace
from episodic_curiosity.envs import actions as action_lib
from episodic_curiosity.errors import UsageError, load_error_summary
from episodic_curiosity.launch import local, methods

flags.DEFINE_string("scenario", None, "Scenario to play (python -m episodic_curiosity.envs --list).")
flags.DEFINE_enum("split", "test", ["validation", "test", "policy_training"],
                  "Level seeds: episode i plays the split's level --first_level + i.")
flags.DEFINE_integer("first_level", 0, "Index in the split of the first episode's level.")
flags.DEFINE_integer("num_episodes", 1, "Episodes to play (Esc ends the session earlier).")
flags.DEFINE_string("method", "", "Show this method's intrinsic bonus (its gin defaults).")
flags.DEFINE_string("run_dir", "", "With --method: a run of that method; its newest checkpoint's "
                    "trained reward state is loaded (ppo_plus_ec: its r_networks/).")
flags.DEFINE_string("r_net_weights", "", "ppo_plus_ec: the R-network (r_network.pt or its dir).")
flags.DEFINE_string("output_dir", "", "Where episodes are recorded (default /tmp/play/<scenario>).")
flags.DEFINE_list("keys", [], "Scripted key names (e.g. up,up,left,tab): played, then the session "
                  "ends; for headless runs and tests.")
flags.DEFINE_integer("fps", 15, "Frames per second of the recorded videos.")
cli.define_gin_flags()
flags.mark_flag_as_required("scenario")
FLAGS = flags.FLAGS

ARROWS = {"forward": "up", "backward": "down", "left": "left", "right": "right"}
SPARE_KEYS = "1234567890qwertyuiopasdfghjklzxcvbnm"
LEGEND_HEIGHT = 58


def key_bindings(names: list[str]) -> dict[str, int]:
    """Key name -> action: arrows for the moves the engine has, then one spare key per action."""
    moves = action_lib.move_index(names)
    bindings = {ARROWS[move]: index for move, index in moves.items()}
    spare = iter(SPARE_KEYS)
    for index in range(len(names)):
        if index not in moves.values():
            bindings[next(spare)] = index
    return bindings


def legend(bindings: dict[str, int], names: list[str]) -> str:
    return "  ".join(f"{key}: {names[index]}" for key, index in bindings.items())


class Keyboard:
    """The window: shows each frame and turns key presses into actions."""

    def __init__(self, bindings, names, frame_shape, scripted_keys):
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame  # imported on use: only this binary needs a window
        self.pg = pygame
        pygame.display.init()  # no mixer: the game has no sound to play
        pygame.font.init()
        try:
            size = (frame_shape[1], frame_shape[0] + LEGEND_HEIGHT)
            self.screen = pygame.display.set_mode(size)
        except pygame.error as e:
            pygame.quit()
            raise UsageError(f"no display to play on ({e}); run it where a window can open, or "
                             "headless with SDL_VIDEODRIVER=dummy and --keys=<key names>") from e
        pygame.display.set_caption(f"episodic_curiosity.play: {FLAGS.scenario}")
        self.font = pygame.font.Font(None, 18)
        self.codes = {pygame.key.key_code(key): index for key, index in bindings.items()}
        self.lines = _wrap(legend(bindings, names) + "  tab: end episode  esc: quit", 110)
        self.scripted = scripted_keys is not None
        for key in scripted_keys or []:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key)))
        self.status, self.pending = "", []

    def show(self, frame: np.ndarray) -> None:
        pg = self.pg
        self.screen.fill((255, 255, 255))
        self.screen.blit(pg.surfarray.make_surface(frame.swapaxes(0, 1)), (0, 0))
        for i, line in enumerate([self.status, *self.lines]):
            text = self.font.render(line, True, (0, 0, 0))
            self.screen.blit(text, (6, frame.shape[0] + 4 + 13 * i))
        pg.display.flip()

    def choose(self, obs, t) -> int:
        """The next key press's action; events arrive in batches, so the rest wait in order."""
        pg = self.pg
        while True:
            if not self.pending:
                self.pending = pg.event.get()
                if not self.pending and self.scripted:
                    raise episode_video.EndEpisode(quit_session=True)  # the script is played
            while self.pending:
                event = self.pending.pop(0)
                if event.type == pg.QUIT or (event.type == pg.KEYDOWN
                                             and event.key == pg.K_ESCAPE):
                    raise episode_video.EndEpisode(quit_session=True)
                if event.type == pg.KEYDOWN and event.key == pg.K_TAB:
                    raise episode_video.EndEpisode()
                if event.type == pg.KEYDOWN and event.key in self.codes:
                    return self.codes[event.key]
            pg.time.wait(10)

    def close(self):
        self.pg.quit()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split("  "):
        if line and len(line) + len(word) + 2 > width:
            lines.append(line)
            line = ""
        line = f"{line}  {word}" if line else word
    return lines + [line]


def make_trace(spec, device):
    """What the bar shows: EC's bonus (an R-network), another method's bonus, or the task
    reward; with the method's gin defaults for this scenario and --gin_bindings."""
    if not FLAGS.method:
        if FLAGS.run_dir or FLAGS.r_net_weights:
            raise UsageError("--run_dir and --r_net_weights need --method (e.g. ppo_plus_ec)")
        return TaskRewardTrace()
    method = methods.get(FLAGS.method)
    configuration.parse(local.gin_files(method, spec.name, None), FLAGS.gin_bindings)
    if method.name == "ppo_plus_ec":
        weights = FLAGS.r_net_weights or (FLAGS.run_dir and f"{FLAGS.run_dir}/r_networks")
        if not weights:
            raise UsageError("--method=ppo_plus_ec needs --r_net_weights or --run_dir (a run "
                             "holding r_networks/)")
        return CuriosityTrace(weights, spec, device)
    reward = configuration.query("train_policy.intrinsic_reward", None)
    if reward is None:
        raise UsageError(f"--method={method.name} has no intrinsic reward; drop --method")
    module = reward.scoped_configurable_fn(num_envs=1, scenario=spec, device=device)
    if FLAGS.run_dir:
        _load_reward_state(module, FLAGS.run_dir)
    return BonusTrace(module, f"{method.name} bonus")


def _load_reward_state(module, run_dir):
    file, state = policy_lib.read(run_dir, "--run_dir")
    trained = state["meta"].get("intrinsic_reward")
    if trained != type(module).__name__:
        raise UsageError(f"{file} holds a {trained} reward, not {type(module).__name__}; pass a "
                         "run of the same --method")
    try:
        module.load_state_dict(state.get("intrinsic_reward", {}))
    except (RuntimeError, KeyError, ValueError) as e:
        raise UsageError(f"{file}: its reward state does not load into one env "
                         f"({load_error_summary(e, 160)})") from e


class Recorder:
    """episodes.csv and steps.csv of --output_dir, appended; one mp4 per episode."""

    def __init__(self, directory: pathlib.Path, cell_size: float):
        self.directory, self.cell_size = directory, cell_size
        directory.mkdir(parents=True, exist_ok=True)
        self.next_episode = self._count(directory / "episodes.csv")

    @staticmethod
    def _count(path) -> int:
        if not path.is_file():
            return 0
        with open(path, newline="") as f:
            return sum(1 for _ in csv.DictReader(f))

    def _append(self, name, columns, rows):
        path = self.directory / name
        new = not path.is_file()
        with open(path, "a", newline="") as f:
            writer = csv.DictWriter(f, columns)
            if new:
                writer.writeheader()
            writer.writerows(rows)

    def save(self, record, level_seed: int) -> pathlib.Path:
        episode = self.next_episode
        self.next_episode += 1
        path = self.directory / f"episode_{episode}.mp4"
        video.write_mp4(path, record.frames, FLAGS.fps)
        self._append("episodes.csv", evaluate.EPISODE_COLUMNS,
                     [record.summary(episode, level_seed, self.cell_size)])
        self._append("steps.csv", episode_video.STEP_COLUMNS, record.step_rows(episode))
        return path


def play_episode(spec, keyboard, trace, level, split):
    env = envs.make_env(spec.name, split, level, keep_raw_obs=True)

    def on_frame(frame, record):
        keyboard.status = (f"{spec.name}  level {level}  step {len(record.actions)}  "
                           f"return {np.sum(record.rewards):.2f}")
        keyboard.show(frame)

    try:
        return episode_video.record_episode(env, spec, keyboard.choose, trace, None,
                                            on_frame=on_frame)
    finally:
        env.close()


def main(argv):
    del argv
    torch.set_num_threads(1)
    spec = envs.get(FLAGS.scenario)
    device = torch.device("cpu")
    trace = make_trace(spec, device)
    probe = envs.make_env(spec.name, envs.Split.TEST, 0)
    names = action_lib.action_names(probe, spec.engine)
    probe.close()
    bindings = key_bindings(names)
    unknown = [k for k in FLAGS.keys if k not in bindings and k not in ("tab", "escape")]
    if unknown:
        raise UsageError(f"--keys: {unknown} are not keys of {spec.name}; its keys: "
                         f"{legend(bindings, names)}, tab, escape")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("SDL_VIDEODRIVER")):
        raise UsageError("no display to play on (DISPLAY is not set); run it where a window can "
                         "open, or headless with SDL_VIDEODRIVER=dummy and --keys=<key names>")
    recorder = Recorder(pathlib.Path(FLAGS.output_dir or f"/tmp/play/{spec.name}"),
                        spec.oracle_cell)
    frame_shape = (video.HEIGHT, video.VIEW + video.MAP)
    keyboard = Keyboard(bindings, names, frame_shape, FLAGS.keys if FLAGS.keys else None)
    split = envs.Split[FLAGS.split.upper()]
    try:
        for i in range(FLAGS.num_episodes):
            level = FLAGS.first_level + recorder.next_episode
            record = play_episode(spec, keyboard, trace, level, split)
            if record.actions:
                path = recorder.save(record, envs.level_seed(split, level))
                print(f"episode {recorder.next_episode - 1}: return "
                      f"{np.sum(record.rewards):.3f} in {len(record.actions)} steps; wrote {path}")
            if record.ended_by is not None and record.ended_by.quit_session:
                break
    finally:
        keyboard.close()


if __name__ == "__main__":
    cli.run(main)
