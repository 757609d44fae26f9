"""Where torch.compile, CUDA graphs and bf16 pay: the device work of one PPO+EC step timed alone,
eager against compiled against bf16, so an option is adopted on a number, not a hope.

  python benchmarks/gpu_kernels.py [--device=cuda] [--num_envs=12] [--memory_slots=200]

Rows (milliseconds per call, and env steps/s where a call covers a whole vector step or batch):
  act        the policy on one vector step of 84x84 frames (no grad)
  update     PPO's 4 epochs x 4 minibatches on one num_envs x 256 batch
  embed      the R-network's embedding + both projections of one vector step of raw frames
  compare    the comparator head against `memory_slots` slots per env, and the percentile
and the bf16 bonus's max |difference| from fp32 on that fixed batch.
"""

import functools
import time

import numpy as np
import torch
from absl import app, flags

import reference_rates

from episodic_curiosity.agents import networks, ppo
from episodic_curiosity.agents.rollout import act
from episodic_curiosity.rewards.episodic_memory import EpisodicMemory
from episodic_curiosity.rnet.model import RNetwork

flags.DEFINE_string("device", "cuda", "Torch device.")
flags.DEFINE_integer("num_envs", 12, "Envs per vector step (PPO's num_envs).")
flags.DEFINE_integer("memory_slots", 200, "Filled episodic-memory slots per env.")
flags.DEFINE_list("rnet_widths", ["64", "16"], "R-network widths (64: ResNet-18).")
flags.DEFINE_list("modes", ["none", "default", "reduce-overhead"],
                  "torch.compile modes to time ('none': eager).")
FLAGS = flags.FLAGS
RAW_SHAPE, POLICY_SHAPE, ACTIONS = (120, 160, 3), (84, 84, 3), 9


def milliseconds(function, device, repeats=20, warmup=5) -> float:
    for _ in range(warmup):  # compilation, cuDNN autotuning, CUDA-graph recording
        function()
    reference_rates._sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    reference_rates._sync(device)
    return (time.perf_counter() - start) / repeats * 1e3


def _frames(shape, n, device, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 255, (n,) + shape, dtype=torch.uint8, generator=generator).to(device)


def _network(device, mode):
    network = networks.ActorCritic(POLICY_SHAPE, ACTIONS).to(device)
    if mode != "none":
        network.compile(mode=mode)
    return network


def act_row(device, n, mode):
    network, obs = _network(device, mode), _frames(POLICY_SHAPE, n, device)
    return milliseconds(lambda: act(network, obs, device), device)  # the collector's acting


def update_row(device, n, mode, precision):
    config = ppo.PPOConfig(num_envs=n, precision=precision)
    network = _network(device, mode)
    learner = ppo.PPOLearner(network, config)
    size = config.batch_size
    batch = {"obs": _frames(POLICY_SHAPE, size, device),
             "actions": torch.randint(0, ACTIONS, (size,), device=device),
             "logprobs": torch.full((size,), -np.log(ACTIONS), device=device),
             "values": torch.zeros(size, device=device),
             "advantages": torch.randn(size, device=device),
             "returns": torch.randn(size, device=device)}
    return milliseconds(lambda: learner.update(batch, config.clip_coef), device, repeats=3,
                        warmup=2)


def rnet_rows(device, n, width, slots):
    """{(row, precision): ms} for the embedding and the comparison, and the max |similarity
    difference| of bf16 from fp32."""
    rnet = RNetwork(width=width, input_shape=RAW_SHAPE).to(device)
    frames = _frames(RAW_SHAPE, n, device)
    rnet(frames, frames.flip(0))  # batch-norm statistics of real activations (fresh ones saturate)
    rnet.eval()
    memory = EpisodicMemory(n, slots, rnet.memory_dim, device, np.random.default_rng(0))
    with torch.no_grad():
        for seed in range(slots):
            memory.add(range(n), rnet.embed(_frames(RAW_SHAPE, n, device, seed + 1))[1])
    times, similarity = {}, {}
    for precision in ("fp32", "bf16"):
        autocast = functools.partial(torch.autocast, device.type, dtype=torch.bfloat16,
                                     enabled=precision == "bf16")

        @torch.no_grad()
        def embed():
            with autocast():
                return rnet.embed(frames)

        left = embed()[0].float()

        @torch.no_grad()
        def compare():
            with autocast():
                return memory.similarity(rnet.similarity_to_memory, left).float()

        similarity[precision] = compare()
        times["embed", precision] = milliseconds(embed, device)
        times["compare", precision] = milliseconds(compare, device)
    return times, (similarity["fp32"] - similarity["bf16"]).abs().max().item()


def main(argv):
    del argv
    device, n = torch.device(FLAGS.device), FLAGS.num_envs
    torch.backends.cudnn.benchmark = device.type == "cuda"
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}, {n} envs per step")
    print(f"{'row':<44}{'ms':>9}{'env steps/s':>13}")
    for mode in FLAGS.modes:
        ms = act_row(device, n, mode)
        print(f"{'act, compile ' + mode:<44}{ms:>9.2f}{n / ms * 1e3:>13.0f}")
    for mode in FLAGS.modes:
        for precision in ("fp32", "bf16"):
            ms = update_row(device, n, mode, precision)
            label = f"update {n}x256, compile {mode}, {precision}"
            print(f"{label:<44}{ms:>9.1f}{n * 256 / ms * 1e3:>13.0f}")
    for width in map(int, FLAGS.rnet_widths):
        times, diff = rnet_rows(device, n, width, FLAGS.memory_slots)
        for (row, precision), ms in times.items():
            slots = f" x{FLAGS.memory_slots} slots" if row == "compare" else ""
            label = f"{row} w{width}{slots}, {precision}"
            print(f"{label:<44}{ms:>9.2f}{n / ms * 1e3:>13.0f}")
        print(f"{'bf16 similarity max |diff| w' + str(width):<44}{diff:>9.5f}")


if __name__ == "__main__":
    app.run(main)
