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

    def refill(self, layout, rng, items):
        return []


class KeysDoorsTask:
    """rooms_keys_doors_puzzle: coloured doors seal the goal's room; their key lies elsewhere.

    A chain of up to `num_locks` locks: the goal room's doors need key 1, and key 1 lies in a
    room whose doors need key 2, and so on; the last key is reachable from the spawn. Keys and
    opened doors pay small rewards, the goal a large one and ends the episode.
    """

    goal_ends_episode = True
    has_doors = True
    maze = ROOMS

    def __init__(self, goal_reward: float = 10.0, key_reward: float = 1.0,
                 door_reward: float = 1.0, num_locks: int = 2):
        self.goal_reward, self.key_reward, self.door_reward = goal_reward, key_reward, door_reward
        self.num_locks = num_locks

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
        for color in _KEY_COLORS[:self.num_locks]:
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

    def refill(self, layout, rng, items):
        return []


class GoodBadObjectsTask:
    """rooms_collect_good_objects: good objects pay +1, bad ones -1; all refill once the good
    ones are gone, so reward stays dense for the whole fixed-length episode."""

    goal_ends_episode = False
    has_doors = False
    maze = ROOMS

    def __init__(self, good_reward: float = 1.0, bad_reward: float = -1.0, per_room: int = 2):
        self.good_reward, self.bad_reward, self.per_room = good_reward, bad_reward, per_room

    def plan(self, layout: MazeLayout, rng: np.random.Generator) -> Plan:
        return Plan(self.refill(layout, rng, []), layout.cells("P"))

    def refill(self, layout, rng, items):
        taken = {item.cell for item in items} | set(layout.cells("P"))  # not under a spawn
        placed = []
        for room in layout.room_letters():
            free = [c for c in layout.room_cells(room) if c not in taken]
            chosen = rng.permutation(len(free))[:2 * self.per_room]
            for i, index in enumerate(chosen.tolist()):
                good = i % 2 == 0
                placed.append(Item("object", free[index],
                                   self.good_reward if good else self.bad_reward,
                                   "good" if good else "bad"))
        return placed


def _pick(rng, cells):
    return cells[int(rng.integers(len(cells)))]
