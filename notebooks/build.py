"""Build the course notebooks, in English and in Korean, from one source per chapter.

    python notebooks/build.py          # write notebooks/en/*.ipynb and notebooks/ko/*.ipynb
    python notebooks/build.py --check  # exit 1 if a stored notebook is not its source's build

A chapter is one file in notebooks/src/, in jupytext's percent format. Its code cells are
shared by both languages, so the two notebooks cannot drift apart; a markdown (or code) cell
tagged `lang="en"` or `lang="ko"` goes to that language's notebook only. Every notebook opens
with the same install cell and is stored without outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
LANGS = ("en", "ko")
INSTALL = '''\
# Colab: install ganghwa. Where it is installed (Jupyter on your machine), this does nothing.
# Colab: ganghwa를 설치합니다. 이미 설치된 곳(내 컴퓨터의 Jupyter)에서는 아무 일도 하지 않습니다.
import importlib.util
import os

if importlib.util.find_spec("ganghwa") is None:
    %pip install -q {os.environ.get("GANGHWA_PIP", "ganghwa[tune]")}'''


def build(source: Path, lang: str) -> nbformat.NotebookNode:
    """One language's notebook of a chapter: the install cell, then its cells, no outputs."""
    chapter = jupytext.read(source, fmt="py:percent")
    cells = [nbformat.v4.new_code_cell(INSTALL)]
    for cell in chapter.cells:
        tag = cell.metadata.get("lang")
        if tag not in (None, lang):
            continue
        text = cell.source.strip("\n")
        cells.append(nbformat.v4.new_markdown_cell(text) if cell.cell_type == "markdown"
                     else nbformat.v4.new_code_cell(text))
    for i, cell in enumerate(cells):  # stable ids, so that a rebuild changes no byte
        cell["id"] = f"{source.stem[:2]}-{lang}-{i:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}
    return notebook


def target(source: Path, lang: str) -> Path:
    return HERE / lang / f"{source.stem}.ipynb"


def text(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report stored notebooks that differ from their sources")
    args = parser.parse_args()
    stale = []
    for source in sorted((HERE / "src").glob("*.py")):
        for lang in LANGS:
            path, wanted = target(source, lang), text(build(source, lang))
            if args.check:
                if not path.exists() or path.read_text() != wanted:
                    stale.append(path)
                continue
            path.parent.mkdir(exist_ok=True)
            path.write_text(wanted)
    for path in stale:
        print(f"{path.relative_to(HERE.parent)} is not built from its source; run "
              "python notebooks/build.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
