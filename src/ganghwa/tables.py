"""Tables for the terminal (rich): the Q-table as the lecture draws it, and V over a grid."""

from __future__ import annotations

import numpy as np
from rich.table import Table

NO_DECISION_CELLS = "GXHC#"
"""Grid cells where no action is chosen: goal, traps (ours X, FrozenLake's H), cliff, walls."""


BEST_MARK = "*"
"""After each best value of a row in q_table: the colour of the terminal is lost in a file."""


def q_table(q: np.ndarray, states: list[str], actions: list[str], title: str,
            max_rows: int = 64) -> Table:
    """Rows are states, columns actions. The best action of each row is marked with `*` (and
    in bold green on a terminal); every action that ties for the best (np.isclose) is marked,
    and a row whose actions all tie has no best action, so no mark. The caption says so."""
    table = Table(title=title)
    table.add_column("state")
    for name in actions:
        table.add_column(name, justify="right")
    for s in range(min(len(q), max_rows)):
        best = np.isclose(q[s], q[s].max())
        if best.all():
            best[:] = False
        # the unmarked values get a space where the mark would be, so the digits line up
        table.add_row(states[s], *(f"[bold green]{v:.4g}{BEST_MARK}[/]" if is_best
                                   else f"{v:.4g} " for v, is_best in zip(q[s], best, strict=True)))
    caption = f"{BEST_MARK} = best action (ties all marked; none where all tie)"
    if len(q) > max_rows:
        caption += f"; first {max_rows} of {len(q)} states"
    table.caption = caption
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
