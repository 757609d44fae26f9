"""Scenario name -> environment factory, the only way the rest of the project builds an env.

Every scenario is also a gymnasium id, `EpisodicCuriosity/<name>-v0`, so its envs carry a `spec`
(gymnasium's checker and `spec.make()` need one) and `gym.make` builds them for other libraries.
"""

import dataclasses
import functools
from typing import Callable

import gin
import gymnasium as gym

from episodic_curiosity.envs import dmlab, doom, maze_layout, maze_tasks, wrappers
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
    # The grid oracle's cell in the scenario's map units (envs/coverage.py): 30 DMLab units in
    # the original, 0.3 of a maze cell. It defines the oracle reward, the grid-oracle bonus and
    # the coverage statistic.
    oracle_cell: float
    # "task": the env's reward is the task's. "oracle": the reward IS the grid oracle's (+1 per
    # new oracle cell), as the original's no-reward scenarios report it; the learner sees it
    # x0 there (gin/scenarios/<name>.gin: train_policy.reward_scale = 0).
    metric: str = "task"
    # The engine's full-resolution frame (height, width, channels) before the policy's resize:
    # what the R-network sees by default (the paper's 120x160 DMLab view).
    raw_shape: tuple = (120, 160, 3)
    # Observation channels: one RGB frame (3) by default; Atari stacks 4 gray frames (4, with
    # frame_channels 1). Networks take their input channels from here.
    obs_channels: int = 3
    frame_channels: int = 3  # channels of the newest frame (the last ones of an observation)
    # Why the scenario cannot be built here (an optional engine missing), or None: it is listed
    # but `get` refuses it with this one-line message.
    unavailable: Callable[[], str | None] = lambda: None
    # True: observations are MiniGrid's symbolic 7x7x3 view (not resized); else RGB frames.
    symbolic: bool = False
    # What the env puts in `info` beyond agent_xy: "state_key" (an exact discrete state, for
    # count-based bonuses), "success" (goal reached, on an episode's last step: the run logs
    # success_<split>.csv beside the reward CSVs).
    features: frozenset = frozenset()

    def obs_shape(self, obs_size: int = 84) -> tuple:
        """The shape of the observations make_env returns (the policy's input)."""
        return (7, 7, 3) if self.symbolic else (obs_size, obs_size, self.obs_channels)


_SCENARIOS: dict[str, Scenario] = {}


GYM_NAMESPACE = "EpisodicCuriosity"


def gym_id(name: str) -> str:
    return f"{GYM_NAMESPACE}/{name}-v0"


def register(scenario: Scenario) -> None:
    _SCENARIOS[scenario.name] = scenario
    gym.register(id=gym_id(scenario.name), entry_point=build_env,
                 kwargs={"scenario": scenario.name}, nondeterministic=False,
                 order_enforce=False, disable_env_checker=True)


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


def make_env(name: str, split: Split, index: int, obs_size: int = 84,
             keep_raw_obs: bool = False) -> gym.Env:
    """The `index`-th env of `split` for a scenario, through gymnasium's registry (a spec)."""
    get(name)  # a UsageError for an unknown or unavailable scenario, before gymnasium's lookup
    return gym.make(gym_id(name), split=split.name, index=index, obs_size=obs_size,
                    keep_raw_obs=keep_raw_obs)


def build_env(scenario: str, split: str = "TEST", index: int = 0, obs_size: int = 84,
              keep_raw_obs: bool = False, render_mode: str | None = None) -> gym.Env:
    """gymnasium's entry point of every scenario, wrapped: resize -> (oracle reward) -> episode
    statistics.

    keep_raw_obs: also return the full-resolution frame as `info["raw_obs"]`.
    """
    spec = get(scenario)
    env = spec.build(level_seed(Split[split], index))
    if not isinstance(env, gym.Wrapper):  # a wrapper's render_mode is its inner env's
        env.render_mode = render_mode
    if not spec.symbolic:  # MiniGrid's symbolic view is not an image: no resize
        env = wrappers.ResizeObservation(env, obs_size, keep_raw=keep_raw_obs)
    if spec.metric == "oracle":
        env = wrappers.OracleReward(env, spec.oracle_cell)
    return wrappers.EpisodeStatistics(env, spec.oracle_cell)


@gin.configurable(allowlist=["keep_raw_obs"])
def env_factories(name: str, split: Split, indices, obs_size: int = 84,
                  keep_raw_obs: bool = False):
    """Picklable zero-argument factories, one per env index, for vectorised (subprocess) envs.

    keep_raw_obs (gin): every step's info carries the frame before the resize, `raw_obs`
    (`final_raw_obs` for the last frame of an auto-reset episode); EC's R-network embeds it.
    """
    get(name)  # fail fast in the parent, not in a worker
    return [functools.partial(make_env, name, split, i, obs_size, keep_raw_obs)
            for i in indices]


# VizDoom: 4 tics per step (action repeat 4); 2100 tics = 525 agent steps for MyWayHome.
# Oracle cell: the original's 30 DMLab units are ~1.4 agent steps (21 units a step); the VizDoom
# player covers ~24 units a step at full speed, so 32 units (~1.3 steps).
DOOM_ORACLE_CELL = 32.0
register(Scenario(
    name="doom_dense", engine="vizdoom", num_actions=5, episode_steps=525,
    description="MyWayHome, random spawn in one of 17 rooms, +1 at the vest (ICM's 'dense')",
    build=functools.partial(doom.DoomEnv, "my_way_home.cfg"), oracle_cell=DOOM_ORACLE_CELL))
# ICM's sparse variants start in fixed rooms far from the vest (their WADs are not shipped).
# Rooms picked by walking distance to the vest, measured as 16-unit cells over 250 random
# episodes: the farthest spawn room is 87 cells away, the sparse one 71 (ICM: 270 vs 350 steps).
DOOM_SPARSE_START, DOOM_VERYSPARSE_START = (467, -467), (544, -672)
for _name, _start, _where in (("doom_sparse", DOOM_SPARSE_START, "a fixed room far from"),
                              ("doom_verysparse", DOOM_VERYSPARSE_START, "the room farthest from")):
    register(Scenario(
        name=_name, engine="vizdoom", num_actions=5, episode_steps=525,
        description=f"MyWayHome, start in {_where} the vest (ICM's '{_name[5:]}')",
        build=functools.partial(doom.DoomEnv, "my_way_home.cfg", start_xy=_start),
        oracle_cell=DOOM_ORACLE_CELL))
register(Scenario(
    name="doom_basic", engine="vizdoom", num_actions=3, episode_steps=75,
    description="Basic: shoot the monster in front (quick learning check, not an exploration task)",
    build=functools.partial(doom.DoomEnv, "basic.cfg"), oracle_cell=DOOM_ORACLE_CELL))


def _atari(game: str):
    def build(seed: int) -> gym.Env:
        from episodic_curiosity.envs import atari
        return atari.AtariEnv(game, seed)
    return build


def _ale_missing():
    import importlib.util
    return (None if importlib.util.find_spec("ale_py") else
            "Atari scenarios need ale-py: pip install ale-py==0.12.1")


# Atari (envs/atari.py): RND's and the curiosity study's games, the standard preprocessing.
# Oracle cell: 8 screen pixels (Montezuma's rooms are 160 pixels wide).
for _name, _game, _actions, _description in (
        ("atari_breakout", "Breakout", 4, "Breakout: dense reward, the study's reference game"),
        ("atari_montezuma", "MontezumaRevenge", 18,
         "Montezuma's Revenge: sparse reward; metric as RND: return and rooms visited")):
    register(Scenario(name=_name, engine="ale", num_actions=_actions, episode_steps=4500,
                      description=_description, build=_atari(_game), oracle_cell=8.0,
                      raw_shape=(84, 84, 4), obs_channels=4, frame_channels=1,
                      unavailable=_ale_missing))  # raw view: the stack itself (no raw_obs)


MARIO_HINT = ("Super Mario Bros needs the optional extra: pip install -e .[mario] (it builds the "
              "NES emulator nes-py from source with a C++ compiler)")


def _mario(max_steps: int | None = None):
    """A builder for a Mario scenario; imports the emulator only when an env is made."""
    def build(seed: int) -> gym.Env:
        from episodic_curiosity.envs import mario  # imported on use: the extra is optional
        return mario.MarioEnv(seed, max_steps=max_steps)
    return build


def _mario_missing():
    import importlib.util
    found = all(importlib.util.find_spec(m) for m in ("nes_py", "gym_super_mario_bros"))
    return None if found else MARIO_HINT


# Super Mario Bros (envs/mario.py): the curiosity study's Mario, World 1-1 on (its code names no
# other level). 14 actions (mario.ACTIONS); episodes end at game over, 6000 steps at most when no
# level is passed (mario.EPISODE_STEPS). Oracle cell: 16 pixels, one block of the level's grid,
# ~1.4 agent steps at a run (11.8 px a step), as the original's 30 DMLab units are ~1.4 steps.
# The _small variant, as noreward_small scales noreward: episodes cut at 600 steps, enough to
# clear 1-1 running (its flag is ~3160 px in: ~270 steps), for quick runs and tests.
for _name, _limit, _steps, _what in (
        ("mario_1_1", None, 6000, "to game over (the curiosity study's Mario)"),
        ("mario_1_1_small", 600, 600, "cut at 600 steps (scaled mario_1_1)")):
    register(Scenario(
        name=_name, engine="nes-py" if not _mario_missing() else "nes-py (not installed)",
        num_actions=14, episode_steps=_steps,
        description=f"Super Mario Bros from World 1-1 {_what}; reward: x progress; metric: "
                    "x distance, levels passed",
        build=_mario(_limit), oracle_cell=16.0, raw_shape=(84, 84, 4), obs_channels=4,
        frame_channels=1, unavailable=_mario_missing))


def _maze(task_factory, episode_steps: int, fire: bool = True):
    """A builder for a MiniWorld maze scenario; imports the GL stack only when an env is made."""
    def build(seed: int) -> gym.Env:
        from episodic_curiosity.envs import maze
        return maze.MazeEnv(task_factory(), seed, episode_steps, fire=fire)
    return build


# DMLab's scenarios rebuilt on MiniWorld + labmaze (maze cells of 2 m; coverage counts cells).
# The DMLab levels' 120 s at 15 agent steps per second (60 fps, action repeat 4) = 1800 steps.
_LARGE_STEPS = 1800
_MAZES = (
    ("sparse", functools.partial(maze_tasks.GoalTask), _LARGE_STEPS, True,
     "explore_goal_locations_large: one goal (+10, respawn, goal stays) in a large maze"),
    ("verysparse", functools.partial(maze_tasks.GoalTask, min_goal_distance=10), _LARGE_STEPS,
     True, "as sparse, with the goal at least 10 maze cells from every spawn"),
    ("noreward", functools.partial(maze_tasks.GoalTask, goal_reward=0.0), _LARGE_STEPS, True,
     "as sparse, task reward removed; metric: grid-oracle cells (0.3 maze cell) visited"),
    ("norewardnofire", functools.partial(maze_tasks.GoalTask, goal_reward=0.0), _LARGE_STEPS,
     False, "as noreward, without the fire (no-op) action: 8 actions"),
    ("sparseplusdoors", functools.partial(maze_tasks.GoalTask, blocked_door_fraction=0.5),
     _LARGE_STEPS, True, "explore_obstructed_goals_large: as sparse, about half the doorways "
     "closed for good (a path to the goal always stays open)"),
    # Table 1 scaled to one machine (gin/presets/table1_small.gin): DMLab's own
    # explore_goal_locations_small maze (the factory's defaults), episodes of 30 s, not 120 s.
    ("sparse_small", functools.partial(maze_tasks.GoalTask, maze=maze_layout.SMALL), 450, True,
     "scaled sparse: explore_goal_locations_small's 11x11 maze, 450-step episodes"),
    ("noreward_small", functools.partial(maze_tasks.GoalTask, goal_reward=0.0,
                                         maze=maze_layout.SMALL), 450, True,
     "scaled noreward: explore_goal_locations_small's 11x11 maze, 450-step episodes; "
     "metric: grid-oracle cells"),
    ("dense1", maze_tasks.KeysDoorsTask, 900, True,
     "rooms_keys_doors_puzzle: a chain of 1-3 keys (+1) opening doors of their colour (+1) to "
     "the goal (+10, ends)"),
    ("dense2", maze_tasks.GoodBadObjectsTask, 900, True,
     "rooms_collect_good_objects: 10 good objects +1, 10 bad -1; ends after 10 pickups"),
)
# agent_xy is in maze cells (100 DMLab units): the original's 30-unit oracle cell is 0.3 of one.
MAZE_ORACLE_CELL = 0.3
NO_REWARD = ("noreward", "norewardnofire", "noreward_small")
for _name, _task, _steps, _fire, _description in _MAZES:
    register(Scenario(name=_name, engine="miniworld", num_actions=9 if _fire else 8,
                      episode_steps=_steps, description=_description,
                      build=_maze(_task, _steps, _fire), oracle_cell=MAZE_ORACLE_CELL,
                      metric="oracle" if _name in NO_REWARD else "task"))
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
    # The original's Ant oracle: reward_grid_size 5 (MuJoCo units, metres), normalizer 25.
    build=_ant, oracle_cell=5.0, metric="oracle", raw_shape=(84, 84, 3)))


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
        build=functools.partial(dmlab.DmLabEnv, _level), oracle_cell=30.0,
        metric="oracle" if _name in NO_REWARD else "task", raw_shape=(84, 84, 3),
        unavailable=dmlab.unavailable_reason))


# MiniGrid: the RIDE paper's tasks (and two small ones for quick checks), each as the symbolic
# 7x7x3 view and, with the suffix _rgb, as that view drawn in 84x84 pixels.
_MINIGRID = (
    ("multiroom_n7_s4", "MiniGrid-MultiRoom-N6-v0", dict(minNumRooms=7, maxNumRooms=7,
                                                         maxRoomSize=4), 140),
    ("multiroom_n7_s8", "MiniGrid-MultiRoom-N6-v0", dict(minNumRooms=7, maxNumRooms=7,
                                                         maxRoomSize=8), 140),
    ("multiroom_n10_s4", "MiniGrid-MultiRoom-N6-v0", dict(minNumRooms=10, maxNumRooms=10,
                                                          maxRoomSize=4), 200),
    ("multiroom_n10_s10", "MiniGrid-MultiRoom-N6-v0", dict(minNumRooms=10, maxNumRooms=10,
                                                           maxRoomSize=10), 200),
    ("multiroom_n12_s10", "MiniGrid-MultiRoom-N6-v0", dict(minNumRooms=12, maxNumRooms=12,
                                                           maxRoomSize=10), 240),
    ("multiroom_noisytv_n7_s4", "noisytv", dict(minNumRooms=7, maxNumRooms=7, maxRoomSize=4),
     140),
    ("keycorridor_s3r3", "MiniGrid-KeyCorridorS3R3-v0", {}, 270),
    ("obstructedmaze_2dlh", "MiniGrid-ObstructedMaze-2Dlh-v0", {}, 576),
    ("multiroom_n2_s4", "MiniGrid-MultiRoom-N2-S4-v0", {}, 40),
    ("doorkey_5x5", "MiniGrid-DoorKey-5x5-v0", {}, 250),
    ("doorkey_8x8", "MiniGrid-DoorKey-8x8-v0", {}, 640),
    ("doorkey_6x6", "MiniGrid-DoorKey-6x6-v0", {}, 360),
    # A memory task (not RIDE's): a cue object in the start room, the matching one of two at the
    # end of the hallway. From there the cue is out of view: a feed-forward policy is at chance.
    ("memory_s7", "MiniGrid-MemoryS7-v0", {}, 245),
    ("memory_s9", "MiniGrid-MemoryS9-v0", {}, 405),
)


def _minigrid(env_id: str, kwargs: dict, view: str):
    """A builder for a MiniGrid scenario; imports minigrid only when an env is made."""
    def build(seed: int) -> gym.Env:
        from episodic_curiosity.envs import minigrid
        return minigrid.MiniGridTask(functools.partial(minigrid.make_raw, env_id, kwargs), seed,
                                     view)
    return build


for _name, _env_id, _kwargs, _steps in _MINIGRID:
    _what = ("MultiRoom-N7-S4 with a noisy TV: action 4 (drop) re-colours a ball at random"
             if _env_id == "noisytv" else
             _env_id + "".join(f" {k}={v}" for k, v in _kwargs.items()))
    for _view, _suffix in (("symbolic", ""), ("rgb", "_rgb")):
        register(Scenario(
            name=f"minigrid_{_name}{_suffix}", engine="minigrid", num_actions=7,
            episode_steps=_steps,
            description=f"{_what} ({'symbolic 7x7x3' if _view == 'symbolic' else '84x84 RGB'} "
                        "partial view)",
            build=_minigrid(_env_id, _kwargs, _view), oracle_cell=1.0,
            raw_shape=(7, 7, 3) if _view == "symbolic" else (84, 84, 3),
            symbolic=_view == "symbolic", features=frozenset({"state_key", "success"})))


def _cue_memory(seed: int) -> gym.Env:
    from episodic_curiosity.envs import cue_memory
    return cue_memory.CueMemory(seed)


register(Scenario(
    name="minigrid_cue_memory", engine="minigrid", num_actions=7, episode_steps=6,
    description="cue then choose: a key or a ball in the first view, 4 empty views, then "
                "left for a key, right for a ball (MiniGrid's symbolic layout); feed-forward "
                "policies are at chance",
    build=_cue_memory, oracle_cell=1.0, raw_shape=(7, 7, 3), symbolic=True,
    features=frozenset({"state_key", "success"})))
