"""Gin files and bindings -> configured library, with bad input reported as one line."""

import difflib
import importlib
import inspect
import pathlib
import pkgutil
import re

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


_UNKNOWN_PARAMETER = re.compile(r"Configurable '([\w.]+)' (?:doesn't have a parameter named|"
                                r"has denylisted kwarg) '(\w+)'")
_UNKNOWN_CONFIGURABLE = re.compile(r"No configurable matching '([\w.]+)'")


def suggestion(message: str, text: str = "") -> str | None:
    """'did you mean X?' for gin's error `message` about an unknown name, or None.

    A parameter of that name in another configurable is the strong hint (`train_policy.num_envs`
    -> PPOConfig.num_envs; of those, the ones the configuration binds elsewhere, when any);
    otherwise the closest names by difflib. `text`: the configuration parsed (files, bindings).
    """
    known = {c.name: set(parameters(c)) for c in configurables()}
    mentions = {name: len(re.findall(rf"(?<![\w.]){re.escape(name)}\.", text)) for name in known}

    def owners(parameter, besides=None):  # 'C.parameter' for each C that has it
        found = [c for c, params in known.items() if parameter in params and c != besides]
        bound = [c for c in found if mentions[c]]  # those the configuration binds, when any
        return [f"{c}.{parameter}" for c in sorted(bound or found, key=lambda c: -mentions[c])]

    def close_parameters(parameter):  # parameters named like it, anywhere
        everywhere = sorted({p for params in known.values() for p in params})
        return [name for p in difflib.get_close_matches(parameter, everywhere, n=2, cutoff=0.75)
                for name in owners(p)]

    match = _UNKNOWN_PARAMETER.search(message)
    if match:
        configurable, parameter = match.group(1).rpartition(".")[2], match.group(2)
        own = difflib.get_close_matches(parameter, sorted(known.get(configurable, ())), n=2,
                                        cutoff=0.7)
        close = (owners(parameter, besides=configurable)
                 or [f"{configurable}.{p}" for p in own] or close_parameters(parameter))
    else:
        match = _UNKNOWN_CONFIGURABLE.search(message)
        if not match:
            return None
        configurable = match.group(1).rpartition(".")[2]
        names = difflib.get_close_matches(configurable, sorted(known), n=3, cutoff=0.6)
        bound = re.findall(rf"(?<![\w.]){re.escape(configurable)}\.(\w+)", text)
        if bound:  # the parameter it was bound with: Configurable.parameter where it exists
            parameter = bound[0]
            close = [f"{c}.{parameter}" for c in names if parameter in known[c]] or names
        else:
            close = names
    if not close:
        return None
    return f"did you mean {' or '.join(close[:2])}?"


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
        text = "\n".join([*(pathlib.Path(p).read_text() for p in files), *bindings])
        hint = suggestion(message, text)
        raise UsageError(f"bad gin configuration: {message.rstrip('.')}; "
                         + (f"{hint} " if hint else "")
                         + "bindings look like 'PPOConfig.learning_rate = 2.5e-4' (see gin/ for "
                         "valid names)") from e


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
