"""Learning, asserted: PPO beats a random policy on held-out VizDoom `basic` levels."""

import csv

import numpy as np
import pytest

from conftest import run_launcher
from episodic_curiosity import envs

# Measured on the 2-core CI machine: random ~ -170; PPO after 30k steps ~ +60 (unscaled return).
LEARNING_BINDINGS = [
    "train_policy.total_steps = 30720", "PPOConfig.num_envs = 8", "PPOConfig.num_steps = 128",
    "PPOConfig.learning_rate = 2.5e-4", "PPOConfig.ent_coef = 0.01",
    "train_policy.eval_every_updates = 10", "train_policy.eval_envs = 8",
]


def random_policy_return(scenario, episodes):
    factories = envs.env_factories(scenario, envs.Split.VALIDATION, range(episodes))
    returns = []
    rng = np.random.default_rng(0)
    with envs.VecEnv(factories) as vec:
        vec.reset()
        while len(returns) < episodes:
            _, _, _, _, infos = vec.step(rng.integers(0, vec.action_space.n, episodes))
            returns += [info["episode"]["return"] for info in infos if "episode" in info]
    return float(np.mean(returns[:episodes]))


@pytest.mark.slow
def test_ppo_beats_random_on_doom_basic(tmp_path):
    random_return = random_policy_return("doom_basic", 8)
    args = ["--method=ppo", "--scenario=doom_basic", f"--workdir={tmp_path}"]
    result = run_launcher(*args, *[f"--gin_bindings={b}" for b in LEARNING_BINDINGS], timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "ppo" / "doom_basic" / "run_number_0"
    with open(run / "reward_valid.csv") as f:
        valid = [float(row["reward_valid"]) for row in csv.DictReader(f)]
    with open(run / "reward_test.csv") as f:
        test = [float(row["reward_test"]) for row in csv.DictReader(f)]
    # Held-out levels, 8 episodes each: the final policy is better than random by a wide margin
    # (a kill is worth +101; random loses about -170 per episode).
    assert valid[-1] > random_return + 120, (random_return, valid)
    assert test[-1] > random_return + 120, (random_return, test)
    assert valid[-1] > valid[0], valid  # and it improved during training
