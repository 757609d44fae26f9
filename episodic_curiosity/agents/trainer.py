"""The policy training loop: rollout -> GAE -> PPO update -> logs, evaluation, checkpoints.

Resumable: a rerun on the same run directory loads the newest checkpoint (network, optimizer,
counters, RNG state), cuts CSV rows written after it, and carries on.
"""

import collections
import logging
import time

import gin
import numpy as np
import torch
from absl import logging as absl_logging
from torch.utils.tensorboard import SummaryWriter

from episodic_curiosity import checkpoint, envs
from episodic_curiosity.agents import evaluation, networks, ppo
from episodic_curiosity.agents.rollout import Rollout, act
from episodic_curiosity.csv_log import ResumableCsv, RewardCsv
from episodic_curiosity.errors import UsageError
from episodic_curiosity.workdir import RunDir, atomic_write_text

PROGRESS_COLUMNS = ["step", "update", "fps", "learning_rate", "clip_coef", "policy_loss",
                    "value_loss", "entropy", "clip_fraction", "approx_kl", "episode_return",
                    "episode_length", "cells_visited", "distance_travelled", "episodes",
                    "timestamp_s"]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device '{name}' asked for but no CUDA GPU is visible; use device='auto'")
    return torch.device(name)


def _check_compatible(state, scenario, network, path):
    saved = state.get("meta", {})
    mine = {"scenario": scenario.name, "obs_shape": list(network.obs_shape),
            "num_actions": network.num_actions}
    if {k: saved.get(k) for k in mine} != mine:
        raise UsageError(f"checkpoint in {path} was written for {saved}, this run is {mine}; "
                         "use a new --workdir (or the matching --scenario)")


def _log_to_file(run_dir: RunDir):
    handler = logging.FileHandler(run_dir.log_txt)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    absl_logging.get_absl_logger().addHandler(handler)
    return handler


def _eta(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


@gin.configurable(denylist=["run_dir"])
def train_policy(run_dir: RunDir, scenario: str = gin.REQUIRED, total_steps: int = 20_000_000,
                 seed: int = 0, device: str = "auto", num_workers: int = 2,
                 obs_size: int = 84, reward_scale: float = 1.0,
                 eval_every_updates: int = 10, eval_envs: int = 4, eval_greedy: bool = False,
                 checkpoint_every_updates: int = 5, keep_checkpoints: int = 3,
                 torch_threads: int = 0, intrinsic_reward=None):
    """Trains PPO on `scenario` until `total_steps` agent steps (summed over envs).

    Args:
      seed: run seed: network init, sampling and the POLICY_TRAINING level seeds of the envs.
      num_workers: subprocesses stepping the training envs (0: in this process).
      reward_scale: multiplies the task reward the learner sees; CSVs log the unscaled return.
      eval_every_updates: evaluate on VALIDATION and TEST seeds every this many updates.
      eval_envs: episodes per evaluation (one per held-out level seed).
      torch_threads: intra-op threads for torch (0: torch's default).
      intrinsic_reward: an IntrinsicReward class (e.g. @EpisodicCuriosity); its bonus is added to
        the scaled task reward. None: task reward only.
    """
    scenario_spec = envs.get(scenario)
    config = ppo.PPOConfig()
    device = resolve_device(device)
    if torch_threads:
        torch.set_num_threads(torch_threads)
    network = networks.ActorCritic(scenario_spec.obs_shape(obs_size),
                                   scenario_spec.num_actions).to(device)
    learner = ppo.PPOLearner(network, config)
    # Built before the run directory: a missing or misshapen R-network leaves no trace.
    bonus_module = (intrinsic_reward(num_envs=config.num_envs, scenario=scenario_spec,
                                     device=device) if intrinsic_reward else None)
    run_dir.create()
    state = checkpoint.load_latest(run_dir.checkpoints)
    step, update = 0, 0
    if state is not None:
        _check_compatible(state, scenario_spec, network, run_dir.checkpoints)
        try:
            network.load_state_dict(state["network"])
            learner.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise UsageError(f"checkpoint in {run_dir.checkpoints} does not fit this network "
                             f"({' '.join(str(e).split())[:300]}); use a new --workdir") from e
        if bonus_module is not None:
            bonus_module.load_state_dict(state.get("intrinsic_reward", {}))
        step, update = state["step"], state["update"]
        checkpoint.restore_rng_state(state["rng"])
    else:
        torch.manual_seed(seed)
        np.random.seed(seed)

    # Everything is validated: from here on the run directory is written.
    log_handler = _log_to_file(run_dir)
    atomic_write_text(run_dir.gin_config, gin.config_str())
    reward_csvs = {s: RewardCsv(run_dir.reward_csv(s), s, step) for s in ("train", "valid", "test")}
    bonus_columns = [f"intrinsic_{n}" for n in bonus_module.stat_names] if bonus_module else []
    progress = ResumableCsv(run_dir.progress_csv, PROGRESS_COLUMNS + bonus_columns, step)
    # purge_step drops events logged after the checkpoint by a killed run, as the CSVs do.
    board = SummaryWriter(run_dir.tensorboard, purge_step=step or None)
    absl_logging.info("%s %s at step %d of %d in %s on %s",
                      "resuming" if step else "starting", scenario, step, total_steps,
                      run_dir.path, device)

    indices = range(seed * config.num_envs, (seed + 1) * config.num_envs)
    train_env = envs.VecEnv(
        envs.env_factories(scenario, envs.Split.POLICY_TRAINING, indices, obs_size), num_workers)
    eval_env = {split: envs.VecEnv(envs.env_factories(scenario, sp, range(eval_envs), obs_size))
                for split, sp in (("valid", envs.Split.VALIDATION), ("test", envs.Split.TEST))}
    rollout = Rollout(config.num_steps, config.num_envs, network.obs_shape, device)
    recent = collections.deque(maxlen=10)
    num_updates = -(-total_steps // config.batch_size)

    def save_checkpoint():
        checkpoint.save(run_dir.checkpoints, step, {
            "update": update, "network": network.state_dict(),
            "optimizer": learner.optimizer.state_dict(), "rng": checkpoint.rng_state(),
            "intrinsic_reward": bonus_module.state_dict() if bonus_module else {},
            "meta": {"scenario": scenario, "obs_shape": list(network.obs_shape),
                     "num_actions": network.num_actions}}, keep=keep_checkpoints)
        atomic_write_text(run_dir.operative_gin_config, gin.operative_config_str())

    try:
        obs, infos = train_env.reset()
        if bonus_module is not None:
            bonus_module.begin(obs, infos)
        done = torch.zeros(config.num_envs, device=device)
        start_time, start_step = time.time(), step
        while update < num_updates:
            clip_coef = learner.schedule(update / num_updates)
            finished = []
            for t in range(config.num_steps):
                rollout.obs[t] = torch.as_tensor(obs, device=device)
                rollout.dones[t] = done
                actions, logprobs, values = act(network, obs, device)
                rollout.actions[t], rollout.logprobs[t], rollout.values[t] = actions, logprobs, values
                prev_obs, actions = obs, actions.cpu().numpy()
                obs, reward, terminated, truncated, infos = train_env.step(actions)
                reward = reward * reward_scale
                if bonus_module is not None:
                    reward = reward + bonus_module.compute(prev_obs, actions, obs, terminated,
                                                           truncated, infos)
                reward = torch.as_tensor(reward, device=device)
                if truncated.any():  # a time limit is not a terminal state: bootstrap from V(s_T)
                    final = np.stack([infos[i]["final_obs"] for i in np.flatnonzero(truncated)])
                    _, _, final_values = act(network, final, device)
                    reward[torch.as_tensor(truncated, device=device)] += config.gamma * final_values
                rollout.rewards[t] = reward
                done = torch.as_tensor(terminated | truncated, dtype=torch.float32, device=device)
                finished += [info["episode"] for info in infos if "episode" in info]
            with torch.no_grad():
                _, last_value = network(torch.as_tensor(obs, device=device))
            advantages, returns = ppo.compute_gae(rollout.rewards, rollout.values, rollout.dones,
                                                  last_value, done, config.gamma, config.gae_lambda)
            losses = learner.update(rollout.flat(advantages, returns), clip_coef)
            update += 1
            step += config.batch_size
            if bonus_module is not None:
                bonus_module.update(step)
            bonus_stats = ({f"intrinsic_{k}": f"{v:.6g}" for k, v in bonus_module.stats().items()}
                           if bonus_module else {})

            elapsed = time.time() - start_time
            fps = (step - start_step) / max(elapsed, 1e-9)
            recent.extend(finished)
            if finished:
                reward_csvs["train"].add(step, np.mean([e["return"] for e in finished]))
            episode_means = {k: np.mean([e[k] for e in finished]) if finished else ""
                             for k in ("return", "length", "cells_visited", "distance_travelled")}
            progress.write(step, update=update, fps=f"{fps:.1f}",
                           learning_rate=f"{learner.optimizer.param_groups[0]['lr']:.6g}",
                           clip_coef=f"{clip_coef:.4g}",
                           **{k: f"{v:.6g}" for k, v in losses.items()},
                           episode_return=episode_means["return"],
                           episode_length=episode_means["length"],
                           cells_visited=episode_means["cells_visited"],
                           distance_travelled=episode_means["distance_travelled"],
                           episodes=len(finished),
                           timestamp_s=f"{time.time():.3f}", **bonus_stats)
            scalars = {"charts/fps": fps,
                       "charts/learning_rate": learner.optimizer.param_groups[0]["lr"],
                       **{f"losses/{k}": v for k, v in losses.items()},
                       **{f"charts/episode_{k}": v for k, v in episode_means.items() if v != ""},
                       **{f"intrinsic/{k[len('intrinsic_'):]}": float(v)
                          for k, v in bonus_stats.items()}}
            for tag, value in scalars.items():
                board.add_scalar(tag, value, step)
            last = (f"{np.mean([e['return'] for e in recent]):.3f}" if recent else "n/a")
            absl_logging.info("step %d/%d | update %d/%d | %.0f steps/s | ETA %s | return %s "
                              "(last %d episodes) | entropy %.3f", step, total_steps, update,
                              num_updates, fps, _eta((total_steps - step) / max(fps, 1e-9)), last,
                              len(recent), losses["entropy"])
            if update % eval_every_updates == 0 or update == num_updates:
                for split, env in eval_env.items():
                    mean_return, _ = evaluation.evaluate(network, env, device, eval_greedy)
                    reward_csvs[split].add(step, mean_return)
                    board.add_scalar(f"charts/reward_{split}", mean_return, step)
                    absl_logging.info("eval %s: return %.3f over %d episodes", split, mean_return,
                                      env.num_envs)
            if update % checkpoint_every_updates == 0 or update == num_updates:
                save_checkpoint()
    finally:
        train_env.close()
        for env in eval_env.values():
            env.close()
        board.close()
        for f in list(reward_csvs.values()) + [progress]:
            f.close()
        absl_logging.get_absl_logger().removeHandler(log_handler)
        log_handler.close()
    absl_logging.info("done: %d steps in %s", step, run_dir.path)
    return step
