"""Data-parallel training of one run (episodic_curiosity/distributed.py), on CPU with gloo.

Two gloo processes (torch.multiprocessing) check the numerics against one process on the union of
their data; launcher runs with --num_ranks=2 check the run directory, a stop and resume, and a
rank that dies."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from conftest import LAUNCHER, run_launcher
from episodic_curiosity import distributed, envs
from episodic_curiosity.agents import networks, ppo
from episodic_curiosity.running_stats import RunningMeanStd

ATOL = 1e-5  # float32 sums in another order (two halves, then the all-reduce)
OBS_SHAPE = envs.get("minigrid_doorkey_5x5").obs_shape(84)
NUM_ENVS, NUM_STEPS = 4, 8  # the one-rank run's; each of 2 ranks has half the envs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rollout(recurrent: bool) -> dict:
    """A fixed [T, N] batch of the one-rank run: its `Rollout.sequences` (recurrent) layout."""
    g = torch.Generator().manual_seed(1)
    t, n = NUM_STEPS, NUM_ENVS
    batch = {"obs": torch.randint(0, 6, (t, n, *OBS_SHAPE), generator=g, dtype=torch.uint8),
             "actions": torch.randint(0, 7, (t, n), generator=g),
             "logprobs": torch.full((t, n), -np.log(7.0)) + 0.1 * torch.randn(t, n, generator=g),
             "values": torch.randn(t, n, generator=g),
             "advantages": torch.randn(t, n, generator=g) * 3 + 1,
             "returns": torch.randn(t, n, generator=g)}
    if recurrent:
        batch["starts"] = (torch.rand(t, n, generator=g) < 0.1).float()
        batch["state"] = (0.1 * torch.randn(1, n, 64, generator=g),)
    return batch


def _shard(batch: dict, rank: int, world: int, recurrent: bool) -> dict:
    """Rank `rank`'s envs (a contiguous block), flattened as `Rollout.flat` for a plain net."""
    per = NUM_ENVS // world
    envs_ = slice(rank * per, (rank + 1) * per)
    out = {k: v[:, envs_] for k, v in batch.items() if k != "state"}
    if recurrent:
        out["state"] = tuple(s[:, envs_] for s in batch["state"])
        return out
    return {k: v.flatten(0, 1) for k, v in out.items()}


def _ppo_update(batch: dict, recurrent: bool, rank: int = 0) -> dict:
    torch.manual_seed(rank)  # other weights on rank 1: the learner broadcasts rank 0's
    net = networks.ActorCritic(OBS_SHAPE, 7, recurrent="gru" if recurrent else "none",
                               recurrent_size=64)
    config = ppo.PPOConfig(num_envs=NUM_ENVS, num_steps=NUM_STEPS, num_minibatches=1,
                           update_epochs=3, learning_rate=1e-3, max_grad_norm=0.5,
                           recurrent="gru" if recurrent else "none", recurrent_size=64)
    ppo.PPOLearner(net, config).update(batch, clip_coef=0.2)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _stats_data(rank: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(10 + rank)
    return torch.randn(5 + 3 * rank, 3, generator=g) * (rank + 1) + rank  # unequal batches


def _stats(world: int, rank: int) -> dict:
    """RunningMeanStd after two batches per rank (RND's observation / reward statistics)."""
    stats = RunningMeanStd((3,))
    for part in range(2):
        if world == 1:
            stats.update(torch.cat([_stats_data(r)[part::2] for r in range(2)]))
        else:
            stats.update(_stats_data(rank)[part::2])
    return {"mean": stats.mean, "var": stats.var, "count": torch.tensor(stats.count)}


def _reward_step(world: int, rank: int) -> torch.Tensor:
    """A reward's own optimizer (RND's predictor, say) after a step through its sync hook."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    distributed.sync_optimizer(optimizer)
    x = torch.cat([_stats_data(r)[:5] for r in range(2)]) if world == 1 else _stats_data(rank)[:5]
    model(x).pow(2).mean().backward()
    optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _worker(rank: int, world: int, port: int, out: str):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                      RANK=str(rank), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    distributed.init(torch.device("cpu"))
    result = {"ppo": _ppo_update(_shard(_rollout(False), rank, world, False), False, rank),
              "gru": _ppo_update(_shard(_rollout(True), rank, world, True), True, rank),
              "stats": _stats(world, rank), "reward": _reward_step(world, rank)}
    torch.save(result, pathlib.Path(out) / f"rank{rank}.pt")
    distributed.shutdown()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def _assert_close(a: dict, b: dict):
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=ATOL, rtol=0, msg=k)


@pytest.mark.parametrize("kind", ["ppo", "gru"])
def test_two_ranks_of_half_the_envs_make_the_one_rank_update(two_ranks, kind):
    recurrent = kind == "gru"
    one_rank = _ppo_update(_shard(_rollout(recurrent), 0, 1, recurrent), recurrent)
    _assert_close(two_ranks[0][kind], two_ranks[1][kind])  # one model on both ranks
    _assert_close(two_ranks[0][kind], one_rank)
    changed = max((one_rank[k] - _initial(recurrent)[k]).abs().max().item() for k in one_rank)
    assert changed > 100 * ATOL  # the update did move the weights


def _initial(recurrent: bool) -> dict:
    torch.manual_seed(0)
    return networks.ActorCritic(OBS_SHAPE, 7, recurrent="gru" if recurrent else "none",
                                recurrent_size=64).state_dict()


def test_synced_running_stats_are_those_of_one_rank_over_the_union(two_ranks):
    one = _stats(1, 0)
    for rank in two_ranks:
        for k in one:
            torch.testing.assert_close(rank["stats"][k].double(), one[k].double(), rtol=1e-9,
                                       atol=1e-9)


def test_a_rewards_optimizer_steps_on_the_gradients_of_every_rank(two_ranks):
    torch.testing.assert_close(two_ranks[0]["reward"], two_ranks[1]["reward"], atol=0, rtol=0)
    torch.testing.assert_close(two_ranks[0]["reward"], _reward_step(1, 0), atol=ATOL, rtol=0)


def test_one_rank_has_no_process_group():
    assert not distributed.requested() or os.environ.get("WORLD_SIZE") == "1"
    assert not distributed.active() and distributed.world_size() == 1
    assert distributed.is_writer() and distributed.any_rank(None) is None
    assert distributed.gather_objects([1]) == [1]


# ---- The launcher's --num_ranks: one run directory, a stop and resume, a rank that dies. ----

TWO_RANKS = ["--method=ppo", "--scenario=minigrid_doorkey_5x5", "--preset=tiny", "--num_ranks=2",
             "--gin_bindings=train_policy.total_steps=2048",  # 4 updates of 2 x 4 envs x 64
             "--gin_bindings=train_policy.num_workers=0",  # envs in each rank: fewer processes
             "--gin_bindings=train_policy.eval_workers=0"]
BATCH = 2 * 4 * 64


class _TwoRanks:
    """The launcher in a session of its own (its ranks counted from /proc), output in files."""

    def __init__(self, tmp_path, *args):
        self.run = tmp_path / "ppo" / "minigrid_doorkey_5x5" / "run_number_0"
        self.err = tmp_path / "stderr.txt"
        with open(self.err, "w") as err:
            self.proc = subprocess.Popen([sys.executable, LAUNCHER, *TWO_RANKS,
                                          f"--workdir={tmp_path}", *args],
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True,
                                         env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def wait_for_a_row(self, timeout=240):
        progress, deadline = self.run / "progress.csv", time.time() + timeout
        while not (progress.is_file() and len(progress.read_text().splitlines()) > 1):
            assert self.proc.poll() is None, self.err.read_text()[-2000:]
            assert time.time() < deadline, "no progress.csv row"
            time.sleep(0.1)

    def rank_pid(self, rank: int) -> int:
        from test_shutdown import session_members
        for member in session_members(self.proc.pid):
            pid = int(member.split()[0])
            try:
                environ = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RANK={rank}".encode() in environ and pid != self.proc.pid:
                cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"episodic_curiosity.train_policy" in cmdline:
                    return pid
        raise AssertionError(f"no rank {rank}")

    def finish(self, timeout=120) -> int:
        return self.proc.wait(timeout=timeout)  # a hang fails here

    def lines(self, prefix: str) -> list:
        return [line for line in self.err.read_text().splitlines() if line.startswith(prefix)]


def _left(sid: int) -> list:
    from test_shutdown import left_after
    return left_after(sid)


def test_a_two_rank_run_stopped_by_sigterm_resumes_without_lost_or_duplicate_rows(tmp_path):
    launcher = _TwoRanks(tmp_path)
    launcher.wait_for_a_row()
    os.killpg(launcher.proc.pid, signal.SIGTERM)
    assert launcher.finish() == 128 + signal.SIGTERM, launcher.err.read_text()[-3000:]
    assert _left(launcher.proc.pid) == []
    [line] = launcher.lines("stopped by")
    assert not launcher.lines("error:"), launcher.err.read_text()[-3000:]
    stopped_at = int(line.split(" at step ")[1].split(";")[0])
    assert stopped_at % BATCH == 0 and 0 < stopped_at < 2048
    resumed = run_launcher(*TWO_RANKS, f"--workdir={tmp_path}", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Traceback" not in resumed.stderr
    rows = (launcher.run / "progress.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == list(range(BATCH, 2048 + 1, BATCH))
    from episodic_curiosity import checkpoint
    assert checkpoint.list_steps(launcher.run / "checkpoints")[-1] == 2048
    alone = run_launcher(*[a for a in TWO_RANKS if a != "--num_ranks=2"],
                         f"--workdir={tmp_path}", timeout=120)
    assert alone.returncode == 2
    assert "written by a run of 2 rank(s), this one has 1" in alone.stderr.splitlines()[-1]
    # rank 0 alone wrote the run directory: one run's files, no per-rank copies
    assert sorted(p.name for p in launcher.run.iterdir() if p.suffix == ".csv") == sorted(
        ["progress.csv"] + [f"{k}_{s}.csv" for k in ("reward", "success")
                            for s in ("train", "valid", "test")])


def test_a_rank_that_dies_stops_the_run_with_one_error_line(tmp_path):
    launcher = _TwoRanks(tmp_path, "--gin_bindings=train_policy.total_steps=40960")
    launcher.wait_for_a_row()
    os.kill(launcher.rank_pid(1), signal.SIGKILL)
    assert launcher.finish() == 1
    assert _left(launcher.proc.pid) == []
    [line] = launcher.lines("error:")
    assert "rank 1 of 2 was killed by SIGKILL" in line and "rerun the same command" in line
    assert "Traceback" not in launcher.err.read_text()


@pytest.mark.parametrize("args, message", [
    (["--num_ranks=0"], "--num_ranks must be >= 1, got 0"),
    (["--num_ranks=2", "--sweep=methods=ppo;scenarios=minigrid_doorkey_5x5;runs=1"],
     "--num_ranks is for one run, not a --sweep"),
])
def test_the_launcher_refuses_a_bad_rank_count_in_one_line(tmp_path, args, message):
    result = run_launcher("--method=ppo", "--scenario=minigrid_doorkey_5x5", "--preset=tiny",
                          f"--workdir={tmp_path}", *args, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {message}")
    assert not any(tmp_path.iterdir())


def test_every_optimizer_of_a_reward_is_found_for_its_sync_hook():
    class Model(torch.nn.Module):  # state_embedding.DynamicsModel's shape: a module owning one
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(2, 2)
            self.optimizer = torch.optim.Adam(self.net.parameters())

    class Reward:
        def __init__(self):
            self.model, self.trainer = Model(), type("T", (), {})()
            self.trainer.optimizer = torch.optim.SGD(self.model.net.parameters(), lr=0.1)

    reward = Reward()
    found = distributed.optimizers_of(reward)
    assert {id(o) for o in found} == {id(reward.model.optimizer), id(reward.trainer.optimizer)}
