"""Tables for the terminal (rich): the Q-table as the lecture draws it, and V over a grid."""

from __future__ import annotations

import numpy as np
from rich.table import Table

NO_DECISION_CELLS = "GXHC#"
"""Grid cells where no action is chosen: goal, traps (ours X, FrozenLake's H), cliff, walls."""


def q_table(q: np.ndarray, states: list[str], actions: list[str], title: str,
            max_rows: int = 64) -> Table:
    """Rows are states, columns actions; the best action of each row is highlighted."""
    table = Table(title=title)
    table.add_column("state")
    for name in actions:
        table.add_column(name, justify="right")
    for s in range(min(len(q), max_rows)):
        best = q[s].max()
        table.add_row(states[s], *(f"[bold green]{v:.4g}[/]" if v == best and np.ptp(q[s]) > 0
                                   else f"{v:.4g}" for v in q[s]))
    if len(q) > max_rows:
        table.caption = f"first {max_rows} of {len(q)} states"
    return table


def value_grid(values: np.ndarray, cells: np.ndarray, arrows: list[str], title: str) -> Table:
    """V(s) and the greedy action in each cell of a grid env."""
    rows, cols = cells.shape
    table = Table(title=title, show_header=False, show_lines=True)
    for _ in range(cols):
        table.add_column(justify="center")
    for r in range(rows):
        row = []
        for c in range(cols):
            s = r * cols + c
            cell = str(cells[r, c])
            row.append(cell if cell in NO_DECISION_CELLS else f"{arrows[s]}\n{values[s]:.3g}")
        table.add_row(*row)
    return table
