"""The rates a training run is judged against, measured on the same machine in the same run:
the PPO update alone (the ceiling of any PPO on this batch shape), Stable-Baselines3's PPO (a
peer), and the R-network training step ECO pays for every `retrain_period`.

Stable-Baselines3 is the benchmark's optional extra (`pip install -e ".[bench]"`), never a core
dependency.
"""

import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from episodic_curiosity import allocator, envs
from episodic_curiosity.agents import networks, ppo
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.pairs import pairs_per_pass
from episodic_curiosity.rnet.training import RTrainer


def update_ceiling(scenario, num_envs, num_steps, device, updates=2) -> float:
    """Env steps/s if collecting cost nothing: PPO's epochs on one random batch of this shape,
    with the allocator setting our training runs with (allocator.py)."""
    allocator.keep_freed_memory()
    spec = envs.get(scenario)
    config = ppo.PPOConfig(num_envs=num_envs, num_steps=num_steps)
    network = networks.ActorCritic(spec.obs_shape(84), spec.num_actions).to(device)
    learner = ppo.PPOLearner(network, config)
    size = config.batch_size
    batch = {"obs": torch.randint(0, 255, (size,) + network.obs_shape, dtype=torch.uint8,
                                  device=device),
             "actions": torch.randint(0, spec.num_actions, (size,), device=device),
             "logprobs": torch.full((size,), -np.log(spec.num_actions), device=device),
             "values": torch.zeros(size, device=device),
             "advantages": torch.randn(size, device=device),
             "returns": torch.randn(size, device=device)}
    learner.update(batch, config.clip_coef)  # warm-up
    _sync(device)
    start = time.perf_counter()
    for _ in range(updates):
        learner.update(batch, config.clip_coef)
    _sync(device)
    return updates * size / (time.perf_counter() - start)


def sb3_ppo(scenario, num_envs, num_steps, updates, device, vec="dummy",
            keep_freed_memory=False) -> float:
    """Env steps/s of Stable-Baselines3's PPO (its NatureCNN `CnnPolicy`) with our PPO's shape:
    envs, rollout length, 4 epochs, 4 minibatches; the first update is not timed.
    keep_freed_memory: give it our allocator setting too (False: SB3 as it ships)."""
    if keep_freed_memory:
        allocator.keep_freed_memory()
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    factories = envs.env_factories(scenario, envs.Split.POLICY_TRAINING, range(num_envs))
    vec_env = (SubprocVecEnv(factories, start_method="spawn") if vec == "subproc"
               else DummyVecEnv(factories))
    config = ppo.PPOConfig(num_envs=num_envs, num_steps=num_steps)

    class RolloutClock(BaseCallback):
        def __init__(self):
            super().__init__()
            self.starts = []

        def _on_rollout_start(self):
            self.starts.append(time.perf_counter())

        def _on_step(self):
            return True

    clock = RolloutClock()
    model = PPO("CnnPolicy", vec_env, n_steps=num_steps, batch_size=config.minibatch_size,
                n_epochs=config.update_epochs, learning_rate=config.learning_rate,
                gamma=config.gamma, gae_lambda=config.gae_lambda, ent_coef=config.ent_coef,
                vf_coef=config.vf_coef, max_grad_norm=config.max_grad_norm, seed=0,
                device=device)
    model.learn(total_timesteps=config.batch_size * (updates + 1), callback=clock)
    end = time.perf_counter()
    vec_env.close()
    return updates * config.batch_size / (end - clock.starts[1])


def eco_training_cost(scenario, device, width=64, batches=3, history_steps=60000,
                      retrain_period=60000, epochs=10, num_envs=12, episode_length=None):
    """(R-network batches/s, seconds of ECO training per env step) at ECO's defaults: every
    `retrain_period` vector steps, `epochs` passes over the pairs drawn from the history."""
    spec = envs.get(scenario)
    rnet = RNetwork(width=width, input_shape=spec.raw_shape).to(device)
    trainer = RTrainer(rnet, device)
    frames = torch.randint(0, 255, (trainer.batch_size,) + tuple(spec.raw_shape),
                           dtype=torch.uint8, device=device)
    labels = torch.randint(0, 2, (trainer.batch_size,), device=device)
    trainer._step(frames, frames.flip(0), labels)  # warm-up
    _sync(device)
    start = time.perf_counter()
    for _ in range(batches):
        trainer._step(frames, frames.flip(0), labels)
    _sync(device)
    per_batch = (time.perf_counter() - start) / batches
    length = episode_length or spec.episode_steps
    episodes = [length] * (history_steps * num_envs // length)
    pairs = 95 * pairs_per_pass(episodes) // 100
    seconds = epochs * (pairs // trainer.batch_size) * per_batch
    return 1.0 / per_batch, seconds / (retrain_period * num_envs)


def gflop_per_vector_step(scenario, num_envs, num_steps, widths, memory_capacity=200) -> dict:
    """Compute per vector step, counted by torch's FLOP counter: PPO's (acting on `num_envs`
    frames + its share of the update's epochs) and, per R-network width, EC's embedding of the
    raw frames and comparison of each with a full memory. PPO / (PPO + EC) is what EC / PPO
    reaches where compute sets the pace at one FLOP rate (env stepping raises it)."""
    spec = envs.get(scenario)
    config = ppo.PPOConfig(num_envs=num_envs, num_steps=num_steps)
    network = networks.ActorCritic(spec.obs_shape(84), spec.num_actions)
    frames = torch.randint(0, 255, (num_envs,) + network.obs_shape, dtype=torch.uint8)
    acting = _gflop(lambda: network(frames))
    logits, value = network(frames)  # counted: forward + backward of num_envs frames
    learning = _gflop(lambda: network(frames)) + _gflop(lambda: (logits.sum() + value.sum())
                                                        .backward())
    result = {"ppo": acting + learning * config.update_epochs}  # every frame once per epoch
    raw = torch.randint(0, 255, (num_envs,) + tuple(spec.raw_shape), dtype=torch.uint8)
    for width in widths:
        rnet = RNetwork(width=int(width)).eval()
        with torch.no_grad():
            left, _ = rnet.embed(raw)
            memory = torch.zeros(num_envs, memory_capacity, rnet.memory_dim)
            result[f"ec width {width}"] = {
                "embed": _gflop(lambda: rnet.embed(raw)),
                "compare": _gflop(lambda: rnet.similarity_to_memory(left, memory))}
    return result


def _gflop(function) -> float:
    with FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops() / 1e9


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
