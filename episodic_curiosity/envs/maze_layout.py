"""DMLab-style maze layouts from labmaze (DMLab's own generator), and shortest paths on them.

A layout is the text grid DMLab levels are built from: `*` wall, ` ` floor, `P` spawn point,
`G` object/goal slot, `H`/`I` doorways (labmaze marks room entrances when asked for doors).
Cells are (row, col); the 3-D world maps a cell to a square of floor. Pure numpy, no rendering,
so task planning and the tests' scripted agents use the same geometry as the world.
"""

import collections
import dataclasses

import labmaze
import numpy as np

WALL = "*"
DOOR_TOKENS = ("H", "I")
_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))

# DMLab's explore_goal_locations_large / explore_obstructed_goals_large (dmlab30 level scripts):
# mazeHeight 17, mazeWidth 17, roomCount 9, roomMaxSize 3, objectCount 5, and the defaults of
# factories/explore/factory.lua: roomMinSize 3, spawnCount 5, extraConnectionProbability 0.
LARGE = dict(height=17, width=17, max_rooms=9, room_min_size=3, room_max_size=3,
             spawns_per_room=5, objects_per_room=5, extra_connection_probability=0.0)
# explore_goal_locations_small: the factory's defaults (mazeHeight/Width 11, roomCount 4, rooms
# 3..5, objectCount 4, spawnCount 5). The scaled-down Table-1 scenarios (*_small) use it.
SMALL = dict(height=11, width=11, max_rooms=4, room_min_size=3, room_max_size=5,
             spawns_per_room=5, objects_per_room=4, extra_connection_probability=0.0)
# dense1 / dense2 (rooms_keys_doors_puzzle, rooms_collect_good_objects) are built by DMLab from
# their own generators and a fixed map, not from this factory; ours are labmaze mazes of this size.
ROOMS = dict(height=11, width=17, max_rooms=4, room_min_size=3, room_max_size=5,
             spawns_per_room=1, objects_per_room=1, extra_connection_probability=0.05)


@dataclasses.dataclass(frozen=True)
class MazeLayout:
    grid: np.ndarray  # (rows, cols) one-character strings, labmaze's entity layer
    rooms: np.ndarray  # (rows, cols) room letter from labmaze's variations layer, "." elsewhere

    @property
    def floor(self) -> np.ndarray:
        return self.grid != WALL

    def cells(self, *tokens) -> list[tuple[int, int]]:
        rows, cols = np.nonzero(np.isin(self.grid, tokens))
        return list(zip(rows.tolist(), cols.tolist()))

    @property
    def floor_cells(self) -> list[tuple[int, int]]:
        rows, cols = np.nonzero(self.floor)
        return list(zip(rows.tolist(), cols.tolist()))

    @property
    def doors(self) -> list[tuple[int, int]]:
        return self.cells(*DOOR_TOKENS)

    def room_letters(self) -> list[str]:
        return sorted(set(self.rooms[self.floor].tolist()) - {"."})

    def room_cells(self, letter: str) -> list[tuple[int, int]]:
        rows, cols = np.nonzero((self.rooms == letter) & self.floor)
        return list(zip(rows.tolist(), cols.tolist()))

    def doors_of_room(self, letter: str) -> list[tuple[int, int]]:
        """Doorways that touch the room: locking them all seals it."""
        inside = set(self.room_cells(letter))
        return [d for d in self.doors if any(n in inside for n in self.neighbours(d))]

    def neighbours(self, cell):
        r, c = cell
        for dr, dc in _STEPS:
            n = (r + dr, c + dc)
            if 0 <= n[0] < self.grid.shape[0] and 0 <= n[1] < self.grid.shape[1] and self.floor[n]:
                yield n

    def distances(self, source, blocked=()) -> np.ndarray:
        """Shortest-path length in cells from `source` to every cell; -1 where unreachable."""
        blocked = set(blocked)
        dist = np.full(self.grid.shape, -1, np.int64)
        dist[source] = 0
        queue = collections.deque([source])
        while queue:
            cell = queue.popleft()
            for n in self.neighbours(cell):
                if dist[n] < 0 and n not in blocked:
                    dist[n] = dist[cell] + 1
                    queue.append(n)
        return dist

    def path(self, start, goal, blocked=()) -> list[tuple[int, int]]:
        """Cells of a shortest path from `start` to `goal` (both included); [] if none."""
        dist = self.distances(goal, blocked)
        if dist[start] < 0:
            return []
        cells = [start]
        while cells[-1] != goal:
            cells.append(min(self.neighbours(cells[-1]),
                             key=lambda n: dist[n] if dist[n] >= 0 else np.inf))
        return cells


def generate(seed: int, has_doors: bool = False, **size) -> MazeLayout:
    """The maze of one episode (LARGE unless `size` says otherwise); the same seed gives the
    same maze."""
    maze = labmaze.RandomMaze(**(size or LARGE), has_doors=has_doors, random_seed=seed)
    return MazeLayout(grid=np.array(maze.entity_layer, dtype="<U1"),
                      rooms=np.array(maze.variations_layer, dtype="<U1"))
