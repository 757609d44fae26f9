"""Progress: a bar on a terminal, log lines elsewhere; the optional wandb sink."""

import io
import os
import logging
import sys
import types

import pytest

from episodic_curiosity import progress, wandb_sink
from episodic_curiosity.errors import UsageError


def test_log_lines_when_no_one_watches(caplog, monkeypatch):
    monkeypatch.delenv("EC_PROGRESS", raising=False)
    assert not progress.interactive(io.StringIO())  # not a TTY: CI, cloud VMs, files
    caplog.set_level(logging.INFO)
    bar = progress.Progress(4096, "train doom_dense", log_every_s=0, stream=io.StringIO())
    bar.update_to(1024, ret="0.50")
    bar.update(1024)
    line = caplog.records[-1].getMessage()
    assert line.startswith("train doom_dense: 2,048/4,096 steps (50%) | ")
    assert "steps/s | ETA " in line and line.endswith("ret 0.50")
    assert bar.eta_s is not None and bar.eta_s > 0
    slow = progress.Progress(4, "R-network training", unit="epochs", bar=False)
    slow._start -= 100  # one epoch took 100 s
    slow.update(1)
    assert " | 100.0 s/epoch | ETA 0h05m00s" in slow.line()


def test_a_bar_on_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setenv("EC_PROGRESS", "bar")
    assert progress.interactive(stream)
    with progress.Progress(100, "evaluate", unit="episodes", initial=10, stream=stream) as bar:
        bar.update(90, ret="1.0")
    text = stream.getvalue()
    assert "evaluate" in text and "100/100" in text and "ret=1.0" in text
    monkeypatch.setenv("EC_PROGRESS", "log")
    assert not progress.interactive(stream)


def test_wandb_is_optional_and_missing_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # as on a machine without it
    wandb_sink.check_available(None)
    assert wandb_sink.open_sink("/tmp/run") is None  # off by default
    with pytest.raises(UsageError, match="pip install wandb"):
        wandb_sink.check_available("my-project")
    assert wandb_sink.binding("p") == ["open_sink.project = 'p'"]


def test_wandb_sink_logs_scalars_to_one_run_per_run_directory(monkeypatch):
    calls = []

    class Run:
        def log(self, data, step):
            calls.append(("log", data, step))

        def finish(self):
            calls.append(("finish",))

    def init(**kwargs):
        calls.append(("init", kwargs))
        return Run()

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
    sink = wandb_sink.open_sink("/w/ppo/doom_dense/run_number_0", config="x = 1",
                                project="ec", resume_step=512)
    sink.log({"charts/fps": 300}, 768)
    sink.close()
    (_, kwargs), log, finish = calls
    assert kwargs["project"] == "ec" and kwargs["resume"] == "allow"
    assert kwargs["name"] == "ppo/doom_dense/run_number_0"
    again = wandb_sink.open_sink("/w/ppo/doom_dense/run_number_0", project="ec")
    assert calls[-1][1]["id"] == kwargs["id"]  # a resumed run continues the same wandb run
    assert log == ("log", {"charts/fps": 300.0}, 768) and finish == ("finish",)
    del again


def test_launcher_wandb_project_without_wandb_is_one_line(tmp_path):
    from conftest import run_launcher
    hidden = tmp_path / "no_wandb" / "wandb"  # shadows an installed wandb: its import fails
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('wandb hidden by the test')\n")
    result = run_launcher("--method=ppo", "--scenario=doom_basic", f"--workdir={tmp_path / 'w'}",
                          "--wandb_project=ec",
                          extra_env={"PYTHONPATH": os.pathsep.join(
                              [str(hidden.parent), os.environ.get("PYTHONPATH", "")])})
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [
        "error: --wandb_project needs the wandb package, which is not installed; run 'pip "
        "install wandb' or drop --wandb_project"]
    assert not (tmp_path / "w").exists()
