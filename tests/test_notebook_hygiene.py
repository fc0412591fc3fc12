"""Static checks of every notebook: run top to bottom, clean outputs, the sections a unit needs."""

import re
from pathlib import Path

import nbformat
import pytest

from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGHS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
STORED = WALKTHROUGHS + SOLUTIONS
PRIVATE = re.compile(r"(/root/|/home/\w|/work/|/tmp/\w|/Users/\w|[A-Z]:\\\\Users|\.venv)")
MAX_BYTES = 2_000_000


def ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


def text_of(cell):
    parts = [cell.source]
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(v for v in out.get("data", {}).values() if isinstance(v, str) and not v.startswith("iVBOR"))
        parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def test_the_course_has_notebooks():
    assert WALKTHROUGHS and SOLUTIONS and EXERCISES


@pytest.mark.parametrize("path", WALKTHROUGHS + SOLUTIONS + EXERCISES, ids=ids(WALKTHROUGHS + SOLUTIONS + EXERCISES))
def test_name_size_kernel_and_no_private_paths(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name notebooks NN_topic.ipynb"
    assert path.stat().st_size <= MAX_BYTES, "shrink images or outputs"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        found = PRIVATE.search(text_of(cell))
        assert not found, f"private path {found.group(0)!r} in a cell of {path.name}"


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_stored_outputs_come_from_one_clean_run(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run it top to bottom: make notebooks"
    for cell in code:
        tags = cell.metadata.get("tags", [])
        for out in cell.outputs:
            assert out.output_type != "error" or "raises-exception" in tags, f"stored error: {out.get('ename')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), f"stderr stored: {out.text[:200]!r}"


@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_exercises_start_clean(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        assert "### BEGIN SOLUTION" not in cell.source and "### END SOLUTION" not in cell.source
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_every_unit_has_a_walkthrough_a_solution_and_an_exercise():
    names = [{p.name for p in group} for group in (WALKTHROUGHS, SOLUTIONS, EXERCISES)]
    assert names[0] == names[1] == names[2]


def headings(nb):
    return [
        line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("#")
    ]


def first_code(nb):
    """The first code cell after the Colab install cell."""
    return [c.source for c in nb.cells if c.cell_type == "code"][1]


@pytest.mark.parametrize("path", WALKTHROUGHS + SOLUTIONS + EXERCISES, ids=ids(WALKTHROUGHS + SOLUTIONS + EXERCISES))
def test_opens_in_colab_and_installs_itself_there(path):
    colab = load_tool("colab")
    repo, ref = colab.repository(ROOT), colab.release(ROOT)
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source == colab.badge(repo, ref, path.parent.name, path.name), "run `make colab`"
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == colab.install_source(repo, ref), "the first code cell installs the course on Colab"
    assert first.get("outputs") in ([], None), "the install cell does nothing outside Colab"


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=ids(WALKTHROUGHS))
def test_walkthrough_has_the_course_sections(path):
    nb = nbformat.read(path, as_version=4)
    found = headings(nb)
    assert found[0].startswith(f"# {path.name[:2]} · "), "title: '# NN · Topic（用語）'"
    for section in ("## Setup", "## 確認テスト", "## Summary"):
        assert any(h.startswith(section) for h in found), f"missing section {section}"
    assert "setup(" in first_code(nb), "the first code cell after the Colab install cell calls cnn_course.setup()"
    assert "References" in nb.cells[-1].source and "arxiv.org" in nb.cells[-1].source.lower()
    assert "assert " in "\n".join(c.source for c in nb.cells if c.cell_type == "code"), "claims are proven by asserts"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_has_numbered_tasks_each_with_a_check(path):
    nb = nbformat.read(path, as_version=4)
    found = headings(nb)
    assert found[0].startswith(f"# {path.name[:2]} · ") and any(h.startswith("## Setup") for h in found)
    assert "setup(" in first_code(nb)
    tasks = [int(m.group(1)) for h in found if (m := re.match(r"## Task (\d+) · ", h))]
    assert tasks == list(range(1, len(tasks) + 1)) and len(tasks) >= 5
    checks = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith("check.")]
    assert len(checks) == len(tasks)


@pytest.mark.parametrize("path", WALKTHROUGHS + SOLUTIONS, ids=ids(WALKTHROUGHS + SOLUTIONS))
def test_make_colab_changes_nothing_on_a_clean_checkout(path):
    colab = load_tool("colab")
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    repo, ref = colab.repository(ROOT), colab.release(ROOT)
    after = nbformat.writes(colab.with_colab_cells(nb, repo, ref, path.parent.name, path.name))
    assert after == before, "a second `make colab` must change nothing (execution counts and outputs kept)"


def test_make_colab_adds_the_cells_to_a_notebook_without_them_and_keeps_the_rest():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    colab = load_tool("colab")
    nb = new_notebook(cells=[new_markdown_cell("# 99 · Title"), new_code_cell("course = setup()")])
    nb = colab.with_colab_cells(nb, "me/fork", "v9.9.9", "notebooks", "99_x.ipynb")
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "code", "code"]
    assert "github/me/fork/blob/v9.9.9/notebooks/99_x.ipynb" in nb.cells[0].source
    assert "git+https://github.com/me/fork@v9.9.9" in nb.cells[2].source and nb.cells[3].source == "course = setup()"


def test_the_package_version_is_the_release_the_notebooks_point_to():
    import cnn_course

    assert "v" + cnn_course.__version__ == load_tool("colab").release(ROOT)
