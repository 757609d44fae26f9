"""Policy checkpoints for the analysis tools: one written by the real trainer (one PPO update of
the `tiny` preset on doom_dense), and random-weight ones in the same format for other scenarios."""

import gin
import pytest

from conftest import REPO
from episodic_curiosity import checkpoint, configuration, envs
from episodic_curiosity.agents import networks, trainer
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import save_rnet
from episodic_curiosity.workdir import RunDir


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A run directory of ppo on doom_dense after one update (256 agent steps)."""
    run = RunDir(tmp_path_factory.mktemp("policy") / "ppo" / "doom_dense" / "run_number_0")
    configuration.parse([REPO / "gin" / "methods" / "ppo.gin", REPO / "gin" / "presets" / "tiny.gin"],
                        ["train_policy.scenario = 'doom_dense'", "train_policy.total_steps = 256",
                         "train_policy.eval_envs = 1", "train_policy.num_workers = 0",
                         "train_policy.torch_threads = 1"])
    try:
        trainer.train_policy(run)
    finally:
        gin.clear_config()
    return run.path


def random_policy(directory, scenario: str):
    """A checkpoint in the trainer's format with an untrained network for `scenario`."""
    directory.mkdir(parents=True, exist_ok=True)
    network = networks.ActorCritic((84, 84, 3), envs.get(scenario).num_actions)
    checkpoint.save(directory, 0, {"network": network.state_dict(), "meta": {
        "scenario": scenario, "obs_shape": [84, 84, 3], "num_actions": network.num_actions}})
    return directory


@pytest.fixture(scope="session")
def r_network(tmp_path_factory):
    """An untrained width-16 R-network file: the bonus is real arithmetic on real embeddings."""
    path = tmp_path_factory.mktemp("rnet") / "r_network.pt"
    save_rnet(path, RNetwork(width=16))
    return path
