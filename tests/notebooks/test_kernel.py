"""What training shows in a real Jupyter kernel: one plain progress line that needs no
ipywidgets, no stray displays, and `!ganghwa train` without the cursor codes of a terminal."""

from tests.notebooks.kernel import CURSOR, execute, nbformat, outputs, text_of


def cells(*sources: str):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_training_in_a_cell_shows_one_plain_line_and_nothing_else(tmp_path):
    notebook = execute(cells(
        "import ganghwa",
        "run = ganghwa.train('q_learning', 'FrozenLake-v1', steps=20_000, video=False)",
        "run = ganghwa.train('q_learning', 'FrozenLake-v1', steps=20_000, progress=True, "
        "video=False)"), tmp_path)
    quiet, shown = ([out for i, out in outputs(notebook) if i == n] for n in (1, 2))
    # the tabular run writes its Q-table to q_table.txt; in Jupyter it displayed it as well
    assert quiet == []
    assert [out.output_type for out in shown] == ["display_data"], shown
    line = text_of(shown[0])
    assert "step 20,000/20,000 (100%)" in line and "steps/s" in line
    assert "ipywidgets" not in line and not CURSOR.search(line)


def test_a_shell_command_in_a_cell_prints_lines_not_cursor_moves(tmp_path):
    """ipykernel sets FORCE_COLOR=1, which made rich draw its live bar into the pipe."""
    notebook = execute(cells("!ganghwa train q_learning FrozenLake-v1 --steps 300000 "
                             "--set video=false"), tmp_path)
    printed = "".join(text_of(out) for _, out in outputs(notebook))
    assert "run folder:" in printed and "300,000/300,000" in printed
    assert not CURSOR.findall(printed), sorted(set(CURSOR.findall(printed)))
