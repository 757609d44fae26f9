"""Every numeric (and fixed-choice) gin parameter a user can set, checked before a run
directory is touched.

A zero, negative or fractional count fails late and messily (a traceback minutes in, after the run
directory was written); here it is one `error:` line naming the binding and the valid range.
Each parameter declares its bound once, in its signature (`k: Count = 3`, validation.py); this
walks every registered configurable's declarations and checks the bound bindings. PPOConfig
checks most of its own fields (`PPOConfig.__post_init__`).
"""

from episodic_curiosity import configuration, validation
from episodic_curiosity.errors import UsageError


def check_numeric_bindings() -> None:
    """Raises UsageError for the first bound numeric parameter out of range (defaults are valid)."""
    from episodic_curiosity.agents import ppo
    from episodic_curiosity.envs import splits
    config = ppo.PPOConfig()  # its __post_init__ checks PPO's fields
    for name, bound in declared_bounds().items():
        value = configuration.query(name, _UNBOUND)
        if value is not _UNBOUND:
            bound.check(name, value)
    seed = configuration.query("train_policy.seed", 0)
    if (seed + 1) * config.num_envs > splits.MAX_EPISODE_ENVS:
        raise UsageError(f"train_policy.seed (--run_number) = {seed} with PPOConfig.num_envs = "
                         f"{config.num_envs} needs env indices past {splits.MAX_EPISODE_ENVS} "
                         "per split; use a smaller --run_number")


_UNBOUND = object()


def declared_bounds() -> dict:
    """{'Configurable.parameter': Bound} of every registered configurable of the package."""
    configuration.register_configurables()
    return {f"{c.name}.{name}": bound for c in configuration.configurables()
            for name, bound in validation.bounds(c.wrapped).items()
            if name in configuration.parameters(c)}

