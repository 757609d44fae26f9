"""configuration.parse: a gin name that does not exist is one UsageError naming the nearest valid
one (the launcher's `error:` line and exit 2: test_launcher.py)."""

import pytest

from episodic_curiosity import configuration
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import local, methods

PPO_FILES = local.gin_files(methods.get("ppo"), "doom_dense", None)


def first_line(files, bindings):
    with pytest.raises(UsageError) as error:
        configuration.parse(files, bindings)
    return str(error.value).splitlines()[0]


@pytest.mark.parametrize("binding, hint", [
    # A parameter that another configurable has: the strong hint, named in full.
    ("train_policy.num_envs = 0", "did you mean PPOConfig.num_envs"),
    ("train_policy.learning_rate = 1e-3", "did you mean PPOConfig.learning_rate"),
    ("RND.num_envs = 3", "did you mean PPOConfig.num_envs"),  # denylisted: the trainer's own
    # A misspelt parameter or configurable: the closest name.
    ("PPOConfig.lerning_rate = 1e-3", "did you mean PPOConfig.learning_rate?"),
    ("train_policy.totl_steps = 3", "did you mean train_policy.total_steps?"),
    ("PPOConfg.num_envs = 4", "did you mean PPOConfig.num_envs?"),
    ("EpisodicCuriosty.alpha = 1", "did you mean EpisodicCuriosity.alpha?"),
])
def test_an_unknown_name_names_the_nearest_valid_one(binding, hint):
    line = first_line(PPO_FILES, [binding])
    assert line.startswith("bad gin configuration: ") and hint in line, line
    assert "bindings look like" in line


def test_the_configurations_own_names_come_first():
    # Without files, several configurables have `learning_rate`: all are valid hints.
    assert "learning_rate" in first_line([], ["train_policy.learning_rate = 1e-3"])
    # With PPO's files, the one they bind (PPOConfig) leads.
    line = first_line(PPO_FILES, ["train_policy.learning_rate = 1e-3"])
    assert "did you mean PPOConfig.learning_rate" in line


@pytest.mark.parametrize("binding", ["NoSuchThing.x = 3", "train_policy.zzzzzz = 1"])
def test_nothing_near_gives_no_guess(binding):
    line = first_line([], [binding])
    assert "did you mean" not in line and "bindings look like" in line


def test_a_syntax_error_is_still_one_line():
    line = first_line([], ["PPOConfig.learning_rate = = 3"])
    assert "did you mean" not in line and "bad gin configuration" in line


def test_parameters_follow_gin_allow_and_denylists():
    configuration.register_configurables()
    by_name = {c.name: c for c in configuration.configurables()}
    assert "num_envs" in configuration.parameters(by_name["PPOConfig"])
    assert "num_envs" not in configuration.parameters(by_name["RND"])  # denylisted
    assert set(configuration.parameters(by_name["env_factories"])) == {"keep_raw_obs"}
    assert "write_report" not in configuration.parameters(by_name["train_r"])
