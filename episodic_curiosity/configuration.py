"""Gin files and bindings -> configured library, with bad input reported as one line."""

import pathlib

import gin

from episodic_curiosity.errors import UsageError

GIN_DIR = pathlib.Path(__file__).resolve().parent.parent / "gin"


def register_configurables():
    """Imports every module with gin configurables, so any binding can name them."""
    from episodic_curiosity.agents import ppo, trainer  # noqa: F401
    from episodic_curiosity.rewards import episodic_curiosity, grid_oracle  # noqa: F401
    from episodic_curiosity.rewards import counts, e3b, ngu, ride, state_embedding  # noqa: F401
    from episodic_curiosity.rewards import dynamics, rnd  # noqa: F401
    from episodic_curiosity.rnet import data, model, offline, training  # noqa: F401
    from episodic_curiosity import report_card, wandb_sink  # noqa: F401


def parse(files=(), bindings=()):
    """Clears gin, then applies `files` and `bindings` in order (later ones win)."""
    register_configurables()
    gin.clear_config()
    for path in files:
        if not pathlib.Path(path).is_file():
            raise UsageError(f"gin config file {path} does not exist")
    try:
        gin.parse_config_files_and_bindings([str(p) for p in files], list(bindings))
    except Exception as e:  # gin raises ValueError, SyntaxError, KeyError... for bad bindings
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(f"bad gin configuration: {message}; bindings look like "
                         "'PPOConfig.learning_rate = 2.5e-4' (see gin/ for valid names)") from e


def query(name: str, default):
    """The bound value of a gin parameter, or `default` when it is not bound."""
    try:
        return gin.query_parameter(name)
    except ValueError:
        return default


def query_files(files, name: str, default):
    """The value `files` bind to a gin parameter (gin is cleared before and after)."""
    parse(files)
    try:
        return query(name, default)
    finally:
        gin.clear_config()
