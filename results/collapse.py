"""The DARTS collapse measure on NAS-Bench-201 cells: how many of a cell's six edges are
parameter-free (``none``, ``skip_connect``, ``avg_pool_3x3``) and how many are skip connections.

Differentiable search on NAS-Bench-201 drifts towards such cells (Dong & Yang, ICLR 2020,
report DARTS's all-skip cell); docs/weight_sharing.md measured the drift with these counts.
Cells are NAS-Bench-201 strings (``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``), as results tables
hold them.
"""

from __future__ import annotations

PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3")
"""NAS-Bench-201 operations without weights."""


def cell_ops(cell: str) -> list[str]:
    """The operation of each edge of a NAS-Bench-201 cell string, in string order."""
    return [edge.split("~")[0] for node in cell.split("+") for edge in node.strip("|").split("|")]


def parameter_free_edges(cell: str) -> int:
    """Edges whose operation has no weights."""
    return sum(op in PARAMETER_FREE for op in cell_ops(cell))


def skip_edges(cell: str) -> int:
    """Edges that are skip connections."""
    return cell_ops(cell).count("skip_connect")
