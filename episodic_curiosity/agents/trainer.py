"""The policy training loop: collect -> GAE -> PPO update -> log, evaluate, checkpoint.

The rooms along the data path: `collector.Collector` (envs + intrinsic reward -> rollout),
`ppo.PPOLearner` (PPO on a rollout), `run_log.RunLogger` (CSVs, TensorBoard, terminal),
`run_state` (checkpoint and resume). This module builds them and runs the loop.

Resumable: a rerun on the same run directory loads the newest checkpoint (network, optimizer,
counters, RNG state, intrinsic-reward state), cuts CSV rows written after it, and carries on,
with the run's own configuration (run_config.py: another one is refused unless accepted).
"""

import contextlib
import dataclasses
import os
import time

import gin
import torch
from absl import logging as absl_logging
from torch.profiler import record_function

from episodic_curiosity import allocator, envs, run_config
from episodic_curiosity.agents import evaluation, networks, ppo, run_state
from episodic_curiosity.agents.collector import Collector
from episodic_curiosity.agents.rollout import Rollout
from episodic_curiosity.agents.run_log import RunLogger
from episodic_curiosity.errors import UsageError
from episodic_curiosity.validation import CompileMode, Count, FrameSize, Index, OptionalIndex, Real
from episodic_curiosity.workdir import RunDir, atomic_write_text


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device '{name}' asked for but no CUDA GPU is visible; use device='auto'")
    return torch.device(name)


@dataclasses.dataclass
class _Run:
    """The objects of one run, built before the run directory is touched."""
    scenario: envs.Scenario
    config: ppo.PPOConfig
    device: torch.device
    network: networks.ActorCritic
    learner: ppo.PPOLearner
    bonus_module: object


def _build(scenario, device, obs_size, torch_threads, intrinsic_reward,
           compile_mode="none", keep_freed_memory=True) -> _Run:
    scenario_spec = envs.get(scenario)
    if keep_freed_memory:
        allocator.keep_freed_memory()
    config = ppo.PPOConfig()
    device = resolve_device(device)
    if torch_threads:
        torch.set_num_threads(torch_threads)
    if device.type == "cuda":  # fixed shapes: cuDNN picks its fastest kernels once
        torch.backends.cudnn.benchmark = True
    two_stream = bool(intrinsic_reward and intrinsic_reward.separate_stream)
    network = networks.ActorCritic(scenario_spec.obs_shape(obs_size), scenario_spec.num_actions,
                                   value_heads=2 if two_stream else 1).to(device)
    if compile_mode != "none":  # in place: the state dict keeps its keys, checkpoints stay plain
        network.compile(mode=compile_mode)
    # Built before the run directory: a missing or misshapen R-network leaves no trace.
    bonus_module = (intrinsic_reward(num_envs=config.num_envs, scenario=scenario_spec,
                                     device=device) if intrinsic_reward else None)
    return _Run(scenario_spec, config, device, network,
                ppo.PPOLearner(network, config, two_stream), bonus_module)


@contextlib.contextmanager
def _threads(count: int):
    """torch's intra-op threads set to `count` inside the block (0: left as they are)."""
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _workers(asked: int | None, num_envs: int) -> int:
    """Env worker processes: as asked (at most one per env), or one per core."""
    return min((os.cpu_count() or 1) if asked is None else asked, num_envs)


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
    run_dir.create()
    step, update, recent = run_state.restore(run_dir.checkpoints, scenario, run.network,
                                             run.learner, run.bonus_module, seed)
    config_text = gin.config_str()
    change = run_config.check(run_dir, config_text, update > 0, accept_config_change)
    # A fresh run keeps no row (not even one at step 0); a resumed one keeps rows up to its step.
    # The logger checks progress.csv's columns before it writes anything.
    log = RunLogger(run_dir, step if update else -1,
                    run.bonus_module.stat_names if run.bonus_module else (),
                    total_steps=total_steps, description=f"train {scenario}",
                    config_text=config_text,
                    log_success="success" in run.scenario.features)
    log.recent.extend(recent)  # the return window goes on where the checkpoint left it
    # Everything is validated: from here on the run directory is written.
    first_config = run_config.record(run_dir, config_text, change, step)
    absl_logging.info("%s %s at step %d of %d in %s on %s", "resuming" if step else "starting",
                      scenario, step, total_steps, run_dir.path, run.device)
    config = run.config
    indices = range(seed * config.num_envs, (seed + 1) * config.num_envs)
    train_env = envs.VecEnv(
        envs.env_factories(scenario, envs.Split.POLICY_TRAINING, indices, obs_size),
        _workers(num_workers, config.num_envs))
    eval_env = {split: envs.VecEnv(envs.env_factories(scenario, sp, range(eval_envs), obs_size),
                                   _workers(eval_workers, eval_envs))
                for split, sp in (("valid", envs.Split.VALIDATION), ("test", envs.Split.TEST))}
    rollout = Rollout(config.num_steps, config.num_envs, run.network.obs_shape, run.device,
                      run.network.value_heads)
    collector = Collector(train_env, run.network, rollout, run.device, config.gamma,
                          run.bonus_module, reward_scale, bootstrap_time_limits,
                          clip_task_reward, double_buffered)

    @record_function("evaluate")
    def evaluate():
        for split, env in eval_env.items():
            _, episodes = evaluation.evaluate(run.network, env, run.device, eval_greedy)
            log.evaluation(split, step, episodes)

    try:
        num_updates = _num_updates(total_steps, config.batch_size)
        collector.start()
        if update == 0:
            if run.bonus_module is not None and run.bonus_module.warmup_env_steps:
                collector.warmup(run.bonus_module.warmup_env_steps)
            evaluate()
        start_time, start_step = time.time(), step
        while update < num_updates:
            clip_coef = run.learner.schedule(update / num_updates)
            finished = collector.collect()
            with record_function("gae"):
                advantages, returns = run.learner.advantages(rollout, collector.last_value(),
                                                             collector.done)
            with record_function("ppo.update"), _threads(update_threads):
                losses = run.learner.update(rollout.flat(advantages, returns), clip_coef)
            update += 1
            step += config.batch_size
            if run.bonus_module is not None:
                with record_function("intrinsic_reward.update"):
                    run.bonus_module.update(step)
            bonus_stats = run.bonus_module.stats() if run.bonus_module else {}
            fps = (step - start_step) / max(time.time() - start_time, 1e-9)
            lr = run.learner.optimizer.param_groups[0]["lr"]
            log.update(step, update, fps, {"learning_rate": lr, "clip_coef": clip_coef, **losses},
                       finished, bonus_stats)
            log.console(step, num_updates * config.batch_size, update, num_updates, fps,
                        losses["entropy"])
            if update % eval_every_updates == 0 or update == num_updates:
                evaluate()
            if update % checkpoint_every_updates == 0 or update == num_updates:
                with record_function("checkpoint"):
                    run_state.save(run_dir.checkpoints, step, update, scenario, run.network,
                                   run.learner, run.bonus_module, keep_checkpoints, log.recent)
                if first_config:  # a changed run keeps its first segment's there
                    atomic_write_text(run_dir.operative_gin_config, gin.operative_config_str())
    finally:
        train_env.close()
        for env in eval_env.values():
            env.close()
        log.close()
    absl_logging.info("done: %d steps in %s", step, run_dir.path)
    return step
