"""The training loop as an object: collect -> GAE -> PPO update -> the intrinsic reward's own
update -> log, then evaluate and checkpoint on their cadence.

It receives its collaborators ready-made (the trainer builds them from gin and the run
directory), as Acme's EnvironmentLoop does, so each can be replaced or tested alone and the loop
reads as the algorithm.

Many ranks: each runs this loop on its own envs in lockstep; the ranks agree on a stop signal at
the same update boundary (any rank's), and rank 0's log sees every rank's finished episodes.
"""

import contextlib
import dataclasses
import time
from typing import Callable

import torch
from torch.profiler import record_function

from episodic_curiosity import distributed, errors


@dataclasses.dataclass(frozen=True)
class Cadence:
    num_updates: int
    eval_every_updates: int
    checkpoint_every_updates: int
    update_threads: int = 0  # torch threads for the PPO update (0: as they are)

    def due(self, update: int, every: int) -> bool:
        return update % every == 0 or update == self.num_updates


class TrainingLoop:
    """Args:
      collector: fills `rollout` (agents/collector.py: plain or double-buffered).
      learner: ppo.PPOLearner (schedule, advantages, update).
      intrinsic: the run's IntrinsicReward (NoIntrinsicReward for plain PPO).
      log: agents/run_log.RunLogger.
      evaluate: step -> None, plays the held-out splits and logs them.
      save: (step, update) -> None, writes a checkpoint.
    """

    def __init__(self, collector, learner, rollout, intrinsic, log,
                 evaluate: Callable[[int], None], save: Callable[[int, int], None],
                 batch_size: int, cadence: Cadence):
        self.collector, self.learner, self.rollout = collector, learner, rollout
        self.intrinsic, self.log = intrinsic, log
        self.evaluate, self.save = evaluate, save
        self.batch_size, self.cadence = batch_size, cadence

    def run(self, step: int, update: int) -> int:
        """Trains from (step, update) to the last update; returns the final step."""
        self.collector.start()
        if update == 0:
            if self.intrinsic.warmup_env_steps:
                self.collector.warmup(self.intrinsic.warmup_env_steps)
            self.evaluate(step)
        start_time, start_step = time.time(), step
        with errors.deferred_stop():
            return self._updates(step, update, start_time, start_step)

    def _updates(self, step, update, start_time, start_step) -> int:
        """The update loop; a SIGINT / SIGTERM (errors.deferred_stop) ends it between two updates,
        after a checkpoint of the last one, with errors.Stopped."""
        saved = update  # a resumed run's checkpoint is this update's
        while update < self.cadence.num_updates:
            if signum := distributed.any_rank(errors.stop_requested()):
                self._stop(signum, step, update, saved)
            clip_coef, losses, finished = self._train_once(update)
            update += 1
            step += self.batch_size
            with record_function("intrinsic_reward.update"):
                self.intrinsic.update(step)
            fps = (step - start_step) / max(time.time() - start_time, 1e-9)
            self._log(step, update, fps, clip_coef, losses, finished)
            if self.cadence.due(update, self.cadence.eval_every_updates):
                self.evaluate(step)
            if self.cadence.due(update, self.cadence.checkpoint_every_updates):
                self.save(step, update)
                saved = update
        return step

    def _stop(self, signum: int, step: int, update: int, saved: int):
        name = errors.signal_name(signum)
        if update == 0:  # nothing trained: a step-0 checkpoint would only make a fresh run odd
            raise errors.Stopped(signum, f"stopped by {name} before the first update; rerun the "
                                         "same command to start the run")
        if saved != update:
            self.save(step, update)
        raise errors.Stopped(signum, f"stopped by {name} at step {step}; rerun the same command "
                                     "to resume")

    def _train_once(self, update: int):
        """One rollout and one PPO update on it: (clip coefficient, losses, finished episodes)."""
        clip_coef = self.learner.schedule(update / self.cadence.num_updates)
        finished = distributed.gather_objects(self.collector.collect())
        with record_function("gae"):
            advantages, returns = self.learner.advantages(
                self.rollout, self.collector.last_value(), self.collector.done)
        with record_function("ppo.update"), threads(self.cadence.update_threads):
            pack = self.rollout.sequences if self.learner.recurrent else self.rollout.flat
            losses = self.learner.update(pack(advantages, returns), clip_coef)
        return clip_coef, losses, finished

    def _log(self, step, update, fps, clip_coef, losses, finished):
        lr = self.learner.optimizer.param_groups[0]["lr"]
        self.log.update(step, update, fps, {"learning_rate": lr, "clip_coef": clip_coef, **losses},
                        finished, self.intrinsic.stats())
        self.log.console(step, self.cadence.num_updates * self.batch_size, update,
                         self.cadence.num_updates, fps, losses["entropy"])


@contextlib.contextmanager
def threads(count: int):
    """torch's intra-op threads set to `count` inside the block (0: left as they are)."""
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
