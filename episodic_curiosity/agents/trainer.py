"""Builds one training run from gin and its run directory, then runs `loop.TrainingLoop`.

The rooms along the data path: `collector` (envs + intrinsic reward -> rollout),
`ppo.PPOLearner` (PPO on a rollout), `run_log.RunLogger` (CSVs, TensorBoard, terminal),
`run_state` (checkpoint and resume), `loop.TrainingLoop` (the algorithm's order). This module is
the one place configuration becomes those objects.

Resumable: a rerun on the same run directory loads the newest checkpoint (network, optimizer,
counters, RNG state, intrinsic-reward state), cuts CSV rows written after it, and carries on,
with the run's own configuration (run_config.py: another one is refused unless accepted).

Many ranks (torchrun, or the launcher's --num_ranks; distributed.py): each rank runs this with
its own envs (the next block of level seeds) and RNG offset; rank 0 writes the run directory and
evaluates, every rank resumes from its checkpoints. One rank is the plain run.
"""

import dataclasses
import os
import random

import numpy as np

import gin
import torch
from absl import logging as absl_logging
from torch.profiler import record_function

from episodic_curiosity import allocator, distributed, envs, run_config
from episodic_curiosity.agents import evaluation, networks, ppo, run_log, run_state
from episodic_curiosity.agents.collector import make_collector
from episodic_curiosity.agents.loop import Cadence, TrainingLoop
from episodic_curiosity.agents.rollout import Rollout
from episodic_curiosity.agents.run_log import RunLogger
from episodic_curiosity.devices import resolve_device
from episodic_curiosity.errors import UsageError
from episodic_curiosity.rewards.base import NoIntrinsicReward
from episodic_curiosity.validation import CompileMode, Count, FrameSize, Index, OptionalIndex, Real
from episodic_curiosity.workdir import RunDir, atomic_write_text


@dataclasses.dataclass
class _Run:
    """The objects of one run, built before the run directory is touched."""
    scenario: envs.Scenario
    config: ppo.PPOConfig
    device: torch.device
    network: networks.ActorCritic
    learner: ppo.PPOLearner
    intrinsic: object  # an IntrinsicReward (NoIntrinsicReward: plain PPO)
    two_stream: bool  # the bonus is its own reward stream: decided here, once


def _build(scenario, device, obs_size, torch_threads, intrinsic_reward,
           compile_mode="none", keep_freed_memory=True) -> _Run:
    scenario_spec = envs.get(scenario)
    if keep_freed_memory:
        allocator.keep_freed_memory()
    config = ppo.PPOConfig()
    device = distributed.init(resolve_device(device))
    if torch_threads:
        torch.set_num_threads(torch_threads)
    if device.type == "cuda":  # fixed shapes: cuDNN picks its fastest kernels once
        torch.backends.cudnn.benchmark = True
    two_stream = bool(intrinsic_reward and intrinsic_reward.separate_stream)
    network = networks.ActorCritic(scenario_spec.obs_shape(obs_size), scenario_spec.num_actions,
                                   value_heads=2 if two_stream else 1,
                                   recurrent=config.recurrent,
                                   recurrent_size=config.recurrent_size).to(device)
    if compile_mode != "none":  # in place: the state dict keeps its keys, checkpoints stay plain
        network.compile(mode=compile_mode)
    # Built before the run directory: a missing or misshapen R-network leaves no trace.
    intrinsic = (intrinsic_reward(num_envs=config.num_envs, scenario=scenario_spec,
                                  device=device) if intrinsic_reward else NoIntrinsicReward())
    return _Run(scenario_spec, config, device, network,
                ppo.PPOLearner(network, config, two_stream), intrinsic, two_stream)


def _workers(asked: int | None, num_envs: int) -> int:
    """Env worker processes: as asked (at most one per env), or one per core."""
    return min((os.cpu_count() or 1) if asked is None else asked, num_envs)


def _open_envs(scenario, seed, num_envs, obs_size, num_workers, eval_envs, eval_workers):
    """The training envs (run `seed`'s POLICY_TRAINING levels; rank r of R ranks the r-th block
    of the run's R * num_envs, so R x E envs play the levels of 1 x R*E) and, on rank 0 only, one
    evaluation env per held-out split (the same levels for every run)."""
    first = (seed * distributed.world_size() + distributed.rank()) * num_envs
    indices = range(first, first + num_envs)
    train_env = envs.VecEnv(
        envs.env_factories(scenario, envs.Split.POLICY_TRAINING, indices, obs_size),
        _workers(num_workers, num_envs))
    if not distributed.is_writer():
        return train_env, {}
    eval_env = {split: envs.VecEnv(envs.env_factories(scenario, sp, range(eval_envs), obs_size),
                                   _workers(eval_workers, eval_envs))
                for split, sp in (("valid", envs.Split.VALIDATION), ("test", envs.Split.TEST))}
    return train_env, eval_env


def _restore(run_dir, scenario, run, seed, config_text, accept_config_change):
    """(step, update, recent episodes, config change): rank 0 creates the run directory, loads
    its checkpoint and checks the configuration; the other ranks then load the same checkpoint
    (a fresh run: rank 0's initial state). Each rank > 0 then draws from its own RNG stream."""
    change = None
    if distributed.is_writer():
        run_dir.create()
        restored = run_state.restore(run_dir.checkpoints, scenario, run.network, run.learner,
                                     run.intrinsic, seed)
        change = run_config.check(run_dir, config_text, restored[1] > 0, accept_config_change)
    distributed.barrier()  # rank 0's checks passed
    if not distributed.is_writer():
        restored = run_state.restore(run_dir.checkpoints, scenario, run.network, run.learner,
                                     run.intrinsic, seed)
    if distributed.world_size() > 1:
        if restored[1] == 0:  # a fresh run: rank 0's reward networks and statistics everywhere
            run.intrinsic.load_state_dict(distributed.broadcast_object(run.intrinsic.state_dict()))
        run.intrinsic.sync_across_ranks()
        _seed_rank(seed, restored[1])
    return (*restored, change)


def _seed_rank(seed: int, update: int) -> None:
    """Rank r > 0: an RNG stream of its own (rank 0 keeps the checkpointed one)."""
    if distributed.rank():
        value = (seed * 1_000_003 + distributed.rank() * 7_919 + update) % 2**31
        torch.manual_seed(value)
        np.random.seed(value)
        random.seed(value)


def _open_log(run_dir, scenario, run, step, update, total_steps, config_text, change):
    """(logger, first_config): rank 0's sinks, a silent one elsewhere; then the run's config is
    recorded: everything is validated, from here on the run directory is written."""
    if not distributed.is_writer():
        return run_log.SilentLogger(), False
    # A fresh run keeps no row (not even one at step 0); a resumed one keeps rows up to its step.
    # The logger checks progress.csv's columns before it writes anything.
    log = RunLogger(run_dir, step if update else -1, run.intrinsic.stat_names,
                    total_steps=total_steps, description=f"train {scenario}",
                    config_text=config_text, log_success="success" in run.scenario.features)
    return log, run_config.record(run_dir, config_text, change, step)


def _num_updates(total_steps: int, batch_size: int) -> int:
    updates = -(-total_steps // batch_size)
    if updates * batch_size != total_steps:
        absl_logging.info("total_steps %d is not a multiple of the batch (%d envs x steps): the "
                          "run trains %d steps, %d whole updates", total_steps, batch_size,
                          updates * batch_size, updates)
    return updates


@gin.configurable(denylist=["run_dir", "accept_config_change"])
def train_policy(run_dir: RunDir, scenario: str = gin.REQUIRED, total_steps: Count = 22_000_000,
                 seed: Index = 0, device: str = "auto", num_workers: OptionalIndex = None,
                 double_buffered: bool = False,
                 obs_size: FrameSize = 84,
                 reward_scale: Real = 1.0, clip_task_reward: bool = False,
                 bootstrap_time_limits: bool = False, eval_every_updates: Count = 25,
                 eval_envs: Count = 12, eval_workers: OptionalIndex = None,
                 eval_greedy: bool = False, checkpoint_every_updates: Count = 5,
                 keep_checkpoints: Count = 3, torch_threads: Index = 0, update_threads: Index = 0,
                 compile_mode: CompileMode = "none",
                 keep_freed_memory: bool = True, intrinsic_reward=None,
                 accept_config_change: bool = False):
    """Trains PPO on `scenario` for `total_steps` agent steps (summed over envs).

    Args:
      total_steps: 22M, the original's 20M x 1.1 (its baselines PPO ran num_timesteps x 1.1 and
        annealed lr and clip range over all of it).
      seed: run seed: network init, sampling and the POLICY_TRAINING level seeds of the envs.
      num_workers: subprocesses stepping the training envs (0: in this process; None: one per
        CPU core, at most one per env: 2 on a 2-core laptop, 12 on a 16-core GPU VM).
      double_buffered: half the workers step while the policy acts on the other half's envs
        (Collector; needs num_workers >= 2). Per env the same transitions; the policy's random
        draws come in another order, so a seed gives another (equally valid) run.
      reward_scale: multiplies the task reward the learner sees (0 in the no-reward scenarios);
        the CSVs log the unscaled return.
      clip_task_reward: the learner sees the sign of the task reward (Atari, as DQN and RND).
      bootstrap_time_limits: bootstrap truncated episodes from V(final obs) (not the original:
        it treats time limits as terminal).
      eval_every_updates: evaluate on VALIDATION and TEST seeds every this many updates, and at
        step 0 and the end (the original: every 25 collections, 12 envs x 1 episode).
      eval_envs: episodes per evaluation (one per held-out level seed).
      eval_workers: subprocesses stepping each split's evaluation envs (0: in this process; None:
        one per core, at most one per env). The training envs' workers idle during evaluation,
        so these use the same cores.
      torch_threads: intra-op threads for torch (0: torch's default).
      update_threads: intra-op threads during the PPO update only (0: as torch_threads). MiniGrid
        acts with one thread (tiny batches) and updates with two: 1.3x the update's rate on 2
        cores, while the envs, stepping in this process, are idle.
      compile_mode: torch.compile the policy network ('none', or torch.compile's mode:
        'default', 'reduce-overhead' (CUDA graphs), 'max-autotune'); a GPU option, measured in
        benchmarks/gpu_kernels.py. The first calls pay the compilation (~15 s per shape on CPU).
      keep_freed_memory: glibc keeps freed large blocks for reuse (allocator.py): the PPO update
        22% faster on the 2-core CPU, numerics untouched; process-wide once set.
      intrinsic_reward: an IntrinsicReward class (e.g. @EpisodicCuriosity); its bonus is added to
        the scaled task reward, or, for a `separate_stream` one (@RND), learned as a second reward
        stream with its own value head (ppo.PPOConfig's two-stream fields). None: task reward.
      accept_config_change: resume even when the configuration differs from the run's own in more
        than run_config.MAY_CHANGE (the binaries' --accept_config_change; not a gin parameter).
    """
    run = _build(scenario, device, obs_size, torch_threads, intrinsic_reward, compile_mode,
                 keep_freed_memory)
    if run.network.recurrent and double_buffered and bootstrap_time_limits:
        raise UsageError("train_policy.bootstrap_time_limits with double_buffered is not "
                         "supported for a recurrent policy (the final observation's state has "
                         "moved on); drop one of the two")
    config_text = gin.config_str()
    step, update, recent, change = _restore(run_dir, scenario, run, seed, config_text,
                                            accept_config_change)
    batch_size = run.config.batch_size * distributed.world_size()  # all ranks' steps
    num_updates = _num_updates(total_steps, batch_size)
    if update >= num_updates:  # said before any env worker starts: a rerun is a no-op
        if distributed.is_writer():
            print(f"{run_dir.path} is done: step {step} of {total_steps} trained; to train it "
                  "further, rerun with a larger train_policy.total_steps", flush=True)
        return step
    log, first_config = _open_log(run_dir, scenario, run, step, update, total_steps, config_text,
                                  change)
    log.recent.extend(recent)  # the return window goes on where the checkpoint left it
    absl_logging.info("%s %s at step %d of %d in %s on %s", "resuming" if step else "starting",
                      scenario, step, total_steps, run_dir.path, run.device)
    config = run.config
    train_env, eval_env = _open_envs(scenario, seed, config.num_envs, obs_size, num_workers,
                                     eval_envs, eval_workers)
    rollout = Rollout(config.num_steps, config.num_envs, run.network.obs_shape, run.device,
                      run.network.value_heads)

    @record_function("evaluate")  # eval_env is empty on ranks > 0
    def evaluate(at_step):
        for split, env in eval_env.items():
            _, episodes = evaluation.evaluate(run.network, env, run.device, eval_greedy)
            log.evaluation(split, at_step, episodes)

    def save(at_step, at_update):
        if not distributed.is_writer():
            return
        with record_function("checkpoint"):
            run_state.save(run_dir.checkpoints, at_step, at_update, scenario, run.network,
                           run.learner, run.intrinsic, keep_checkpoints, log.recent)
        if first_config:  # a changed run keeps its first segment's there
            atomic_write_text(run_dir.operative_gin_config, gin.operative_config_str())

    try:
        collector = make_collector(train_env, run.network, rollout, run.device, config.gamma,
                                   run.intrinsic, reward_scale, bootstrap_time_limits,
                                   clip_task_reward, run.two_stream,
                                   double_buffered=double_buffered)
        cadence = Cadence(num_updates, eval_every_updates, checkpoint_every_updates,
                          update_threads)
        step = TrainingLoop(collector, run.learner, rollout, run.intrinsic, log, evaluate, save,
                            batch_size, cadence).run(step, update)
    finally:
        train_env.close()
        for env in eval_env.values():
            env.close()
        log.close()
    absl_logging.info("done: %d steps in %s", step, run_dir.path)
    return step
