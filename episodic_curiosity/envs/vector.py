"""A batch of environments stepped together, in this process or in subprocess workers.

Each worker owns a contiguous group of envs, so 12 envs on 2 cores need not mean 12 processes.
Episodes reset in the same step they end: the returned observation starts the next episode and
`info["final_obs"]` keeps the last one (PPO bootstraps truncated episodes from it). Likewise
`info["raw_obs"]`, when the env gives it, belongs to the returned observation and
`info["final_raw_obs"]` to the last one of the finished episode.

Transports (`VecEnv.transport`, gin): "shared" (the default) has the workers write observations,
rewards, episode ends and raw frames into one shared-memory batch (shared_buffer.py) and send
only the infos through their pipes; "pipe" pickles every result through the pipes.
"""

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from typing import Annotated

import gin
import numpy as np

from episodic_curiosity import validation
from episodic_curiosity.envs import shared_buffer

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_CLOSE_SECONDS = 5  # a worker's time to close its envs before it is killed
TRANSPORTS = ("shared", "pipe")
Transport = Annotated[str, validation.one_of(*TRANSPORTS)]


def _step_group(envs, actions):
    results = []
    for env, action in zip(envs, actions):
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            info["final_obs"] = obs
            obs, reset_info = env.reset()
            info["agent_xy_reset"] = reset_info.get("agent_xy")
            info["state_key_reset"] = reset_info.get("state_key")
            if "raw_obs" in info:
                info["final_raw_obs"] = info["raw_obs"]
                info["raw_obs"] = reset_info["raw_obs"]
        results.append((obs, reward, terminated, truncated, info))
    return results


def _reset_group(envs):
    return [env.reset() for env in envs]


def _kill_own_group(*_):
    """SIGKILL to this worker's process group: itself and the engines its envs started (ViZDoom's
    runs as a child process that ignores SIGTERM and outlives a dead worker)."""
    os.killpg(os.getpid(), signal.SIGKILL)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    _kill_own_group()


def _die_with_parent(parent_pid: int, parent_thread_is_main: bool) -> None:
    """Makes this worker the parent's to stop: in a process group of its own, which the signals
    sent to the launcher's group (Ctrl-C, `timeout`, a batch scheduler) do not reach, so the parent
    can finish an update and checkpoint; and dead, with its engines, the moment the parent is.

    The kernel tells us (PR_SET_PDEATHSIG, Linux) unless the parent spawned us from a thread
    other than its main one (the signal would come when that thread ends); a thread polling our
    parent's PID covers that and other systems.
    """
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may still print
    signal.signal(signal.SIGTERM, _kill_own_group)
    if parent_thread_is_main and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # died before the line above
        _kill_own_group()
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _worker(conn, env_fns, parent_pid=None, parent_thread_is_main=True):
    if parent_pid is not None:
        _die_with_parent(parent_pid, parent_thread_is_main)
    try:
        envs = [fn() for fn in env_fns]
        conn.send(("ok", (envs[0].observation_space, envs[0].action_space)))
        _serve(conn, envs)
    except (KeyboardInterrupt, EOFError):  # the parent is gone: so are its envs' engines
        _leave_with_engines()
    except Exception:  # report to the parent, which raises with the worker's traceback
        conn.send(("error", traceback.format_exc()))
        _leave_with_engines()


def _serve(conn, envs) -> None:
    """The parent's commands until "close". Once it attaches its shared batch ("attach"),
    results go there and only the infos through the pipe."""
    rows = None  # shared_buffer.WorkerRows
    while True:
        command, payload = conn.recv()
        if command == "step":
            results = _step_group(envs, payload)
            conn.send(("ok", results if rows is None else rows.write(results, step=True)))
        elif command == "reset":
            results = _reset_group(envs)
            conn.send(("ok", results if rows is None else rows.write(results, step=False)))
        elif command == "attach":
            spec, start = payload
            rows = rows or shared_buffer.WorkerRows(start)
            rows.attach(spec)
            conn.send(("ok", None))
        elif command == "close":
            for env in envs:
                env.close()
            if rows is not None:
                rows.close()
            conn.send(("ok", None))
            return


def _leave_with_engines() -> None:
    if os.getpgrp() == os.getpid():  # a group of our own (_die_with_parent): nobody else's
        _kill_own_group()


def _drain_until_exit(conn, proc, deadline: float) -> None:
    """Reads whatever the worker still sends (a step reply a stop interrupted, the close
    acknowledgement) so it is never blocked writing, until it exits or the deadline passes."""
    while proc.is_alive() and time.monotonic() < deadline:
        try:
            if conn.poll(0.05):
                conn.recv()
        except Exception:  # EOF, or a message the stop cut in half: the worker is leaving
            proc.join(timeout=max(0.0, deadline - time.monotonic()))
            return


@gin.configurable(allowlist=["transport"])
class VecEnv:
    """`len(env_fns)` environments; `num_workers=0` steps them in this process.

    transport (gin): how subprocess workers return results, "shared" or "pipe" (module
    docstring); the same results either way.
    """

    def __init__(self, env_fns, num_workers: int = 0, transport: Transport = "shared"):
        validation.choice(*TRANSPORTS)("VecEnv.transport", transport)
        self.num_envs, self.transport = len(env_fns), transport
        self._conns, self._procs, self._envs, self._shared = [], [], [], None
        if num_workers <= 0:
            self._envs = [fn() for fn in env_fns]
            self.observation_space = self._envs[0].observation_space
            self.action_space = self._envs[0].action_space
            return
        groups = np.array_split(np.arange(self.num_envs), min(num_workers, self.num_envs))
        self._group_slices = [slice(int(g[0]), int(g[-1]) + 1) for g in groups]
        try:
            self._start_workers(env_fns, groups)
            if transport == "shared":
                self._shared = shared_buffer.SharedBatch(self.num_envs, self.observation_space)
                self._attach(self._shared.segments[0].spec)
        except BaseException:  # a worker failed to start, or the segment to open: none left
            self.close()
            raise

    def _start_workers(self, env_fns, groups) -> None:
        context = mp.get_context("spawn")  # no fork: the parent may hold torch threads
        on_main = threading.current_thread() is threading.main_thread()
        for group in groups:
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, daemon=True, args=(
                child, [env_fns[i] for i in group], os.getpid(), on_main))
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        spaces = [self._receive(conn) for conn in self._conns]
        self.observation_space, self.action_space = spaces[0]

    def _attach(self, spec) -> None:
        """Every worker maps the shared segment `spec` (its rows from its group's start)."""
        for conn, group in zip(self._conns, self._group_slices):
            conn.send(("attach", (spec, group.start)))
        for conn in self._conns:
            self._receive(conn)

    @staticmethod
    def _receive(conn):
        try:
            status, payload = conn.recv()
        except EOFError:
            raise RuntimeError("an environment worker died (see its output above)") from None
        if status == "error":
            raise RuntimeError(f"environment worker failed:\n{payload}")
        return payload

    def parts(self, count: int = 2) -> list[slice]:
        """The envs split into `count` contiguous parts along worker boundaries, each stepped on
        its own by `step_async` / `step_wait` (double-buffered sampling); [] when the workers
        cannot be split that way (fewer than `count`, or envs in this process)."""
        if len(self._conns) < count:
            return []
        workers = np.array_split(np.arange(len(self._conns)), count)
        self._part_workers = [list(w) for w in workers]
        return [slice(self._group_slices[w[0]].start, self._group_slices[w[-1]].stop)
                for w in workers]

    def step_async(self, part: int, actions) -> None:
        """Starts stepping part `part` of `parts()` with its envs' `actions`."""
        offset = self._group_slices[self._part_workers[part][0]].start
        for w in self._part_workers[part]:
            group = self._group_slices[w]
            self._conns[w].send(("step", np.asarray(actions)[group.start - offset:
                                                              group.stop - offset]))

    def step_wait(self, part: int) -> list:
        """The (obs, reward, terminated, truncated, info) of each env of part `part`."""
        workers = self._part_workers[part]
        replies = [item for w in workers for item in self._receive(self._conns[w])]
        if self._shared is None:
            return replies
        rows = slice(self._group_slices[workers[0]].start, self._group_slices[workers[-1]].stop)
        return list(zip(*self._shared.read(rows, replies)))

    @staticmethod
    def stack(results):
        """Per-env step results -> batched (obs, rewards, terminated, truncated, infos)."""
        obs, rewards, terminated, truncated, infos = zip(*results)
        return (np.stack(obs), np.asarray(rewards, np.float32), np.asarray(terminated),
                np.asarray(truncated), list(infos))

    def _run(self, command, actions=None):
        """Per-env results (in process, or the pipe transport), or the infos (shared)."""
        if self._envs:
            return _step_group(self._envs, actions) if command == "step" else _reset_group(self._envs)
        for conn, group in zip(self._conns, self._group_slices):
            conn.send((command, None if actions is None else actions[group]))
        return [item for conn in self._conns for item in self._receive(conn)]

    def reset(self):
        if self._shared is None:
            results = self._run("reset")
            return np.stack([obs for obs, _ in results]), [info for _, info in results]
        infos = self._run("reset")
        obs = self._shared.read(slice(None), infos, step=False)
        fields = shared_buffer.info_fields(infos, known=self._shared.arrays)
        if fields:  # raw frames: shared from the next step on
            self._attach(self._shared.add(fields))
        return obs, infos

    def step(self, actions):
        if self._shared is None:
            return self.stack(self._run("step", np.asarray(actions)))
        return self._shared.read(slice(None), self._run("step", np.asarray(actions)))

    def shared_observations(self) -> np.ndarray | None:
        """The shared observation batch itself (None without one): the last step's, until the
        next step is sent. For a caller that copies it to the GPU itself, after
        `pin_shared_memory`, rather than copying the batch `step` returns."""
        return None if self._shared is None else self._shared.arrays["obs"]

    def pin_shared_memory(self) -> bool:
        """Page-locks the shared segments for CUDA copies; False without CUDA or segments (the
        raw-frame segment, made at the first reset, is pinned by a call after it)."""
        return self._shared is not None and self._shared.pin()

    def close(self):
        """Closes every env; a worker that has not exited within _CLOSE_SECONDS (stuck, or
        interrupted mid-message) is killed with its engines. Safe to call twice."""
        for env in self._envs:
            env.close()
        for conn in self._conns:
            try:
                conn.send(("close", None))
            except OSError:  # BrokenPipeError: that worker is gone already
                pass
        deadline = time.monotonic() + _CLOSE_SECONDS
        for conn, proc in zip(self._conns, self._procs):
            _drain_until_exit(conn, proc, deadline)
            if proc.is_alive():  # not yet reaped: its PID is still its group's
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.join()
            conn.close()
        if self._shared is not None:  # after the workers: none of them writes any more
            self._shared.close()
        self._envs, self._conns, self._procs, self._shared = [], [], [], None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
