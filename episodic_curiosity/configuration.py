"""Gin files and bindings -> configured library, with bad input reported as one line."""

import importlib
import inspect
import pathlib
import pkgutil

import gin

from episodic_curiosity.errors import UsageError

GIN_DIR = pathlib.Path(__file__).resolve().parent.parent / "gin"
PACKAGE = __name__.rpartition(".")[0]


def register_configurables():
    """Imports every module with gin configurables, so any binding can name them.

    Every module of rewards/ is imported (found on disk): a new intrinsic reward is registered by
    its file alone.
    """
    from episodic_curiosity.agents import ppo, trainer  # noqa: F401
    from episodic_curiosity import rewards
    for module in pkgutil.iter_modules(rewards.__path__):
        importlib.import_module(f"{rewards.__name__}.{module.name}")
    from episodic_curiosity.rnet import data, model, offline, training  # noqa: F401
    from episodic_curiosity import report_card, wandb_sink  # noqa: F401


def configurables():
    """This package's registered gin configurables (after register_configurables), by name."""
    registry = gin.config._REGISTRY  # gin has no public listing of its configurables
    found = {c.name: c for _, c in registry.items() if c.module.split(".")[0] == PACKAGE}
    return [found[name] for name in sorted(found)]


def parameters(configurable):
    """{name: inspect.Parameter} a binding may set on `configurable` (its allow- and denylist
    applied; *args and **kwargs left out)."""
    try:
        signature = inspect.signature(configurable.wrapped)
    except (TypeError, ValueError):
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: p for name, p in signature.parameters.items()
            if p.kind in kinds and name != "self"
            and (configurable.allowlist is None or name in configurable.allowlist)
            and name not in (configurable.denylist or ())}


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
