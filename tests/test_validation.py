"""Numeric gin parameters: every rule refuses its bad values with one line naming the binding,
and accepts the shipped defaults and presets (in-process; the launcher's exit 2 is in
test_launcher.py)."""

import gin
import pytest

from episodic_curiosity import configuration, preflight
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import local, methods


@pytest.mark.parametrize("binding, needle", [
    ("PPOConfig.num_envs = 0", "PPOConfig.num_envs = 0 is invalid: it must be an integer >= 1"),
    ("PPOConfig.num_envs = -4", "PPOConfig.num_envs"),
    ("PPOConfig.num_steps = 2.5", "PPOConfig.num_steps"),
    ("PPOConfig.update_epochs = True", "PPOConfig.update_epochs"),
    ("PPOConfig.gamma = 1.5", "PPOConfig.gamma = 1.5 is invalid: it must be a number in [0, 1]"),
    ("PPOConfig.learning_rate = 0.0", "PPOConfig.learning_rate"),
    ("PPOConfig.ent_coef = -0.1", "PPOConfig.ent_coef"),
    ("PPOConfig.num_minibatches = 100000", "more than the batch"),
    ("train_policy.total_steps = 0", "train_policy.total_steps"),
    ("train_policy.num_workers = -1", "train_policy.num_workers"),
    ("train_policy.obs_size = 16", "train_policy.obs_size = 16 is invalid: it must be an integer >= 36"),
    ("train_policy.eval_every_updates = 0", "train_policy.eval_every_updates"),
    ("train_policy.checkpoint_every_updates = 0", "train_policy.checkpoint_every_updates"),
    ("train_policy.keep_checkpoints = 0", "train_policy.keep_checkpoints"),
    ("train_policy.reward_scale = 1e999", "train_policy.reward_scale"),
    ("generate.shard_steps = 0", "generate.shard_steps"),
    ("generate.valid_fraction = 1.5", "generate.valid_fraction"),
    ("train_r.epochs = 0", "train_r.epochs"),
    ("RTrainer.batch_size = 0", "RTrainer.batch_size"),
    ("RNetwork.width = 0", "RNetwork.width"),
    ("EpisodicCuriosity.memory_capacity = 0", "EpisodicCuriosity.memory_capacity"),
    ("EpisodicCuriosity.percentile = 101", "EpisodicCuriosity.percentile"),
    ("EpisodicCuriosityOnline.retrain_period = 0", "EpisodicCuriosityOnline.retrain_period"),
    ("GridOracle.normalizer = 0", "GridOracle.normalizer"),
    ("train_policy.seed = 5000", "--run_number"),
    # Fixed-choice options: refused up front too, not when the policy stage builds them.
    ("EpisodicCuriosity.precision = 'fp8'",
     "EpisodicCuriosity.precision = 'fp8' is invalid: it must be one of 'fp32', 'bf16'"),
    ("EpisodicCuriosity.view = 'top'", "EpisodicCuriosity.view"),
    ("NGUEpisodic.lifelong = 'rnd2'", "NGUEpisodic.lifelong"),
    ("train_policy.compile_mode = 'fast'", "train_policy.compile_mode"),
    ("PPOConfig.precision = 'fp16'", "PPOConfig.precision"),
    ("EpisodicCuriosity.compile_scan = 'yes'", "EpisodicCuriosity.compile_scan = 'yes'"),
])
def test_bad_numbers_are_one_usage_error(binding, needle):
    configuration.parse([], [binding])
    with pytest.raises(UsageError) as error:
        preflight.check_numeric_bindings()
    # The binaries print the first line (gin appends "In call to configurable ..." lines).
    assert needle in str(error.value).splitlines()[0]


@pytest.mark.parametrize("method", sorted(methods.METHODS))
@pytest.mark.parametrize("preset", [None, "smoke,rnet_small"])
def test_shipped_configurations_pass(method, preset):
    configuration.parse(local.gin_files(methods.get(method), "doom_dense", preset),
                        ["train_policy.scenario = 'doom_dense'", "train_policy.seed = 3"])
    preflight.check_numeric_bindings()


def test_every_rule_names_a_real_parameter():
    """gin refuses to bind a parameter its configurable does not have: no rule checks nothing."""
    configuration.parse([], [])
    with gin.unlock_config():
        for name in preflight.RULES:
            gin.bind_parameter(name, 1)
    gin.clear_config()


def test_every_numeric_parameter_has_a_rule():
    """A numeric parameter added to a configurable later must get a rule here too."""
    import inspect

    from episodic_curiosity.agents import trainer
    from episodic_curiosity.rewards import dynamics, episodic_curiosity, grid_oracle, rnd
    from episodic_curiosity import report_card
    from episodic_curiosity.rnet import data, model, offline, training
    configurables = {
        "train_policy": trainer.train_policy, "generate": data.generate,
        "train_r": offline.train_r, "RTrainer": training.RTrainer,
        "RNetwork": model.RNetwork, "EpisodicCuriosity": episodic_curiosity.EpisodicCuriosity,
        "EpisodicCuriosityOnline": episodic_curiosity.EpisodicCuriosityOnline,
        "GridOracle": grid_oracle.GridOracle, "RND": rnd.RND,
        "DynamicsCuriosity": dynamics.DynamicsCuriosity, "ICM": dynamics.ICM,
        "write_report": report_card.write_report}
    for name, configurable in configurables.items():
        target = getattr(configurable, "__wrapped__", configurable)
        for parameter in inspect.signature(target).parameters.values():
            default = parameter.default
            numeric = (isinstance(default, (int, float)) and not isinstance(default, bool)
                       or parameter.annotation in (int, float, "int", "float"))
            if numeric and parameter.name not in ("num_envs",):  # num_envs: the trainer's own
                assert f"{name}.{parameter.name}" in preflight.RULES, f"{name}.{parameter.name}"
