"""A trained policy from any method's checkpoint, and episodes played with it one env at a time.

Every method's checkpoint holds the same ActorCritic (the bonus only changes what it was trained
on) and `meta` = {scenario, obs_shape, num_actions, intrinsic_reward}, so one reader (`read`,
`load`) serves every tool that opens a trained run: eval_policy, visualize_curiosity_reward,
noisy_tv_report, play (the reward state). The trainer's own resume is run_state's.
"""

import dataclasses
import pathlib

import numpy as np
import torch

from episodic_curiosity import checkpoint, envs
from episodic_curiosity.agents import networks
from episodic_curiosity.agents.rollout import Acting
from episodic_curiosity.errors import UsageError, load_error_summary


def checkpoint_file(path, flag: str = "--policy_path") -> pathlib.Path:
    """A ckpt_<step>.pt, or the newest one in a checkpoints/ directory or a run directory."""
    path = pathlib.Path(path)
    if path.is_file():
        return path
    for directory in (path, path / "checkpoints"):
        steps = checkpoint.list_steps(directory)
        if steps:
            return checkpoint.path_for(directory, steps[-1])
    raise UsageError(f"no policy checkpoint at {path}; pass {flag}=<run dir, its "
                     "checkpoints/ directory or a ckpt_<step>.pt file>")


@dataclasses.dataclass
class Policy:
    network: networks.ActorCritic
    meta: dict  # scenario, obs_shape, num_actions of the run that trained it
    step: int  # agent steps it was trained for
    path: pathlib.Path
    device: torch.device

    def __post_init__(self):
        self.acting = Acting(self.network, 1, self.device)  # a recurrent policy's memory

    def act(self, obs: np.ndarray, greedy: bool = False, start: bool = False) -> int:
        """One action for one uint8 frame; `start`: the frame begins an episode (a recurrent
        policy forgets the previous one)."""
        actions, _, _ = self.acting(obs[None], [float(start)], greedy)
        return int(actions[0])


def set_torch_threads(threads: int) -> None:
    """One frame at a time gains nothing from more threads; on a busy CPU one thread measured
    ~10x faster acting than torch's default (threads spinning against other processes)."""
    if threads > 0:
        torch.set_num_threads(threads)


def read(path, flag: str = "--policy_path") -> tuple[pathlib.Path, dict]:
    """(file, state) of the policy checkpoint at `path` (see checkpoint_file); a corrupt file or
    one train_policy did not write is a UsageError."""
    file = checkpoint_file(path, flag)
    state = checkpoint.load(file)
    if not state.get("meta") or "network" not in state:
        raise UsageError(f"{file} is not a policy checkpoint (no network/meta); pass a "
                         "checkpoint written by train_policy")
    return file, state


def load(path, device="cpu", flag: str = "--policy_path") -> Policy:
    """The policy network of a training checkpoint, in eval mode on `device`."""
    file, state = read(path, flag)
    meta = state["meta"]
    try:
        network = networks.load_actor_critic(state["network"], tuple(meta["obs_shape"]),
                                             meta["num_actions"])
    except RuntimeError as e:
        raise UsageError(f"{file} does not fit the policy network "
                         f"({load_error_summary(e)})") from e
    device = torch.device(device)
    network.to(device).eval()
    return Policy(network, meta, int(state["step"]), file, device)


def scenario_for(policy: Policy | None, name: str | None) -> envs.Scenario:
    """--scenario, or the one the policy was trained on; its actions must match the policy's."""
    if name is None and policy is None:
        raise UsageError("--scenario is required without --policy_path")
    spec = envs.get(name or policy.meta["scenario"])
    if policy is not None and spec.num_actions != policy.meta["num_actions"]:
        raise UsageError(f"the policy in {policy.path} has {policy.meta['num_actions']} actions "
                         f"({policy.meta['scenario']}), scenario {spec.name} has "
                         f"{spec.num_actions}; pick a scenario with the same actions")
    return spec


@dataclasses.dataclass
class Step:
    """One transition of an episode: obs -> action -> next_obs."""

    obs: np.ndarray
    action: int
    reward: float
    next_obs: np.ndarray
    terminated: bool
    truncated: bool
    info: dict


def play(env, choose_action, max_steps: int | None = None):
    """Yields the reset (obs, info), then each Step until the episode ends or `max_steps`.

    `choose_action(obs, t)` -> int.
    """
    obs, info = env.reset()
    yield obs, info
    t = 0
    while max_steps is None or t < max_steps:
        action = choose_action(obs, t)
        next_obs, reward, terminated, truncated, info = env.step(action)
        yield Step(obs, action, float(reward), next_obs, bool(terminated), bool(truncated), info)
        obs, t = next_obs, t + 1
        if terminated or truncated:
            return
