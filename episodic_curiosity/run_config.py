"""A run remembers its configuration: a resume compares its gin configuration with the run's own.

A run directory's configuration is `config.gin` (written once, by the run's fresh start) updated
by the entries of `config_history.jsonl` (one JSON object per resume that changed something:
UTC time, step, the changes old -> new and the whole new configuration). Settings in MAY_CHANGE
(length, cadences, device, threads, workers, logging sinks) change on a resume silently, recorded
in the history; any other difference is refused before the run directory is written, unless the
binary got --accept_config_change. Configurations are compared as parsed bindings with the
code's defaults left out, so comments, order, number spelling or a default spelled out never
refuse. `config_hash` is the same comparison as one string, for the bucket's pointer (cloud
runs: launch/bucket_sync.py).
"""

import dataclasses
import datetime
import hashlib
import inspect
import json

import gin
from gin import config_parser

from episodic_curiosity.errors import UsageError
from episodic_curiosity.workdir import RunDir, atomic_write_text

ACCEPT_FLAG = "--accept_config_change"

# What a resume may change: how long the run goes on and how it is run, logged and checkpointed,
# not what it learns (`Configurable.parameter`, any scope). docs/resuming.md lists them.
MAY_CHANGE = frozenset({
    "train_policy.total_steps", "train_policy.eval_every_updates",
    "train_policy.checkpoint_every_updates", "train_policy.keep_checkpoints",
    "train_policy.device", "train_policy.compile_mode", "train_policy.keep_freed_memory",
    "train_policy.num_workers", "train_policy.eval_workers", "train_policy.torch_threads",
    "train_policy.update_threads", "generate.num_workers",
    "open_sink.project", "open_sink.entity", "open_sink.mode"})

_MAX_LISTED = 4  # differences named in the refusal line; the rest are counted


class _Named(str):
    """A reference or macro ('@RND', '%LR'), compared by its name: nothing is resolved, so a
    stored configuration naming a configurable that no longer exists still parses."""

    def __repr__(self):
        return str(self)


class _Delegate(config_parser.ParserDelegate):
    def configurable_reference(self, scoped_configurable_name, evaluate):
        return _Named(f"@{scoped_configurable_name}{'()' if evaluate else ''}")

    def macro(self, macro_name):
        return _Named(f"%{macro_name}")


def _configurable(selector: str):
    """The registered configurable `selector` names, or None (unknown, ambiguous or a macro)."""
    try:
        return gin.config._REGISTRY.get_match(selector)  # gin has no public lookup
    except KeyError:
        return None


def _default(selector: str, parameter: str) -> str | None:
    """repr of the parameter's default in the code, or None (none, or an unknown configurable)."""
    found = _configurable(selector) if selector and parameter else None
    try:
        signature = inspect.signature(found.wrapped) if found else None
    except (TypeError, ValueError):
        signature = None
    default = signature.parameters.get(parameter) if signature else None
    return None if default is None or default.default is default.empty else repr(default.default)


def _key(scope: str, selector: str, parameter: str) -> str:
    """'[scope/]Name.parameter', the configurable by its registered name however it was spelled
    ('ppo.PPOConfig' and 'PPOConfig' are one); a macro by its own name."""
    found = _configurable(selector) if parameter else None
    name = f"{found.name if found else selector}{'.' + parameter if parameter else ''}"
    return f"{scope}/{name}" if scope else name


def bindings(text: str) -> dict:
    """{'[scope/]Name.parameter': repr(value)} of a gin text, parameters at their default left out.

    Raises SyntaxError (gin's parser) on text that is not gin.
    """
    found = {}
    for statement in config_parser.ConfigParser(text, _Delegate()):
        if isinstance(statement, config_parser.BindingStatement):
            key = _key(statement.scope, statement.selector, statement.arg_name)
            found[key] = repr(statement.value)
            if found[key] == _default(statement.selector, statement.arg_name):
                del found[key]
    return found


def _may_change(key: str) -> bool:
    return key.rpartition("/")[2] in MAY_CHANGE


def _shown(value, key: str) -> str:
    """A value for the refusal and the history; a missing one is the code's default."""
    if value is not None:
        return value
    selector, _, parameter = key.rpartition("/")[2].rpartition(".")
    return _default(selector, parameter) or "(unbound)"


def differences(old: dict, new: dict) -> dict:
    """{key: (old, new)} for every parameter the two binding sets give other values."""
    return {key: (_shown(old.get(key), key), _shown(new.get(key), key))
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)}


def config_hash(text: str) -> str:
    """16 hex digits naming what a configuration trains (MAY_CHANGE left out): two fleets on one
    bucket prefix with the same hash continue each other's runs."""
    kept = sorted((k, v) for k, v in bindings(text).items() if not _may_change(k))
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]


def history(run_dir: RunDir) -> list[dict]:
    """The run's configuration changes, oldest first ([] for a run that never changed)."""
    if not run_dir.config_history.is_file():
        return []
    entries = []
    for number, line in enumerate(run_dir.config_history.read_text().splitlines(), 1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise UsageError(f"{run_dir.config_history} line {number} is not JSON; restore it, "
                             "or pass a new --run_number or --workdir") from e
    return entries


def current(run_dir: RunDir) -> tuple[str | None, str]:
    """(the run's configuration text now, the file it comes from); (None, '') when it has none:
    a run directory from before config.gin, resumed without a check."""
    entries = history(run_dir)
    if entries:
        return entries[-1]["config"], run_dir.config_history.name
    if run_dir.gin_config.is_file():
        return run_dir.gin_config.read_text(), run_dir.gin_config.name
    return None, ""


@dataclasses.dataclass
class Change:
    """What a (re)start does to the run's configuration record; see record()."""
    fresh: bool
    changed: dict = dataclasses.field(default_factory=dict)  # key -> (old, new)
    accepted: bool = False  # changed includes settings outside MAY_CHANGE


def check(run_dir: RunDir, text: str, resumed: bool, accept: bool = False) -> Change:
    """Compares the configuration `text` with the run's own; writes nothing.

    A run without a checkpoint (`resumed` False) starts afresh under `text`. A difference outside
    MAY_CHANGE is a UsageError naming it unless `accept`.
    """
    if not resumed:
        return Change(fresh=True)
    stored, source = current(run_dir)
    if stored is None:
        return Change(fresh=False)
    try:
        changed = differences(bindings(stored), bindings(text))
    except SyntaxError as e:
        raise UsageError(f"{run_dir.path / source} is not a gin configuration ({e.msg}); restore "
                         "it, or pass a new --run_number or --workdir") from e
    refused = {k: v for k, v in changed.items() if not _may_change(k)}
    if refused and not accept:
        listed = [f"{k} {old} -> {new}" for k, (old, new) in list(refused.items())[:_MAX_LISTED]]
        more = f" (and {len(refused) - _MAX_LISTED} more)" if len(refused) > _MAX_LISTED else ""
        raise UsageError(f"{run_dir.path} was trained with another configuration: "
                         f"{', '.join(listed)}{more}; to continue it with the new one (appended "
                         f"to its {run_dir.config_history.name}), rerun with {ACCEPT_FLAG}; to "
                         "start another run, pass a new --run_number or --workdir")
    return Change(fresh=False, changed=changed, accepted=bool(refused))


def record(run_dir: RunDir, text: str, change: Change, step: int) -> bool:
    """Writes what `change` says: a fresh start's config.gin (and no history), or a resume's
    changes appended to the history, dated; nothing else is ever rewritten.

    Returns whether this run segment trains with the run's first configuration, i.e. may keep
    writing operative_config.gin (a changed run's first segment keeps its own there).
    """
    if change.fresh:
        atomic_write_text(run_dir.gin_config, text)
        run_dir.config_history.unlink(missing_ok=True)  # the run it described has no checkpoint
        return True
    if not run_dir.gin_config.is_file():
        atomic_write_text(run_dir.gin_config, text)
    if change.changed:
        entry = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                 "step": step, "accepted": change.accepted,
                 "changed": {k: list(v) for k, v in change.changed.items()}, "config": text}
        before = (run_dir.config_history.read_text() if run_dir.config_history.is_file()
                  else "")
        atomic_write_text(run_dir.config_history, before + json.dumps(entry) + "\n")
    return not run_dir.config_history.is_file()
