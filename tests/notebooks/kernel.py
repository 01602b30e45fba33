"""Execute notebooks in a real Jupyter kernel (nbclient and ipykernel, of the dev extra)."""

import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
pytest.importorskip("ipykernel", reason="the dev extra installs ipykernel")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "notebooks"))
from run import execute, export_html  # noqa: E402  notebooks/run.py: the documented command

CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]")
"""Terminal control codes other than colours (SGR, ...m), which Jupyter shows as garbage."""


def outputs(notebook):
    """(cell index, output) of every output of every code cell."""
    return [(i, out) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", [])]


def text_of(output) -> str:
    return output.get("text") or "".join(str(v) for v in output.get("data", {}).values())


__all__ = ["CURSOR", "execute", "export_html", "nbformat", "outputs", "text_of"]
