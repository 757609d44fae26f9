"""How a run ends when it is told to: SIGINT / SIGTERM to the whole process group (Ctrl-C,
`timeout`, a batch scheduler), the launcher SIGKILLed, a finished run rerun, a checkpoint write
that fails. Real launchers, real signals; the processes left behind are counted from /proc."""

import os
import pathlib
import resource
import signal
import subprocess
import sys
import time
import types

import pytest

from conftest import LAUNCHER
from episodic_curiosity import checkpoint, errors
from episodic_curiosity.agents.loop import Cadence, TrainingLoop

# ViZDoom: each env worker starts an engine process of its own, the ones the issue found left.
TINY = ["--method=ppo", "--scenario=doom_dense", "--preset=tiny",
        "--gin_bindings=train_policy.num_workers=2"]
# MiniGrid: no engine, no shared memory (ViZDoom's fails under a file size limit), 12 s a run.
MINIGRID = ["--method=ppo", "--scenario=minigrid_doorkey_5x5", "--preset=tiny"]
BATCH = 4 * 64

pytestmark = pytest.mark.skipif(not pathlib.Path("/proc/self/stat").exists(), reason="needs /proc")


def session_members(sid: int) -> list[str]:
    """'pid name' of every process in session `sid` (the launcher's own, start_new_session),
    wherever it was reparented."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:]
        state, session = fields.split()[0], int(fields.split()[3])
        if session == sid and state != "Z":
            found.append(f"{entry.name} {name}")
    return found


def left_after(sid: int, grace: float = 10.0) -> list[str]:
    """The session's processes still alive `grace` seconds after its leader ended (they should be
    gone within a second); any found are killed so that a failing test leaks nothing."""
    deadline = time.time() + grace
    while (left := session_members(sid)) and time.time() < deadline:
        time.sleep(0.2)
    for member in left:
        try:
            os.kill(int(member.split()[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


class Launcher:
    """The launcher in a session of its own, its output in files (an orphan holding a pipe
    would block reading it)."""

    def __init__(self, tmp_path, *args, preexec_fn=None, base=TINY):
        scenario = next(a for a in base if a.startswith("--scenario=")).split("=")[1]
        self.run = tmp_path / "ppo" / scenario / "run_number_0"
        self.stderr_path = tmp_path / "stderr.txt"
        self.stdout_path = tmp_path / "stdout.txt"
        with open(self.stderr_path, "w") as err, open(self.stdout_path, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, LAUNCHER, *base, f"--workdir={tmp_path}", *args],
                stdout=out, stderr=err, start_new_session=True, preexec_fn=preexec_fn,
                env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def wait_for(self, predicate, what, timeout=600):
        deadline = time.time() + timeout  # a hang guard only
        while not predicate():
            assert self.proc.poll() is None, f"exited waiting for {what}: {self.stderr()[-2000:]}"
            assert time.time() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)

    def wait_for_an_update(self):
        """Env workers and engines running, the update loop going."""
        progress = self.run / "progress.csv"
        self.wait_for(lambda: progress.is_file() and len(progress.read_text().splitlines()) > 1,
                      "the first update's row")

    def finish(self, timeout=300) -> int:
        self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop_line(self) -> str:
        lines = [line for line in self.stderr().splitlines() if line.startswith("stopped by")]
        assert len(lines) == 1, self.stderr()[-3000:]
        return lines[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_group_checkpoints_exits_128_plus_signal_and_leaves_no_process(
        tmp_path, signum):
    launcher = Launcher(tmp_path)
    launcher.wait_for_an_update()
    assert len(session_members(launcher.proc.pid)) >= 5  # launcher, 2+2+2 workers, engines
    os.killpg(launcher.proc.pid, signum)
    assert launcher.finish() == 128 + signum
    assert left_after(launcher.proc.pid) == []
    line = launcher.stop_line()
    name = signal.Signals(signum).name
    assert line.startswith(f"stopped by {name} at step ") and "rerun the same command" in line
    stopped_at = int(line.split(" at step ")[1].split(";")[0])
    assert stopped_at % BATCH == 0 and stopped_at >= BATCH
    assert checkpoint.list_steps(launcher.run / "checkpoints")[-1] == stopped_at
    assert "Traceback" not in launcher.stderr()
    assert not list((launcher.run / "checkpoints").glob(".*.tmp"))
    if signum == signal.SIGTERM:  # the same run, finished by asking for no more steps
        _finished_rerun_says_so_and_starts_no_env(tmp_path, stopped_at)


def _finished_rerun_says_so_and_starts_no_env(tmp_path, step):
    start = time.time()
    rerun = Launcher(tmp_path, f"--gin_bindings=train_policy.total_steps={step}")
    children = set()
    while rerun.proc.poll() is None:
        children |= {m for m in session_members(rerun.proc.pid)
                     if not m.startswith(f"{rerun.proc.pid} ")}
        time.sleep(0.05)
    seconds = time.time() - start
    assert rerun.proc.returncode == 0, rerun.stderr()[-3000:]
    assert "is done: step" in rerun.stdout_path.read_text()
    assert not children, children
    assert seconds < 60, seconds  # imports only (~5 s on a loaded 2-core machine)


def test_the_launcher_sigkilled_takes_its_env_processes_with_it(tmp_path):
    launcher = Launcher(tmp_path)
    launcher.wait_for_an_update()
    launcher.proc.kill()  # the launcher alone: nothing runs in it to tell the workers
    assert launcher.finish() == -signal.SIGKILL
    assert left_after(launcher.proc.pid) == []


def test_a_signal_before_the_update_loop_stops_at_once_with_one_line(tmp_path):
    launcher = Launcher(tmp_path)
    log = launcher.run / "log.txt"
    launcher.wait_for(lambda: log.is_file() and "starting doom_dense" in log.read_text(),
                      "the run's start (env workers starting)")
    time.sleep(1.0)
    os.killpg(launcher.proc.pid, signal.SIGTERM)
    assert launcher.finish() == 128 + signal.SIGTERM
    assert left_after(launcher.proc.pid) == []
    assert launcher.stop_line() == "stopped by SIGTERM; rerun the same command to resume"
    assert "Traceback" not in launcher.stderr()


def test_a_failed_checkpoint_write_is_one_error_line_and_leaves_no_partial_file(tmp_path):
    """A real failed write: a file size limit (RLIMIT_FSIZE, as `ulimit -f`) below a checkpoint's
    390 kB, so the first checkpoint's write fails part way (EFBIG; ENOSPC takes the same path)."""
    limit = 200_000
    launcher = Launcher(tmp_path, base=MINIGRID, preexec_fn=lambda: resource.setrlimit(
        resource.RLIMIT_FSIZE, (limit, limit)))
    assert launcher.finish() == 1
    lines = launcher.stderr().strip().splitlines()
    path = checkpoint.path_for(launcher.run / "checkpoints", 2 * BATCH)
    assert lines[-1].startswith(f"error: could not write checkpoint {path}: File too large; "
                                "raise the file size limit (ulimit -f)"), lines[-1]
    assert lines[-1].endswith("then rerun to start the run again")
    assert [line for line in lines if line.startswith("error:")] == lines[-1:]
    assert "Traceback" not in launcher.stderr()
    assert list((launcher.run / "checkpoints").iterdir()) == []
    assert left_after(launcher.proc.pid) == []


@pytest.fixture
def stop_handlers():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    errors.install_stop_handlers()
    yield
    for signum, handler in before.items():
        signal.signal(signum, handler)


def test_a_deferred_stop_waits_for_the_caller_and_a_second_signal_does_not(stop_handlers):
    with pytest.raises(errors.Stopped, match="^stopped by SIGINT; rerun") as outside:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # the handler runs here at the latest
    assert outside.value.exit_code == 130
    with errors.deferred_stop():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        assert errors.stop_requested() == signal.SIGTERM
        with pytest.raises(errors.Stopped) as second:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert second.value.exit_code == 143
    assert errors.stop_requested() is None


class _Learner:
    """Collector, learner and rollout reduced to what the loop calls; `on_update` runs inside
    each PPO update."""

    def __init__(self, on_update):
        self.on_update, self.saved = on_update, []
        self.recurrent, self.done = False, None
        self.optimizer = types.SimpleNamespace(param_groups=[{"lr": 1.0}])

    def start(self): pass
    def collect(self): return []
    def last_value(self): return None
    def schedule(self, fraction): return 0.1
    def advantages(self, *args): return None, None
    def flat(self, *args): return None

    def update(self, batch, clip_coef):
        self.on_update()
        return {"entropy": 0.0}


def _loop(fake, num_updates=10, checkpoint_every=3):
    nothing = lambda *args: None  # noqa: E731
    log = types.SimpleNamespace(update=nothing, console=nothing)
    intrinsic = types.SimpleNamespace(warmup_env_steps=0, update=nothing, stats=dict)
    return TrainingLoop(fake, fake, fake, intrinsic, log, evaluate=nothing,
                        save=lambda step, update: fake.saved.append(update), batch_size=BATCH,
                        cadence=Cadence(num_updates, 100, checkpoint_every))


@pytest.mark.parametrize("signal_in_update, saves", [(4, [3, 4]), (6, [3, 6])])
def test_the_loop_stops_after_the_update_a_signal_came_in_with_its_checkpoint(
        stop_handlers, signal_in_update, saves):
    """Update 4: saved on stopping; update 6: its scheduled checkpoint is not written twice."""
    updates = []

    def on_update():
        updates.append(len(updates) + 1)
        if len(updates) == signal_in_update:
            os.kill(os.getpid(), signal.SIGTERM)

    fake = _Learner(on_update)
    with pytest.raises(errors.Stopped) as stopped:
        _loop(fake).run(0, 0)
    assert updates == list(range(1, signal_in_update + 1))
    assert fake.saved == saves
    assert str(stopped.value) == (f"stopped by SIGTERM at step {signal_in_update * BATCH}; "
                                  "rerun the same command to resume")


# A parent holding a shared-memory vector env (vector.py's default transport), SIGKILLed.
_SHARED_PARENT = """
import sys, time
import numpy as np
from episodic_curiosity import envs
if __name__ == "__main__":
    factories = envs.env_factories("doom_basic", envs.Split.POLICY_TRAINING, range(2),
                                   keep_raw_obs=True)
    vec = envs.VecEnv(factories, num_workers=2)
    vec.reset()
    vec.step(np.zeros(2, int))
    print(*[segment.name for segment in vec._shared.segments], flush=True)
    time.sleep(600)
"""


def test_a_sigkilled_parent_of_a_shared_memory_vec_env_leaves_no_process_and_no_segment(
        tmp_path):
    script, out = tmp_path / "parent.py", tmp_path / "out.txt"
    script.write_text(_SHARED_PARENT)
    with open(out, "w") as stdout:
        parent = subprocess.Popen([sys.executable, str(script)], stdout=stdout,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while not out.read_text().strip() and parent.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    names = out.read_text().split()
    assert parent.poll() is None and len(names) == 2, out.read_text()[-2000:]  # obs, raw frames
    files = [pathlib.Path("/dev/shm") / name.lstrip("/") for name in names]
    assert all(f.exists() for f in files)
    parent.kill()
    parent.wait()
    assert left_after(parent.pid) == []  # workers, engines, the resource tracker
    assert [f for f in files if f.exists()] == []  # unlinked by the resource tracker
