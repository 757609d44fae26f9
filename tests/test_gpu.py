"""The GPU path end to end on a CUDA device: PPO+EC trains with each GPU option (bf16 for the
update and the R-network, torch.compile, CUDA graphs, double-buffered sampling), resumes on the
GPU, and its checkpoint loads on a CPU. Skipped where no GPU is visible (CI); on a GPU machine:
`python -m pytest tests/test_gpu.py`."""

import csv

import numpy as np
import pytest
import torch

from episodic_curiosity import checkpoint, configuration
from episodic_curiosity.agents import networks, trainer
from episodic_curiosity.agents.rollout import HostToDevice
from episodic_curiosity.launch import local, methods
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import save_rnet
from episodic_curiosity.workdir import RunDir

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

SCENARIO, ENVS, STEPS = "doom_basic", 8, 32  # one update = 256 env steps


def train(tmp_path, updates, options):
    save_rnet(tmp_path / "r_network.pt", RNetwork(width=16, input_shape=(120, 160, 3)))
    configuration.parse(local.gin_files(methods.get("ppo_plus_ec"), SCENARIO, None), [
        f"train_policy.scenario = '{SCENARIO}'", "train_policy.device = 'cuda'",
        f"PPOConfig.num_envs = {ENVS}", f"PPOConfig.num_steps = {STEPS}",
        f"train_policy.total_steps = {updates * ENVS * STEPS}", "train_policy.num_workers = 4",
        "train_policy.eval_envs = 2", "train_policy.checkpoint_every_updates = 1",
        f"EpisodicCuriosity.r_network_path = '{tmp_path}'", *options])
    return trainer.train_policy(RunDir(tmp_path / "run"))


@pytest.mark.parametrize("options", [
    [],
    ["PPOConfig.precision = 'bf16'", "EpisodicCuriosity.precision = 'bf16'"],
    ["train_policy.compile_mode = 'default'"],
    ["train_policy.compile_mode = 'reduce-overhead'"],
    ["train_policy.double_buffered = True"],
], ids=["fp32", "bf16", "compile", "cuda_graphs", "double_buffered"])
def test_ppo_plus_ec_trains_resumes_and_loads_on_cpu(tmp_path, options):
    assert train(tmp_path, 1, options) == ENVS * STEPS
    assert train(tmp_path, 2, options) == 2 * ENVS * STEPS  # resumed from the first checkpoint
    with open(tmp_path / "run" / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [ENVS * STEPS, 2 * ENVS * STEPS]
    state = checkpoint.load_latest(tmp_path / "run" / "checkpoints")
    network = networks.load_actor_critic(state["network"], (84, 84, 3), 3)  # plain keys, on CPU
    assert all(torch.isfinite(p).all() for p in network.parameters())
    assert next(network.parameters()).device.type == "cpu"


def test_host_to_device_reuses_its_pinned_buffer_safely():
    """Back-to-back copies through one pinned buffer: each result is its own batch (the event
    keeps a refill from overwriting a copy still in flight)."""
    to_device = HostToDevice("cuda")
    batches = [np.full((12, 84, 84, 3), i, np.uint8) for i in range(20)]
    results = [to_device(batch) for batch in batches]
    assert len(to_device.buffers) == 1
    for i, result in enumerate(results):
        assert result.device.type == "cuda" and int(result.float().mean()) == i
