"""Execute the course notebooks top to bottom in a fresh Jupyter kernel each, and keep what
they showed: the executed notebook and its HTML export (nbconvert), and the wall time.

    python notebooks/run.py                       # all 12 at the full budget (make notebooks)
    python notebooks/run.py --quick               # the shrunk budgets (GANGHWA_QUICK=1)
    python notebooks/run.py notebooks/ko/01_dynamic_programming.ipynb --out /tmp/nb

Each notebook runs in its own folder under --out (its runs/ and experiments/ stay there);
the executed copy goes to OUT/<lang>/<chapter>.ipynb and .html, and the times to
OUT/times.json. A cell that raises stops that notebook; the rest still run, and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent


def execute(notebook: Any, cwd: Path, timeout: int = 1800, **env: str) -> Any:
    """Run every cell in a fresh python3 kernel started in `cwd`, `env` added to its
    environment (and this Python's scripts first on PATH, for `!ganghwa`); the notebook comes
    back with its outputs. A cell that raises raises nbclient's CellExecutionError."""
    bin_dir = str(Path(sys.executable).parent)
    kernel_env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
                  "MPLBACKEND": "module://matplotlib_inline.backend_inline", **env}
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    return client.execute(env=kernel_env)  # keywords go on to the kernel manager's start


def export_html(notebook: Any, lang: str = "en") -> str:
    """The executed notebook as one HTML file in `lang` (<html lang>, which the browser's
    font choice reads); its images and videos are data in the outputs already."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(language_code=lang).from_notebook_node(notebook)
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: notebooks/en/*.ipynb, notebooks/ko/*)")
    parser.add_argument("--quick", action="store_true", help="GANGHWA_QUICK=1: shrunk budgets")
    parser.add_argument("--out", type=Path, default=HERE / "executed",
                        help="where the executed notebooks, their HTML and times.json go")
    args = parser.parse_args()
    paths = args.notebooks or sorted((HERE / "en").glob("*.ipynb")) + sorted(
        (HERE / "ko").glob("*.ipynb"))
    env = {"GANGHWA_QUICK": "1"} if args.quick else {}
    times: dict[str, float] = {}
    failed = []
    for path in paths:
        name = f"{path.parent.name}/{path.stem}"
        work = args.out / "work" / path.parent.name / path.stem
        work.mkdir(parents=True, exist_ok=True)
        notebook = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        try:
            execute(notebook, work, **env)
        except nbclient.exceptions.CellExecutionError as e:
            failed.append(name)
            print(f"{name}: FAILED\n{e}", file=sys.stderr)
        times[name] = round(time.perf_counter() - started, 1)
        target = args.out / path.parent.name / f"{path.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        target.with_suffix(".html").write_text(export_html(notebook, path.parent.name))
        print(f"{name}: {times[name]:.1f} s", flush=True)
    (args.out / "times.json").write_text(json.dumps(times, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
