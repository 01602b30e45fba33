"""The course notebooks: stored as their sources build them, without outputs, and each of the
12 (6 chapters, English and Korean) runs top to bottom in a real kernel at the quick budget
(GANGHWA_QUICK=1). The figures a notebook reproduces (Sutton & Barto's Figures 4.1 and 6.4)
are asserted in the notebook itself, so a wrong value fails its cell and this test."""

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from tests.notebooks.kernel import CURSOR, execute, nbformat, outputs, text_of

ROOT = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTERS = sorted(p.stem for p in (ROOT / "src").glob("*.py"))
NOTEBOOKS = [ROOT / lang / f"{chapter}.ipynb" for chapter in CHAPTERS for lang in ("en", "ko")]

pytestmark = pytest.mark.notebook


def test_every_chapter_has_an_english_and_a_korean_notebook_built_from_its_source():
    assert len(CHAPTERS) == 6
    built = subprocess.run([sys.executable, str(ROOT / "build.py"), "--check"],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path
        assert "find_spec(\"ganghwa\") is None" in code[0].source  # the install cell first
    # the Korean notebook is in Korean: Hangul in every markdown cell
    for chapter in CHAPTERS:
        ko = nbformat.read(ROOT / "ko" / f"{chapter}.ipynb", as_version=4)
        assert all(any("가" <= ch <= "힣" for ch in c.source)
                   for c in ko.cells if c.cell_type == "markdown"), chapter


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}-{p.stem}" for p in NOTEBOOKS])
def test_the_notebook_runs_top_to_bottom_at_the_quick_budget(path, tmp_path):
    notebook = execute(nbformat.read(path, as_version=4), tmp_path, GANGHWA_QUICK="1")
    shown = outputs(notebook)
    assert not [out for i, out in shown if i == 0], "the install cell did something here"
    assert not [out for _, out in shown if out.output_type == "error"]
    for _, out in shown:
        assert not CURSOR.search(text_of(out)), "terminal cursor codes in a cell's output"
        png = out.get("data", {}).get("image/png")
        if png:
            assert base64.b64decode(png).startswith(b"\x89PNG")
    # every run the notebook trained shows itself inline: its pictures embedded as data
    html = "".join(out.get("data", {}).get("text/html", "") for _, out in shown)
    assert "data:image/png;base64," in html and 'src="runs/' not in html
