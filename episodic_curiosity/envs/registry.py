"""Scenario name -> environment factory, the only way the rest of the project builds an env."""

import dataclasses
import functools
from typing import Callable

import gymnasium as gym

from episodic_curiosity.envs import dmlab, doom, wrappers
from episodic_curiosity.envs.splits import Split, level_seed
from episodic_curiosity.errors import UsageError, not_one_of


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    engine: str
    num_actions: int
    episode_steps: int  # agent steps (after action repeat) before the time limit
    description: str
    build: Callable[[int], gym.Env]  # level seed -> raw env (wrappers are added by make_env)
    cell_size: float  # map units per coverage-grid cell
    # Why the scenario cannot be built here (an optional engine missing), or None: it is listed
    # but `get` refuses it with this one-line message.
    unavailable: Callable[[], str | None] = lambda: None


_SCENARIOS: dict[str, Scenario] = {}


def register(scenario: Scenario) -> None:
    _SCENARIOS[scenario.name] = scenario


def names(available_only: bool = False) -> list[str]:
    return sorted(n for n, s in _SCENARIOS.items() if not available_only or not s.unavailable())


def listed() -> list[Scenario]:
    """Every registered scenario, buildable here or not (for --list)."""
    return [_SCENARIOS[n] for n in names()]


def get(name: str) -> Scenario:
    if name not in _SCENARIOS:
        raise UsageError(not_one_of("scenario", name, _SCENARIOS) +
                         " (python -m episodic_curiosity.envs --list describes them)")
    reason = _SCENARIOS[name].unavailable()
    if reason:
        raise UsageError(reason)
    return _SCENARIOS[name]


def make_env(name: str, split: Split, index: int, obs_size: int = 84) -> gym.Env:
    """The `index`-th env of `split` for a scenario, wrapped: resize -> episode statistics."""
    scenario = get(name)
    env = scenario.build(level_seed(split, index))
    env = wrappers.ResizeObservation(env, obs_size)
    return wrappers.EpisodeStatistics(env, scenario.cell_size)


def env_factories(name: str, split: Split, indices, obs_size: int = 84):
    """Picklable zero-argument factories, one per env index, for vectorised (subprocess) envs."""
    get(name)  # fail fast in the parent, not in a worker
    return [functools.partial(make_env, name, split, i, obs_size) for i in indices]


# VizDoom: 4 tics per step (action repeat 4); 2100 tics = 525 agent steps for MyWayHome.
register(Scenario(
    name="doom_dense", engine="vizdoom", num_actions=5, episode_steps=525,
    description="MyWayHome, random spawn in one of 17 rooms, +1 at the vest (ICM's 'dense')",
    build=functools.partial(doom.DoomEnv, "my_way_home.cfg"), cell_size=64.0))
register(Scenario(
    name="doom_basic", engine="vizdoom", num_actions=3, episode_steps=75,
    description="Basic: shoot the monster in front (quick learning check, not an exploration task)",
    build=functools.partial(doom.DoomEnv, "basic.cfg"), cell_size=64.0))


# MuJoCo: one agent step = one 0.2 s gait cycle; 250 steps = 50 s, the original Ant's 1000 x 0.05 s.
# Imported on first use: importing mujoco fixes the process's GL backend (MUJOCO_GL), which other
# engines' processes should not inherit.
def _ant(seed: int) -> gym.Env:
    from episodic_curiosity.envs import ant
    return ant.AntEnv(seed)


register(Scenario(
    name="ant_noreward", engine="mujoco", num_actions=6, episode_steps=250,
    description="First-person MuJoCo Ant on a random-tiled floor, reward 0; metric: distance "
                "travelled / 0.5 m cells visited",
    build=_ant, cell_size=0.5))


# DeepMind Lab (optional): the paper's original levels; 4 frames per step at 60 fps.
for _name, _level in dmlab.LEVELS.items():
    register(Scenario(
        name=f"dmlab_{_name}",
        engine="deepmind_lab" if dmlab.installed() else "deepmind_lab (not installed)",
        num_actions=len(dmlab.ACTIONS if _level.fire else dmlab.ACTIONS_NOFIRE),
        episode_steps=dmlab.episode_steps(_level),
        description=f"the paper's '{_name}': {_level.level.rsplit('/', 1)[-1]}"
                    + (", task reward x0" if _level.reward_scale == 0 else "")
                    + (", goal >= 10 cells from spawn (minGoalDistance)" if _level.config else ""),
        build=functools.partial(dmlab.DmLabEnv, _level), cell_size=100.0,
        unavailable=dmlab.unavailable_reason))
