"""MiniGrid's partial view and state key from an encoded copy of the grid, ~10x faster.

minigrid builds every observation from Python objects: it copies the 7x7 window into a new
`Grid`, rotates it one to four times (a new `Grid` each time), then encodes it cell by cell
(~360 us of a ~420 us step on the 2-core CPU). `GridCache` keeps the grid encoded as a numpy
array, padded with walls, and re-encodes only the cells a step can change (the one in front of
the agent, where pickup / drop / toggle act, and any object the task itself changes), so a view
is one gather plus minigrid's occlusion rule. `install` makes it the env's `gen_obs`, so
minigrid's own `step` and `reset` return these views. `tests/test_minigrid_view.py` checks the views and
keys against minigrid's own code on every MiniGrid scenario.
"""

import hashlib

import numpy as np
from minigrid.core.constants import DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.world_object import Wall

VIEW = 7  # minigrid's default agent_view_size, the RIDE tasks' view
_EMPTY, _WALL = OBJECT_TO_IDX["empty"], OBJECT_TO_IDX["wall"]
_WALL_CODE, _EMPTY_CODE = Wall().encode(), (_EMPTY, 0, 0)


def _window_order() -> list[np.ndarray]:
    """Per heading, the flat indices into a 7x7 [x, y] window slice in the order of minigrid's
    rotated view (`Grid.rotate_left` applied heading + 1 times), read off minigrid's rule."""
    orders = []
    for heading in range(4):
        index = np.arange(VIEW * VIEW).reshape(VIEW, VIEW)
        for _ in range(heading + 1):  # rotate_left: new[j, n-1-i] = old[i, j]
            index = index[::-1].T
        orders.append(index.reshape(-1))
    return orders


_ORDERS = _window_order()


_VISIBLE: dict[bytes, np.ndarray] = {}  # opaque pattern -> visibility mask; a few thousand
_MAX_PATTERNS = 1 << 16


def visible(opaque: np.ndarray) -> np.ndarray:
    """`_visible` of a 7x7 bool array, as a [7, 7, 1] mask; memoised by the pattern (views
    repeat: walls sit where they sat)."""
    key = np.packbits(opaque).tobytes()
    mask = _VISIBLE.get(key)
    if mask is None:
        mask = np.asarray(_visible(opaque.tolist()))[..., None]
        if len(_VISIBLE) < _MAX_PATTERNS:
            _VISIBLE[key] = mask
    return mask


def _visible(opaque) -> list[list[bool]]:
    """minigrid's `Grid.process_vis` on a 7x7 [x][y] view whose agent sits at (3, 6): sight
    spreads from the agent row by row, left and right, and stops at cells it cannot see behind."""
    mask = [[False] * VIEW for _ in range(VIEW)]
    mask[VIEW // 2][VIEW - 1] = True
    for j in reversed(range(VIEW)):
        for i in range(VIEW - 1):
            if mask[i][j] and not opaque[i][j]:
                mask[i + 1][j] = True
                if j > 0:
                    mask[i + 1][j - 1] = mask[i][j - 1] = True
        for i in reversed(range(1, VIEW)):
            if mask[i][j] and not opaque[i][j]:
                mask[i - 1][j] = True
                if j > 0:
                    mask[i - 1][j - 1] = mask[i][j - 1] = True
    return mask


class GridCache:
    """The encoded grid of one minigrid env, [x, y] like `Grid.encode`, padded by VIEW walls."""

    def __init__(self, env):
        self.env, self.grid = env, None

    def rebuild(self) -> None:
        """Encodes the whole grid (after a reset drew a new layout)."""
        self.grid = grid = self.env.grid
        self.width, self.height = grid.width, grid.height
        objects = grid.grid  # mostly walls and empty cells: their codes need no call
        kinds = np.array([0 if obj is None else 1 if type(obj) is Wall else 2
                          for obj in objects], np.int8)
        flat = np.empty((len(objects), 3), np.uint8)
        flat[kinds == 0], flat[kinds == 1] = _EMPTY_CODE, _WALL_CODE
        blocking = kinds == 1
        for k in np.flatnonzero(kinds == 2):
            flat[k], blocking[k] = objects[k].encode(), not objects[k].see_behind()
        codes = flat.reshape(self.height, self.width, 3).transpose(1, 0, 2)
        opaque = blocking.reshape(self.height, self.width).T
        inner = (slice(VIEW, VIEW + self.width), slice(VIEW, VIEW + self.height))
        self.codes = np.empty((self.width + 2 * VIEW, self.height + 2 * VIEW, 3), np.uint8)
        self.codes[:] = _WALL_CODE
        self.codes[inner] = codes
        self.opaque = np.ones(self.codes.shape[:2], bool)
        self.opaque[inner] = opaque
        self._grid_digest = None

    def _encode(self, x, y, obj) -> bool:
        """Writes cell (x, y)'s code; whether it changed."""
        cell = (x + VIEW, y + VIEW)
        code = _EMPTY_CODE if obj is None else obj.encode()
        if tuple(self.codes[cell]) == tuple(code):
            return False
        self.codes[cell] = code
        self.opaque[cell] = obj is not None and not obj.see_behind()
        return True

    def refresh(self, x, y) -> None:
        """Re-encodes cell (x, y) (a no-op outside the grid)."""
        if 0 <= x < self.width and 0 <= y < self.height:
            if self._encode(x, y, self.grid.get(x, y)):
                self._grid_digest = None

    def sync(self) -> None:
        """Brings the copy up to date: a new grid (a reset) is encoded whole; otherwise only
        the cell in front of the agent (the only one minigrid's actions change) and the task's
        own changing objects (e.g. the NoisyTV's ball) are re-encoded."""
        env = self.env
        if env.grid is not self.grid:
            self.rebuild()
            return
        (dx, dy), (x, y) = DIR_TO_VEC[env.agent_dir], env.agent_pos  # env.front_pos, faster
        self.refresh(x + int(dx), y + int(dy))
        for obj in getattr(env, "changing_objects", ()):
            if obj.cur_pos is not None:
                self.refresh(*obj.cur_pos)

    def synced(self) -> "GridCache":
        self.sync()
        return self

    @property
    def grid_codes(self) -> np.ndarray:
        """The unpadded encoding, equal to `env.grid.encode()`."""
        return self.codes[VIEW:VIEW + self.width, VIEW:VIEW + self.height]

    def view(self) -> np.ndarray:
        """The agent's 7x7x3 view, equal to minigrid's `gen_obs()["image"]`."""
        env = self.env
        self.sync()
        x0, y0, _, _ = env.get_view_exts(VIEW)
        window = (slice(x0 + VIEW, x0 + 2 * VIEW), slice(y0 + VIEW, y0 + 2 * VIEW))
        order = _ORDERS[env.agent_dir]
        codes = self.codes[window].reshape(-1, 3)[order].reshape(VIEW, VIEW, 3)
        opaque = self.opaque[window].reshape(-1)[order].reshape(VIEW, VIEW)
        image = np.where(visible(opaque), codes, np.uint8(0))
        carried = env.carrying
        image[VIEW // 2, VIEW - 1] = carried.encode() if carried else _EMPTY_CODE
        return image

    def state_key(self) -> int:
        """`minigrid.state_fingerprint(env)`, the same value: every non-wall object's (flat
        index, type, colour, state), then the agent's cell and heading."""
        self.sync()
        if self._grid_digest is None:
            codes = self.grid_codes.transpose(1, 0, 2).reshape(-1, 3)  # flat index y * W + x
            cells = np.flatnonzero((codes[:, 0] != _EMPTY) & (codes[:, 0] != _WALL))
            rows = np.column_stack([cells, codes[cells]]).astype(np.int64)
            self._grid_digest = hashlib.blake2b(np.ascontiguousarray(rows).tobytes(),
                                                digest_size=8)
        digest = self._grid_digest.copy()
        digest.update(np.asarray(self.env.agent_pos, np.int64).tobytes())
        digest.update(np.asarray([self.env.agent_dir], np.int64).tobytes())
        return int.from_bytes(digest.digest(), "little")


def install(env) -> GridCache:
    """Makes `env.gen_obs` (what minigrid's step and reset return) read from a GridCache."""
    cache = GridCache(env)
    env.gen_obs = lambda: {"image": cache.view(), "direction": env.agent_dir,
                           "mission": env.mission}
    return cache
