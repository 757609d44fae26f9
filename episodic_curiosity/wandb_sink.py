"""Optional Weights & Biases logging beside TensorBoard; off unless a project is given.

wandb is not a dependency: it is imported only when `open_sink.project` is set (the binaries'
`--wandb_project` flag binds it), and a missing package is one `error:` line before any work.
The training loop calls, once per run and once per update:

    sink = wandb_sink.open_sink(run_dir, config=gin.config_str(), resume_step=step)  # or None
    if sink: sink.log({"charts/fps": fps, ...}, step)
    ...
    if sink: sink.close()
"""

import hashlib
import importlib

import gin

from episodic_curiosity.errors import UsageError

_INSTALL = "pip install wandb"


def _import_wandb():
    try:
        return importlib.import_module("wandb")
    except ImportError as e:
        raise UsageError(f"--wandb_project needs the wandb package, which is not installed; "
                         f"run '{_INSTALL}' or drop --wandb_project") from e


def check_available(project: str | None) -> None:
    """Fails early (before a run directory is written) when logging is asked for without wandb."""
    if project:
        _import_wandb()


def binding(project: str | None) -> list[str]:
    """The gin binding a binary's --wandb_project flag turns into ([] when not given)."""
    if not project:
        return []
    if "'" in project:
        raise UsageError(f"--wandb_project '{project}' may not contain quotes")
    return [f"open_sink.project = '{project}'"]


class WandbSink:
    """One wandb run per run directory; a resumed training run continues the same wandb run."""

    def __init__(self, wandb, run):
        self._wandb, self._run = wandb, run

    def log(self, scalars: dict, step: int) -> None:
        self._run.log({k: float(v) for k, v in scalars.items()}, step=int(step))

    def close(self) -> None:
        self._run.finish()


@gin.configurable(denylist=["run_dir", "config", "resume_step"])
def open_sink(run_dir, config: str = "", resume_step: int = 0, project: str | None = None,
              entity: str | None = None, mode: str = "online"):
    """A WandbSink for `run_dir` when `project` is set, else None.

    Args:
      config: the gin configuration text, stored with the wandb run.
      mode: wandb's mode ('online', 'offline': log locally and `wandb sync` later).
    """
    if not project:
        return None
    wandb = _import_wandb()
    path = str(getattr(run_dir, "path", run_dir))
    run_id = hashlib.sha1(path.encode()).hexdigest()[:16]  # stable across resumes of this run
    run = wandb.init(project=project, entity=entity, id=run_id, resume="allow", mode=mode,
                     name="/".join(path.rstrip("/").split("/")[-3:]), dir=path,
                     config={"gin": config, "resume_step": resume_step})
    return WandbSink(wandb, run)
