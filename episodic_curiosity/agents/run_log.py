"""Logging of a training run: reward CSVs, progress.csv, TensorBoard and the terminal line.

Every sink is resumable: opened at the checkpoint's step, rows and events written after it by a
killed run are dropped (the CSVs cut them, TensorBoard purges them).
"""

import collections
import logging
import time

import numpy as np
from absl import logging as absl_logging
from torch.utils.tensorboard import SummaryWriter

from episodic_curiosity import progress, wandb_sink
from episodic_curiosity.csv_log import ResumableCsv, RewardCsv
from episodic_curiosity.workdir import RunDir

PROGRESS_COLUMNS = ["step", "update", "fps", "learning_rate", "clip_coef", "policy_loss",
                    "value_loss", "entropy", "clip_fraction", "approx_kl", "episode_return",
                    "episode_length", "cells_visited", "distance_travelled", "rooms_visited",
                    "success", "episodes", "timestamp_s"]
EPISODE_STATS = ("return", "length", "cells_visited", "distance_travelled", "rooms_visited",
                 "success")
SPLITS = ("train", "valid", "test")
# reward_train.csv is the mean return of the last 100 training episodes (baselines' eprewmean,
# which the original reports as the training metric).
TRAIN_REWARD_WINDOW = 100


def _success_rate(episodes) -> float:
    return float(np.mean([e.get("success", 0.0) for e in episodes]))


def eta(seconds) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


class RunLogger:
    """The sinks of one run directory, opened for a run resuming at `step`."""

    def __init__(self, run_dir: RunDir, step: int, bonus_stat_names=(), total_steps=None,
                 description="train", config_text="", log_success: bool = False):
        # progress.csv first: its columns are the ones that can refuse a run directory, and a
        # refused one must be left as it was.
        self.bonus_columns = [f"intrinsic_{n}" for n in bonus_stat_names]
        self.progress = ResumableCsv(run_dir.progress_csv, PROGRESS_COLUMNS + self.bonus_columns,
                                     step)
        self._file_handler = logging.FileHandler(run_dir.log_txt)
        self._file_handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        absl_logging.get_absl_logger().addHandler(self._file_handler)
        self.rewards = {s: RewardCsv(run_dir.reward_csv(s), s, step) for s in SPLITS}
        # Tasks with a goal (MiniGrid): the share of episodes that reached it, per split.
        self.success = ({s: RewardCsv(run_dir.reward_csv(s, "success"), s, step, "success")
                         for s in SPLITS} if log_success else {})
        # A fresh run (step -1) purges everything a killed earlier attempt logged, from step 0.
        self.board = SummaryWriter(run_dir.tensorboard, purge_step=max(step, 0))
        self.recent = collections.deque(maxlen=TRAIN_REWARD_WINDOW)
        # A live bar on a terminal (the per-update lines then go to log.txt only), plain log lines
        # elsewhere (CI, cloud VMs); W&B only when --wandb_project asked for it.
        self.bar = (progress.Progress(total_steps, description, unit="steps", initial=max(step, 0))
                    if total_steps and progress.interactive() else None)
        self.sink = wandb_sink.open_sink(run_dir, config=config_text, resume_step=max(step, 0))

    def update(self, step: int, update: int, fps: float, learner_stats: dict,
               finished: list[dict], bonus_stats: dict) -> None:
        """One PPO update: progress.csv row, TensorBoard scalars, reward_train row."""
        self.recent.extend(finished)
        if finished:
            self.rewards["train"].add(step, np.mean([e["return"] for e in self.recent]))
            if self.success:
                self.success["train"].add(step, _success_rate(self.recent))
        episode = {k: np.mean([e[k] for e in finished if k in e])
                   if any(k in e for e in finished) else "" for k in EPISODE_STATS}
        bonus = {f"intrinsic_{k}": v for k, v in bonus_stats.items()}
        self.progress.write(
            step, update=update, fps=f"{fps:.1f}", episodes=len(finished),
            timestamp_s=f"{time.time():.3f}",
            **{k: f"{v:.6g}" for k, v in learner_stats.items()},
            **{f"episode_{k}" if k in ("return", "length") else k: v for k, v in episode.items()},
            **{k: f"{v:.6g}" for k, v in bonus.items()})
        scalars = {"charts/fps": fps,
                   "charts/learning_rate": learner_stats["learning_rate"],
                   **{f"losses/{k}": v for k, v in learner_stats.items()
                      if k not in ("learning_rate", "clip_coef")},
                   **{f"charts/episode_{k}": v for k, v in episode.items() if v != ""},
                   **{f"intrinsic/{k}": float(v) for k, v in bonus_stats.items()}}
        for tag, value in scalars.items():
            self.board.add_scalar(tag, value, step)
        if self.sink is not None:
            self.sink.log(scalars, step)

    def console(self, step, total_steps, update, num_updates, fps, entropy) -> None:
        """The per-update line: to stderr and log.txt, or, under a live bar, to log.txt only."""
        last = f"{np.mean([e['return'] for e in self.recent]):.3f}" if self.recent else "n/a"
        line = (f"step {step}/{total_steps} | update {update}/{num_updates} | {fps:.0f} steps/s | "
                f"ETA {eta((total_steps - step) / max(fps, 1e-9))} | return {last} (last "
                f"{len(self.recent)} episodes) | entropy {entropy:.3f}")
        if self.bar is None:
            absl_logging.info(line)
            return
        self.bar.update_to(step, ret=last)
        self._file_handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO,
                                                         "levelname": "INFO"}))

    def evaluation(self, split: str, step: int, episodes: list[dict]) -> None:
        """The held-out episodes of one evaluation: mean return (and success rate)."""
        mean_return = float(np.mean([e["return"] for e in episodes]))
        self.rewards[split].add(step, mean_return)
        self.board.add_scalar(f"charts/reward_{split}", mean_return, step)
        success = ""
        if self.success:
            rate = _success_rate(episodes)
            self.success[split].add(step, rate)
            self.board.add_scalar(f"charts/success_{split}", rate, step)
            success = f", success {rate:.3f}"
        absl_logging.info("eval %s: return %.3f%s over %d episodes", split, mean_return, success,
                          len(episodes))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.sink is not None:
            self.sink.close()
        self.board.close()
        for f in list(self.rewards.values()) + list(self.success.values()) + [self.progress]:
            f.close()
        absl_logging.get_absl_logger().removeHandler(self._file_handler)
        self._file_handler.close()


class SilentLogger:
    """A rank > 0's logger: it keeps the return window's shape and writes nothing (rank 0 logs
    every rank's episodes, gathered by the loop)."""

    def __init__(self):
        self.recent = collections.deque(maxlen=TRAIN_REWARD_WINDOW)

    def update(self, step, update, fps, learner_stats, finished, bonus_stats) -> None:
        del step, update, fps, learner_stats, bonus_stats
        self.recent.extend(finished)

    def console(self, *args) -> None:
        del args

    def evaluation(self, *args) -> None:
        del args

    def close(self) -> None:
        pass
