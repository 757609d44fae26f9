"""One episode played by any chooser (a policy, a replayed trajectory, a human at the keyboard),
composed frame by frame: the player's view with the bonus bar, beside the top-down map with the
trajectory coloured by the bonus and the positions held in episodic memory.

Shared by visualize_curiosity_reward (videos of a policy) and play (a human player), so both draw
the same picture and record the same per-step values.
"""

import dataclasses

import numpy as np

from episodic_curiosity.analysis import maps, policy as policy_lib, video
from episodic_curiosity.envs import coverage, gallery

STEP_COLUMNS = ["episode", "step", "action", "reward", "bonus", "x", "y"]


class EndEpisode(Exception):
    """Raised by a chooser to end the episode where it stands (a player's key); `quit` ends the
    session too. The steps played so far are kept."""

    def __init__(self, quit_session: bool = False):
        super().__init__("episode ended by the chooser")
        self.quit_session = quit_session


@dataclasses.dataclass
class EpisodeRecord:
    frames: list  # uint8 [H, W, 3], the reset's frame first
    actions: list
    rewards: list
    values: list  # the trace's value per step (EC bonus, a method's bonus, or the task reward)
    positions: list  # info["agent_xy"] after each step
    last_info: dict
    start: tuple = (0.0, 0.0)  # info["agent_xy"] at the reset
    ended_by: EndEpisode | None = None  # the chooser ended it early (see EndEpisode)

    def summary(self, episode: int, level_seed: int, cell_size: float) -> dict:
        """A row of eval_policy's episodes.csv: the same columns for a human as for a policy;
        an episode ended early is summed up here as the episode wrapper would have."""
        stats = self.last_info.get("episode")
        if stats is None:
            xy = np.asarray(self.positions, np.float64).reshape(-1, 2)
            start = np.asarray(self.start, np.float64)
            stats = {"return": float(np.sum(self.rewards)), "length": len(self.actions),
                     "cells_visited": len({coverage.cell_of(p, cell_size) for p in xy}),
                     "distance_travelled": float(np.max(np.linalg.norm(xy - start, axis=1),
                                                        initial=0.0))}
        return {"episode": episode, "level_seed": level_seed,
                **{k: stats[k] for k in ("return", "length", "cells_visited",
                                         "distance_travelled")}}

    def step_rows(self, episode: int) -> list[dict]:
        return [{"episode": episode, "step": t, "action": a, "reward": r, "bonus": v,
                 "x": float(xy[0]), "y": float(xy[1])}
                for t, (a, r, v, xy) in enumerate(zip(self.actions, self.rewards, self.values,
                                                      self.positions))]


def compose(view, value, panel, trace, memory, t, observation_only=False):
    """One frame: the view (4x) with the trace's bar; beside it the map with `memory` marked."""
    if observation_only:
        return video.upscale(view[None])[0]
    bar = video.view_with_bar(view, value, trace.scale,
                              trace.label + ("" if value is None else f" {value:+.4f}"))
    text = f"step {t}" + (f"  memory {len(memory)}/{trace.capacity}" if trace.capacity else "")
    return np.concatenate([bar, panel.render(memory, text)], axis=1)


def record_episode(env, scenario, choose, trace, num_steps, observation_only=False,
                   on_frame=None) -> EpisodeRecord:
    """Plays one episode with `choose(obs, t)`; `trace` gives the bar's value per step and
    `on_frame(frame, record)` sees each frame as soon as it is drawn (a live window)."""
    steps = policy_lib.play(env, choose, num_steps)
    obs, info = next(steps)
    start = info.get("agent_xy", (0, 0))
    panel = video.MapPanel(maps.for_env(env, start, video.MAP), trace.scale)
    trace.begin(obs, info)
    panel.step(start, None)
    record = EpisodeRecord([], [], [], [], [], info, tuple(start))

    def add(frame):
        record.frames.append(frame)
        if on_frame is not None:
            on_frame(frame, record)

    add(compose(gallery.picture(env, obs, scenario)[0], None, panel, trace, trace.memory_xy(),
                0, observation_only))
    try:
        _play_steps(env, scenario, steps, trace, panel, record, add, observation_only)
    except EndEpisode as end:
        record.ended_by = end
    return record


def _play_steps(env, scenario, steps, trace, panel, record, add, observation_only):
    for t, step in enumerate(steps, start=1):
        memory = trace.memory_xy()
        value = trace.step(step)
        if not (step.terminated or step.truncated):  # the last step resets the memory: keep it
            memory = trace.memory_xy()
        xy = step.info.get("agent_xy", (np.nan, np.nan))
        panel.step(step.info.get("agent_xy", (0, 0)), trace.colour_value(value))
        record.actions.append(step.action)
        record.rewards.append(step.reward)
        record.values.append(value)
        record.positions.append(xy)
        record.last_info = step.info
        add(compose(gallery.picture(env, step.next_obs, scenario)[0], value, panel, trace,
                    memory, t, observation_only))
