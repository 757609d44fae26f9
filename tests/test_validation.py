"""Numeric gin parameters: every rule refuses its bad values with one line naming the binding,
and accepts the shipped defaults and presets (in-process; the launcher's exit 2 is in
test_launcher.py)."""

import typing

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


def test_every_bound_is_declared_on_a_parameter_a_binding_can_set():
    """The walk finds the declarations (the 120 bounds that preflight.RULES once listed by hand,
    and those added since), and each names a bindable parameter."""
    bounds = preflight.declared_bounds()
    assert len(bounds) >= 120
    configuration.parse([], [])
    with gin.unlock_config():
        for name in bounds:
            gin.bind_parameter(name, 1)
    gin.clear_config()


def numeric_parameters():
    """'Configurable.parameter' for every numeric parameter a user can bind: walked from gin's
    registry of this package's configurables (register_configurables imports them all), so a
    configurable added later is covered without a list to keep."""
    configuration.register_configurables()
    names = []
    for configurable in configuration.configurables():
        for parameter in configuration.parameters(configurable).values():
            default = parameter.default
            annotation = parameter.annotation
            if typing.get_origin(annotation) is typing.Annotated:
                annotation = typing.get_args(annotation)[0]
            if (isinstance(default, (int, float)) and not isinstance(default, bool)
                    or annotation in (int, float, "int", "float")):
                names.append(f"{configurable.name}.{parameter.name}")
    return names


def test_the_walk_finds_every_kind_of_configurable():
    names = set(numeric_parameters())
    for name in ("PPOConfig.num_envs", "train_policy.total_steps", "StateCounts.coef",
                 "NGUEpisodic.k", "E3B.ridge", "RIDE.coef", "DynamicsModel.learning_rate",
                 "LifelongNovelty.feature_dim", "write_report.levels", "RND.feature_dim"):
        assert name in names, name
    assert "RND.num_envs" not in names  # denylisted: the trainer passes it
    assert "env_factories.obs_size" not in names  # not in its allowlist


def test_every_numeric_parameter_refuses_a_non_number():
    """A numeric parameter added to a configurable later must declare its bound (an annotation
    of validation.py: `k: Count = 3`), or be checked by PPOConfig's own __post_init__: NaN is
    outside every bound."""
    unchecked = []
    for name in numeric_parameters():
        configuration.parse([], [])
        with gin.unlock_config():
            gin.bind_parameter(name, float("nan"))
        try:
            preflight.check_numeric_bindings()
        except UsageError as e:
            assert name in str(e), (name, str(e))
        else:
            unchecked.append(name)
    gin.clear_config()
    assert not unchecked, f"no bound refuses NaN for {unchecked}: annotate each with its bound"
