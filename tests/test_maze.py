"""The MiniWorld + labmaze rebuilds of the DMLab scenarios: layouts, tasks, and a scripted agent
that walks shortest paths in the 3-D world to show goals, doors and keys behave."""

import math

import numpy as np
import pytest

from episodic_curiosity import envs
from episodic_curiosity.envs import maze_layout, maze_tasks
from episodic_curiosity.envs.splits import episode_seed

MAZES = ["sparse", "verysparse", "noreward", "norewardnofire", "sparseplusdoors", "dense1",
         "dense2"]


def test_layouts_are_deterministic_and_connected():
    a, b = maze_layout.generate(7), maze_layout.generate(7)
    assert np.array_equal(a.grid, b.grid) and a.grid.shape == (17, 17)
    assert not np.array_equal(a.grid, maze_layout.generate(8).grid)
    dist = a.distances(a.floor_cells[0])
    assert all(dist[c] >= 0 for c in a.floor_cells)  # one connected maze
    spawn, goal = a.cells("P")[0], a.cells("G")[0]
    path = a.path(spawn, goal)
    assert path[0] == spawn and path[-1] == goal and len(path) == a.distances(spawn)[goal] + 1
    assert all(abs(p[0] - q[0]) + abs(p[1] - q[1]) == 1 for p, q in zip(path, path[1:]))


@pytest.mark.parametrize("seed", range(6))
def test_large_levels_have_dmlab_size_rooms_and_spawns(seed):
    """explore_goal_locations_large: 17 x 17, up to 9 rooms of exactly 3 x 3 cells, 5 spawn
    points per room (factory default), no extra connections (a perfect maze between rooms)."""
    layout = maze_layout.generate(seed)
    assert layout.grid.shape == (17, 17)
    letters = layout.room_letters()
    assert 6 <= len(letters) <= 9
    for letter in letters:
        rows, cols = zip(*layout.room_cells(letter))
        assert (max(rows) - min(rows) + 1, max(cols) - min(cols) + 1) == (3, 3)
        assert sum(layout.grid[c] == "P" for c in layout.room_cells(letter)) == 5
    assert maze_layout.LARGE["extra_connection_probability"] == 0.0
    assert maze_tasks.GoalTask.maze is maze_layout.LARGE


def test_episode_seeds_of_different_splits_never_meet():
    seeds = {split: {episode_seed(envs.level_seed(split, i), e) for i in range(30)
                     for e in range(300)} for split in envs.Split}
    for a in envs.Split:
        for b in envs.Split:
            assert a == b or not seeds[a] & seeds[b]
    assert max(max(s) for s in seeds.values()) < 2**31


@pytest.mark.parametrize("seed", range(12))
def test_verysparse_goal_is_far_from_every_spawn(seed):
    layout = maze_layout.generate(seed)
    plan = maze_tasks.GoalTask(min_goal_distance=10).plan(layout, np.random.default_rng(seed))
    dist = layout.distances(plan.items[0].cell)
    assert plan.spawns and all(dist[s] >= 10 for s in plan.spawns)


@pytest.mark.parametrize("seed", range(12))
def test_blocked_doors_never_cut_spawns_off_the_goal(seed):
    layout = maze_layout.generate(seed, has_doors=True)
    plan = maze_tasks.GoalTask(blocked_door_fraction=0.5).plan(layout, np.random.default_rng(seed))
    goal = plan.items[0].cell
    blocked = [i.cell for i in plan.items if i.kind == "door"]
    dist = layout.distances(goal, blocked)
    assert all(dist[s] >= 0 for s in plan.spawns)


# --- a scripted agent in the 3-D world -----------------------------------------------------

def _heading_error(env, cell):
    x, z = env.agent.pos[0] / 2.0, env.agent.pos[2] / 2.0
    target = math.atan2(-(cell[0] + 0.5 - z), cell[1] + 0.5 - x)
    return (target - env.agent.dir + math.pi) % (2 * math.pi) - math.pi, math.hypot(
        cell[0] + 0.5 - z, cell[1] + 0.5 - x)


def _walk(env, path, max_steps=3000):
    """Turns toward the next cell centre and walks; returns (rewards, terminated) per step."""
    rewards, terminated = [], False
    for cell in path[1:]:
        for _ in range(60):
            error, distance = _heading_error(env, cell)
            if distance < 0.3:
                break
            action = 4 if error > 0.2 else 5 if error < -0.2 else 0  # look left/right, forward
            _, reward, terminated, truncated, info = env.step(action)
            rewards.append(reward)
            if terminated or reward != 0 or len(rewards) > max_steps:
                return rewards, terminated
    return rewards, terminated


def _raw(scenario, index=0):
    env = envs.get(scenario).build(envs.level_seed(envs.Split.VALIDATION, index))
    env.reset()
    return env


def test_scripted_agent_reaches_the_goal_and_respawns():
    env = _raw("sparse")
    goal = env.plan.items[0].cell
    path = env.layout.path(env._info()["agent_cell"], goal)
    rewards, terminated = _walk(env, path)
    assert rewards[-1] == 10.0 and not terminated
    assert env._info()["agent_cell"] in env.plan.spawns  # respawned; the goal stays
    assert any(e.item.kind == "goal" for e in env.entities if hasattr(e, "item"))
    env.close()


def test_noreward_goal_pays_nothing():
    env = _raw("noreward")
    path = env.layout.path(env._info()["agent_cell"], env.plan.items[0].cell)
    rewards, _ = _walk(env, path, max_steps=400)
    assert sum(rewards) == 0.0 and len(rewards) > 3
    env.close()


def test_a_closed_door_blocks_the_way():
    for index in range(10):
        env = _raw("sparseplusdoors", index)
        doors = [i.cell for i in env.plan.items if i.kind == "door"]
        if doors:
            break
        env.close()
    door = doors[0]
    before = next(n for n in env.layout.neighbours(door))
    env.agent.pos = np.array([(before[1] + 0.5) * 2.0, 0.0, (before[0] + 0.5) * 2.0])
    for _ in range(40):
        error, _ = _heading_error(env, door)
        env.step(4 if error > 0.2 else 5 if error < -0.2 else 0)
    assert env._info()["agent_cell"] != door
    env.close()


def test_keys_open_their_doors_and_the_goal_ends_the_episode():
    env = _raw("dense1")
    items = env.plan.items
    locks = {i.color for i in items if i.kind == "door"}
    assert locks, "dense1 always locks the goal room"
    total, terminated = 0.0, False
    # Fetch keys last-locked first, then the goal; a locked door is a wall until its key is held.
    targets = [i for i in items if i.kind == "key"][::-1] + [items[0]]
    for target in targets:
        for _ in range(4):  # a walk stops at every payment (an opened door): plan again from there
            blocked = [i.cell for i in items if i.kind == "door" and i.color not in env._keys
                       and any(e.item is i for e in env.entities if hasattr(e, "item"))]
            path = env.layout.path(env._info()["agent_cell"], target.cell, blocked)
            assert path, f"no path to the {target.kind}"
            rewards, terminated = _walk(env, path)
            total += sum(rewards)
            if terminated or (target.kind == "key" and target.color in env._keys):
                break
        assert terminated or target.color in env._keys
    assert terminated and total >= 10 + 2 * len(locks)
    env.close()


def test_good_objects_pay_and_bad_objects_cost():
    env = _raw("dense2")
    for sign in (1.0, -1.0):
        start = env._info()["agent_cell"]
        present = [e.item for e in env.entities if hasattr(e, "item")]
        paths = [env.layout.path(start, item.cell, [i.cell for i in present if i is not item])
                 for item in present if np.sign(item.reward) == sign]
        path = min((p for p in paths if p), key=len)  # one that passes no other object
        rewards, _ = _walk(env, path)
        assert sum(rewards) == sign
    env.close()


def test_dense2_is_dmlabs_ten_good_ten_bad_and_ends_after_ten_pickups():
    env = _raw("dense2")
    kinds = [i.color for i in env.plan.items]
    assert kinds.count("good") == 10 and kinds.count("bad") == 10
    env._pickups = 9  # the tenth pickup ends the episode
    start = env._info()["agent_cell"]
    present = [e.item for e in env.entities if hasattr(e, "item")]
    paths = [env.layout.path(start, item.cell, [i.cell for i in present if i is not item])
             for item in present]
    _, terminated = _walk(env, min((p for p in paths if p), key=len))
    assert terminated
    env.close()


def test_dense1_lock_chains_have_one_to_three_locks():
    layout = maze_layout.generate(3, has_doors=True, **maze_layout.ROOMS)
    colours = {len({i.color for i in maze_tasks.KeysDoorsTask().plan(
        layout, np.random.default_rng(s)).items if i.kind == "key"}) for s in range(40)}
    assert colours <= {1, 2, 3} and len(colours) >= 2


@pytest.mark.parametrize("scenario", ["sparse", "dense2"])
def test_same_seed_same_frames_and_a_turn_changes_the_view(scenario):
    runs = []
    for _ in range(2):
        env = envs.make_env(scenario, envs.Split.POLICY_TRAINING, 1)
        frames = [env.reset()[0]] + [env.step(a)[0] for a in (4, 4, 0, 0, 2, 5)]
        runs.append(np.stack(frames))
        env.close()
    assert np.array_equal(runs[0], runs[1])
    assert np.abs(runs[0][1].astype(int) - runs[0][0].astype(int)).mean() > 2
    other = envs.make_env(scenario, envs.Split.TEST, 1)
    assert not np.array_equal(other.reset()[0], runs[0][0])
    other.close()


def test_every_episode_is_a_new_maze():
    env = _raw("sparse")
    first = env.layout.grid.copy()
    env.reset()
    assert not np.array_equal(first, env.layout.grid)
    env.close()


def test_two_mazes_in_one_process_render_their_own_world():
    a, b = _raw("sparse", 0), _raw("sparse", 1)
    alone = a.render_obs()
    b.render_obs()
    assert np.array_equal(a.render_obs(), alone)
    a.close()
    b.close()


def _same_maze(a, b):
    return a.layout.grid.shape == b.layout.grid.shape and np.array_equal(a.layout.grid,
                                                                          b.layout.grid)


def test_reset_with_a_seed_picks_the_maze_the_gymnasium_way():
    """reset(seed=s) fixes the maze and the ones after it, whatever the env's level seed; a new
    maze every episode still holds, before and after."""
    a, b = _raw("sparse", 0), _raw("sparse", 1)
    a.reset(seed=7)
    b.reset(seed=7)
    assert _same_maze(a, b)  # two envs, one seed: one maze
    first, spawn = a.layout.grid.copy(), a.agent.pos.copy()
    a.reset()
    b.reset()
    assert _same_maze(a, b) and not np.array_equal(a.layout.grid, first)  # the same sequence
    a.reset(seed=7)
    assert np.array_equal(a.layout.grid, first) and np.allclose(a.agent.pos, spawn)  # again
    b.reset(seed=8)
    assert not _same_maze(a, b)  # another seed, another maze
    a.close()
    b.close()
