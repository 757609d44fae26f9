"""A batch of environments stepped together, in this process or in subprocess workers.

Each worker owns a contiguous group of envs, so 12 envs on 2 cores need not mean 12 processes.
Episodes reset in the same step they end: the returned observation starts the next episode and
`info["final_obs"]` keeps the last one (PPO bootstraps truncated episodes from it). Likewise
`info["raw_obs"]`, when the env gives it, belongs to the returned observation and
`info["final_raw_obs"]` to the last one of the finished episode.
"""

import multiprocessing as mp
import traceback

import numpy as np


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


def _worker(conn, env_fns):
    try:
        envs = [fn() for fn in env_fns]
        conn.send(("ok", (envs[0].observation_space, envs[0].action_space)))
        while True:
            command, payload = conn.recv()
            if command == "step":
                conn.send(("ok", _step_group(envs, payload)))
            elif command == "reset":
                conn.send(("ok", _reset_group(envs)))
            elif command == "close":
                for env in envs:
                    env.close()
                conn.send(("ok", None))
                return
    except (KeyboardInterrupt, EOFError):
        return
    except Exception:  # report to the parent, which raises with the worker's traceback
        conn.send(("error", traceback.format_exc()))


class VecEnv:
    """`len(env_fns)` environments; `num_workers=0` steps them in this process."""

    def __init__(self, env_fns, num_workers: int = 0):
        self.num_envs = len(env_fns)
        self._conns, self._procs, self._envs = [], [], []
        if num_workers <= 0:
            self._envs = [fn() for fn in env_fns]
            self.observation_space = self._envs[0].observation_space
            self.action_space = self._envs[0].action_space
            return
        groups = np.array_split(np.arange(self.num_envs), min(num_workers, self.num_envs))
        context = mp.get_context("spawn")  # no fork: the parent may hold torch threads
        for group in groups:
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, args=(child, [env_fns[i] for i in group]),
                                   daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        spaces = [self._receive(conn) for conn in self._conns]
        self.observation_space, self.action_space = spaces[0]
        self._group_slices = [slice(int(g[0]), int(g[-1]) + 1) for g in groups]

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
        return [item for w in self._part_workers[part] for item in self._receive(self._conns[w])]

    @staticmethod
    def stack(results):
        """Per-env step results -> batched (obs, rewards, terminated, truncated, infos)."""
        obs, rewards, terminated, truncated, infos = zip(*results)
        return (np.stack(obs), np.asarray(rewards, np.float32), np.asarray(terminated),
                np.asarray(truncated), list(infos))

    def _run(self, command, actions=None):
        if self._envs:
            return _step_group(self._envs, actions) if command == "step" else _reset_group(self._envs)
        for conn, group in zip(self._conns, self._group_slices):
            conn.send((command, None if actions is None else actions[group]))
        return [item for conn in self._conns for item in self._receive(conn)]

    def reset(self):
        results = self._run("reset")
        return np.stack([obs for obs, _ in results]), [info for _, info in results]

    def step(self, actions):
        return self.stack(self._run("step", np.asarray(actions)))

    def close(self):
        for env in self._envs:
            env.close()
        for conn in self._conns:
            try:
                conn.send(("close", None))
                conn.recv()
            except (BrokenPipeError, EOFError):
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        self._envs, self._conns, self._procs = [], [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
