"""Every numeric (and fixed-choice) gin parameter a user can set, checked before a run
directory is touched.

A zero, negative or fractional count fails late and messily (a traceback minutes in, after the run
directory was written); here it is one `error:` line naming the binding and the valid range.
PPOConfig checks most of its own fields (`PPOConfig.__post_init__`); this module checks the rest.
The rules use the primitives of validation.py (the bottom floor); this module sits above the
configurables it names, so it may import them.
"""

from episodic_curiosity import configuration
from episodic_curiosity.errors import UsageError
from episodic_curiosity.validation import (COMPILE_MODES, NATURE_CNN_MIN_SIZE, PRECISIONS, choice,
                                           integer, real)


def _positive(name, value):
    real(name, value, 0.0, low_open=True)


def _count(name, value):
    integer(name, value, 1)


def _index(name, value):
    integer(name, value, 0)


def _optional_positive(name, value):
    if value is not None:
        _positive(name, value)


def _optional_count(name, value):
    if value is not None:
        _count(name, value)


def _optional_index(name, value):
    if value is not None:
        _index(name, value)


RULES = {
    # PPOConfig's two-stream fields (its __post_init__ checks the others).
    "PPOConfig.gamma_int": lambda n, v: real(n, v, 0.0, 1.0),
    "PPOConfig.ext_coef": real,
    "PPOConfig.int_coef": real,
    "train_policy.total_steps": _count,
    "train_policy.seed": _index,
    "train_policy.num_workers": _optional_index,
    "train_policy.obs_size": lambda n, v: integer(n, v, NATURE_CNN_MIN_SIZE),
    "train_policy.reward_scale": real,
    "train_policy.eval_every_updates": _count,
    "train_policy.eval_workers": _optional_index,
    "train_policy.eval_envs": _count,
    "train_policy.checkpoint_every_updates": _count,
    "train_policy.keep_checkpoints": _count,
    "train_policy.torch_threads": _index,
    "train_policy.update_threads": _index,
    "train_policy.compile_mode": choice(*COMPILE_MODES),
    "EpisodicCuriosity.precision": choice(*PRECISIONS),
    "EpisodicCuriosityOnline.precision": choice(*PRECISIONS),
    "EpisodicCuriosity.compile_scan": choice(True, False),
    "EpisodicCuriosityOnline.compile_scan": choice(True, False),
    "EpisodicCuriosity.view": choice("raw", "policy"),
    "EpisodicCuriosityOnline.view": choice("raw", "policy"),
    "NGUEpisodic.lifelong": choice(None, "rnd"),
    "generate.total_steps": _count,
    "generate.num_envs": _count,
    "generate.num_workers": _index,
    "generate.shard_steps": _count,
    "generate.valid_fraction": lambda n, v: real(n, v, 0.0, 1.0, low_open=True),
    "generate.seed": _index,
    "train_r.epochs": _count,
    "train_r.steps_per_epoch": _count,
    "train_r.valid_pairs": _count,
    "train_r.seed": _index,
    "RTrainer.learning_rate": _positive,
    "RTrainer.batch_size": _count,
    "RTrainer.k": _count,
    "RTrainer.negative_gap": _count,
    "RNetwork.width": _count,
    "RNetwork.embedding_size": _count,
    "EpisodicCuriosity.memory_capacity": _count,
    "EpisodicCuriosity.percentile": lambda n, v: real(n, v, 0.0, 100.0),
    "EpisodicCuriosity.novelty_threshold": lambda n, v: real(n, v, 0.0, 1.0),
    "EpisodicCuriosity.alpha": real,
    "EpisodicCuriosity.beta": real,
    "EpisodicCuriosity.seed": _index,
    "EpisodicCuriosityOnline.history_steps": _count,
    "EpisodicCuriosityOnline.retrain_period": _count,
    "EpisodicCuriosityOnline.epochs": _count,
    "EpisodicCuriosityOnline.steps_per_epoch": _optional_count,  # None: a full pass
    "EpisodicCuriosityOnline.seed": _index,
    "GridOracle.alpha": real,
    "GridOracle.grid": _count,
    "GridOracle.normalizer": _positive,
    "GridOracle.cell_size": _optional_positive,
    "StateCounts.coef": real,
    "EpisodicStateCounts.coef": real,
    "RIDE.coef": real,
    "NGUEpisodic.coef": real,
    "NGUEpisodic.k": _count,
    "NGUEpisodic.kernel_epsilon": _positive,
    "NGUEpisodic.cluster_distance": lambda n, v: real(n, v, 0.0),
    "NGUEpisodic.c": _positive,
    "NGUEpisodic.max_similarity": _positive,
    "NGUEpisodic.memory_capacity": _count,
    "LifelongNovelty.max_multiplier": lambda n, v: real(n, v, 1.0),
    "LifelongNovelty.learning_rate": _positive,
    "LifelongNovelty.feature_dim": _count,
    "LifelongNovelty.max_batch": _count,
    "E3B.coef": real,
    "NovelD.coef": lambda n, v: real(n, v, 0.0),
    "NovelD.alpha": lambda n, v: real(n, v, 0.0),
    "RE3.beta": lambda n, v: real(n, v, 0.0),
    "RE3.rho": lambda n, v: real(n, v, 0.0, 1.0),
    "RE3.k": _count,
    "RE3.memory_size": _count,  # and >= num_envs, k + 1: RE3's constructor, which knows both
    "RE3.feature_dim": _count,
    "RE3.obs_size": lambda n, v: integer(n, v, NATURE_CNN_MIN_SIZE),
    "Disagreement.num_models": lambda n, v: integer(n, v, 2),  # one model has no variance
    "Disagreement.keep_prob": lambda n, v: real(n, v, 0.0, 1.0, low_open=True),
    "E3B.ridge": _positive,
    "DynamicsModel.embed_dim": _optional_count,
    "DynamicsModel.forward_loss_coef": lambda n, v: real(n, v, 0.0),
    "DynamicsModel.inverse_loss_coef": lambda n, v: real(n, v, 0.0),
    "DynamicsModel.learning_rate": _positive,
    "DynamicsModel.rmsprop_alpha": lambda n, v: real(n, v, 0.0, 1.0),
    "DynamicsModel.rmsprop_eps": _positive,
    "DynamicsModel.max_grad_norm": _positive,
    "DynamicsModel.steps_per_update": _count,
    "DynamicsModel.max_batch": _count,
    "RTrainer.conv_l2": lambda n, v: real(n, v, 0.0),
    "write_report.agent_steps": _count,
    "write_report.pairs_per_bin": _count,
    "write_report.levels": _count,
    "write_report.seed": _index,
    # RND, dynamics curiosity and ICM (rewards/rnd.py, rewards/dynamics.py).
    "RND.learning_rate": _positive,
    "RND.update_proportion": lambda n, v: real(n, v, 0.0, 1.0, low_open=True),
    "RND.epochs": _count,
    "RND.num_minibatches": _count,
    "RND.warmup_steps_per_env": _index,
    "RND.feature_dim": _count,
    "RND.obs_size": lambda n, v: integer(n, v, NATURE_CNN_MIN_SIZE),
    "DynamicsCuriosity.feature_dim": _count,
    "DynamicsCuriosity.hidden": _count,
    "DynamicsCuriosity.learning_rate": _positive,
    "DynamicsCuriosity.epochs": _count,
    "DynamicsCuriosity.num_minibatches": _count,
    "DynamicsCuriosity.warmup_env_steps": _index,
    "DynamicsCuriosity.forward_weight": lambda n, v: real(n, v, 0.0),
    "DynamicsCuriosity.aux_weight": lambda n, v: real(n, v, 0.0),
    "DynamicsCuriosity.reward_scale": lambda n, v: real(n, v, 0.0),
    "DynamicsCuriosity.forward_blocks": _count,
    "DynamicsCuriosity.obs_size": lambda n, v: integer(n, v, NATURE_CNN_MIN_SIZE),
    "ICM.reward_scale": lambda n, v: real(n, v, 0.0),
    "ICM.forward_inverse_ratio": lambda n, v: real(n, v, 0.0, 1.0),
    "ICM.loss_strength": _positive,
    "ICM.hidden": _count,
    "ICM.learning_rate": _positive,
    "ICM.epochs": _count,
    "ICM.num_minibatches": _count,
    "ICM.feature_size": _count,
}


def check_numeric_bindings() -> None:
    """Raises UsageError for the first bound numeric parameter out of range (defaults are valid)."""
    from episodic_curiosity.agents import ppo
    from episodic_curiosity.envs import splits
    config = ppo.PPOConfig()  # its __post_init__ checks PPO's fields
    for name, rule in RULES.items():
        value = configuration.query(name, _UNBOUND)
        if value is not _UNBOUND:
            rule(name, value)
    seed = configuration.query("train_policy.seed", 0)
    if (seed + 1) * config.num_envs > splits.MAX_EPISODE_ENVS:
        raise UsageError(f"train_policy.seed (--run_number) = {seed} with PPOConfig.num_envs = "
                         f"{config.num_envs} needs env indices past {splits.MAX_EPISODE_ENVS} "
                         "per split; use a smaller --run_number")


_UNBOUND = object()
