"""Execute notebooks in a real Jupyter kernel (nbclient and ipykernel, of the dev extra)."""

import os
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
pytest.importorskip("ipykernel", reason="the dev extra installs ipykernel")

CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]")
"""Terminal control codes other than colours (SGR, ...m), which Jupyter shows as garbage."""


def execute(notebook, cwd: Path, timeout: int = 600, **env: str):
    """Run every cell of `notebook` top to bottom in a fresh python3 kernel started in `cwd`,
    with `env` added to the kernel's environment; the notebook comes back with its outputs.
    A cell that raises fails the call (nbclient's CellExecutionError, with the traceback)."""
    bin_dir = str(Path(sys.executable).parent)  # so that `!ganghwa` is this venv's script
    kernel_env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
                  "MPLBACKEND": "module://matplotlib_inline.backend_inline", **env}
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    return client.execute(env=kernel_env)  # keywords go on to the kernel manager's start


def outputs(notebook):
    """(cell index, output) of every output of every code cell."""
    return [(i, out) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", [])]


def text_of(output) -> str:
    return output.get("text") or "".join(str(v) for v in output.get("data", {}).values())
