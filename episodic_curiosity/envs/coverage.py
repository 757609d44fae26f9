"""The grid oracle's cells: what "a new place" means for the oracle reward, its bonus and the
coverage statistic, in one definition.

The original (`oracle.py`) quantises the agent's position with `int(x / grid)`, truncating
toward zero, on a grid of 30 DMLab units: 0.3 of a DMLab maze cell (100 units). Every scenario
declares its oracle cell in its own map units (`Scenario.oracle_cell`).
"""

import numpy as np


def cell_of(xy, cell_size: float) -> tuple:
    """The oracle cell of a position: int() of each coordinate over the cell size, as the original."""
    return tuple(np.trunc(np.asarray(xy, np.float64) / cell_size).astype(np.int64).tolist())


class CellCounter:
    """Cells visited in one episode; `visit` says whether the position's cell is new."""

    def __init__(self, cell_size: float):
        self.cell_size = cell_size
        self.cells: set = set()

    def reset(self, xy=None) -> None:
        self.cells = set()
        if xy is not None:
            self.visit(xy)

    def visit(self, xy) -> bool:
        cell = cell_of(xy, self.cell_size)
        if cell in self.cells:
            return False
        self.cells.add(cell)
        return True

    def __len__(self):
        return len(self.cells)
