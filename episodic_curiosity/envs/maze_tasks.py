"""What each DMLab-analogue scenario puts in a maze, and what touching it does (no rendering).

A task turns a layout into a plan: the items (goal, keys, doors, objects) on cells and the cells
the agent spawns on. The 3-D world (maze.py) renders the plan and applies `Item` effects; the
tests walk the same plan with shortest paths.
"""

import dataclasses

import numpy as np

from episodic_curiosity.envs.maze_layout import LARGE, ROOMS, MazeLayout

_KEY_COLORS = ("blue", "yellow", "purple")


@dataclasses.dataclass
class Item:
    kind: str  # "goal" | "key" | "door" | "object"
    cell: tuple[int, int]
    reward: float = 0.0
    color: str | None = None  # keys, and the doors they open; a door without colour never opens


@dataclasses.dataclass
class Plan:
    items: list[Item]
    spawns: list[tuple[int, int]]


class GoalTask:
    """explore_goal_locations / explore_obstructed_goals: reach the goal, respawn, repeat.

    The goal stays put for the episode and every touch pays `goal_reward` (0: the no-reward
    scenarios). `min_goal_distance` keeps every spawn that many cells from the goal (verysparse);
    `blocked_door_fraction` closes doorways for good, never cutting a spawn off the goal.
    """

    goal_ends_episode = False
    maze = LARGE

    def __init__(self, goal_reward: float = 10.0, min_goal_distance: int = 0,
                 blocked_door_fraction: float = 0.0, maze: dict = LARGE):
        self.maze = maze  # labmaze size arguments (maze_layout.LARGE / SMALL)
        self.goal_reward = goal_reward
        self.min_goal_distance = min_goal_distance
        self.blocked_door_fraction = blocked_door_fraction
        self.has_doors = blocked_door_fraction > 0

    def plan(self, layout: MazeLayout, rng: np.random.Generator) -> Plan:
        goal = _pick(rng, layout.cells("G"))
        dist = layout.distances(goal)
        spawns = [s for s in layout.cells("P") if dist[s] >= self.min_goal_distance]
        if not spawns:  # no labmaze spawn is far enough: any floor cell that is
            spawns = [c for c in layout.floor_cells if dist[c] >= self.min_goal_distance]
        if not spawns:
            spawns = [max(layout.floor_cells, key=lambda c: dist[c])]
        items = [Item("goal", goal, self.goal_reward)]
        blocked = []
        for door in rng.permutation(np.array(layout.doors, dtype=int).reshape(-1, 2)).tolist():
            if rng.random() >= self.blocked_door_fraction:
                continue
            trial = blocked + [tuple(door)]
            reach = layout.distances(goal, trial)
            if all(reach[s] >= 0 for s in spawns):
                blocked = trial
        items += [Item("door", d) for d in blocked]
        return Plan(items, spawns)


class KeysDoorsTask:
    """rooms_keys_doors_puzzle: coloured doors seal the goal's room; their key lies elsewhere.

    A chain of 1..`max_locks` locks drawn per episode (DMLab's keys_doors coreSequenceLength
    {1, 3}): the goal room's doors need key 1, and key 1 lies in a room whose doors need key 2,
    and so on; the last key is reachable from the spawn. Keys and
    opened doors pay small rewards, the goal a large one and ends the episode.
    """

    goal_ends_episode = True
    has_doors = True
    maze = ROOMS

    def __init__(self, goal_reward: float = 10.0, key_reward: float = 1.0,
                 door_reward: float = 1.0, max_locks: int = 3):
        self.goal_reward, self.key_reward, self.door_reward = goal_reward, key_reward, door_reward
        self.max_locks = max_locks

    def plan(self, layout: MazeLayout, rng: np.random.Generator) -> Plan:
        spawn_pool = layout.cells("P")
        rooms = [r for r in layout.room_letters() if layout.doors_of_room(r)]
        goal_room = _pick(rng, rooms) if rooms else None
        if goal_room is None:  # a maze without sealable rooms: a plain goal
            return Plan([Item("goal", _pick(rng, layout.cells("G")), self.goal_reward)],
                        spawn_pool)
        goal = _pick(rng, layout.room_cells(goal_room))
        items, locked, sealed = [Item("goal", goal, self.goal_reward)], [], {goal_room}
        target_room = goal_room
        for color in _KEY_COLORS[:int(rng.integers(1, self.max_locks + 1))]:
            doors = [d for d in layout.doors_of_room(target_room) if d not in locked]
            trial = locked + doors
            free = self._reachable(layout, spawn_pool, trial, sealed)
            if not free:
                break
            locked = trial
            items += [Item("door", d, self.door_reward, color) for d in doors]
            key_cell = _pick(rng, free)
            items.append(Item("key", key_cell, self.key_reward, color))
            target_room = layout.rooms[key_cell]
            if target_room == "." or target_room in sealed:
                break  # the key lies in a corridor: the chain ends here
            sealed.add(target_room)
        spawns = [s for s in spawn_pool if layout.rooms[s] not in sealed
                  and self._reachable(layout, [s], locked, sealed)]
        return Plan(items, spawns or self._reachable(layout, spawn_pool, locked, sealed)[:1])

    @staticmethod
    def _reachable(layout, spawn_pool, locked, sealed):
        """Floor cells outside sealed rooms that some spawn reaches without a locked door."""
        cells = set()
        for spawn in spawn_pool:
            if layout.rooms[spawn] in sealed:
                continue
            dist = layout.distances(spawn, locked)
            cells |= {c for c in layout.floor_cells if dist[c] >= 0}
        return sorted(c for c in cells if layout.rooms[c] not in sealed and c not in locked
                      and layout.grid[c] not in ("H", "I"))


class GoodBadObjectsTask:
    """rooms_collect_good_objects: 10 good objects (+1) and 10 bad ones (-1) spread over the
    maze; the episode ends when 10 objects have been picked up, or at the time limit (DMLab's
    collect_good_objects_factory). No refill."""

    goal_ends_episode = False
    has_doors = False
    maze = ROOMS

    def __init__(self, good_reward: float = 1.0, bad_reward: float = -1.0, per_kind: int = 10,
                 pickups_to_end: int = 10):
        self.good_reward, self.bad_reward, self.per_kind = good_reward, bad_reward, per_kind
        self.pickups_to_end = pickups_to_end

    def plan(self, layout: MazeLayout, rng: np.random.Generator) -> Plan:
        spawns = layout.cells("P")
        free = [c for c in layout.floor_cells if c not in set(spawns)
                and layout.grid[c] not in ("H", "I")]
        chosen = rng.permutation(len(free))[:2 * self.per_kind].tolist()
        items = [Item("object", free[index], self.good_reward if i % 2 == 0 else self.bad_reward,
                      "good" if i % 2 == 0 else "bad") for i, index in enumerate(chosen)]
        return Plan(items, spawns)


def _pick(rng, cells):
    return cells[int(rng.integers(len(cells)))]
