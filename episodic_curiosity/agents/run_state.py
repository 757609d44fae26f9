"""What a training run checkpoints, and how a rerun takes it back: network, optimizer, counters,
RNG state, the intrinsic-reward normaliser of a two-stream learner and the intrinsic reward's own
state, checked against the run that loads it."""

import numpy as np
import torch

from episodic_curiosity import checkpoint, distributed
from episodic_curiosity.errors import UsageError


def _meta(scenario_name, network, intrinsic) -> dict:
    meta = {"scenario": scenario_name, "obs_shape": list(network.obs_shape),
            "num_actions": network.num_actions, "intrinsic_reward": intrinsic.checkpoint_name}
    if distributed.world_size() > 1:  # one rank writes none: its checkpoints stay as they were
        meta["num_ranks"] = distributed.world_size()
    return meta


def _check_ranks(directory, saved: dict) -> None:
    """The update counter counts batches of all ranks: a resume keeps the rank count."""
    ranks, mine = saved.get("num_ranks", 1), distributed.world_size()
    if ranks != mine:
        raise UsageError(f"checkpoint in {directory} was written by a run of {ranks} rank(s), "
                         f"this one has {mine}; rerun with --num_ranks={ranks}, or pass a new "
                         "--run_number or --workdir")


def restore(directory, scenario_name, network, learner, intrinsic,
            seed) -> tuple[int, int, list]:
    """Loads the newest checkpoint into the run's objects; returns (step, update, the stats of
    the training episodes in the return window when it was written: the resumed reward_train
    curve continues from them).

    A fresh run (no checkpoint) seeds torch and numpy with `seed` instead.
    """
    state = checkpoint.load_latest(directory)
    if state is None:
        torch.manual_seed(seed)
        np.random.seed(seed)
        return 0, 0, []
    mine = _meta(scenario_name, network, intrinsic)
    saved = state.get("meta", {})
    _check_ranks(directory, saved)
    mine.pop("num_ranks", None)
    # Keys an older version did not write are not checked (its checkpoints stay resumable).
    if any(saved[k] != mine[k] for k in mine if k in saved):
        raise UsageError(f"checkpoint in {directory} was written for {saved}, this run is {mine}; "
                         "to keep it, rerun with the --method and --scenario it was written for; "
                         "to start another run, pass a new --run_number or --workdir")
    try:
        network.load_state_dict(state["network"])
        learner.optimizer.load_state_dict(state["optimizer"])
        if learner.int_normalizer is not None:
            learner.int_normalizer.load_state_dict(state["int_normalizer"])
        intrinsic.load_state_dict(state.get("intrinsic_reward", {}))
    except (RuntimeError, ValueError, KeyError) as e:
        raise UsageError(f"checkpoint in {directory} does not fit this run "
                         f"({' '.join(str(e).split())[:300]}); use a new --workdir") from e
    checkpoint.restore_rng_state(state["rng"])
    return state["step"], state["update"], state.get("recent_episodes", [])


def save(directory, step, update, scenario_name, network, learner, intrinsic, keep,
         recent_episodes=()) -> None:
    checkpoint.save(directory, step, {
        "update": update, "network": network.state_dict(),
        "optimizer": learner.optimizer.state_dict(), "rng": checkpoint.rng_state(),
        "intrinsic_reward": intrinsic.state_dict(),
        "int_normalizer": (learner.int_normalizer.state_dict()
                           if learner.int_normalizer is not None else None),
        "meta": _meta(scenario_name, network, intrinsic),
        "recent_episodes": [dict(e) for e in recent_episodes]}, keep=keep)
