"""What the questions files generate: each walkthrough's 確認テスト section and the bank's text.

The section is every cell from the "## 確認テスト" heading up to "## Summary": an introduction,
an import, then per question its markdown (Japanese, English folded), the learner's answer cell
and the proof cell, collapsed (JupyterLab's ``jupyter.source_hidden`` / ``outputs_hidden``) so
that nothing shows the answer before the learner has chosen; nbval runs it like any cell.
"""

import nbformat

from cnn_course.quiz.loader import KINDS, LETTERS
from cnn_course.quiz.render import choice_text, explanation_markdown, question_markdown

HEADING = "## 確認テスト"
INTRO = """## 確認テスト（check questions）

E資格と同じ形式の四択問題です。答えのセルの `""` に a〜d を入れて実行すると、正誤と解説が出ます。\
その下の折りたたまれたセルが、答えをコードで証明します（••• をクリックで開く）。

Four-choice questions in the exam's form. Put your choice (a–d) between the quotes of the answer cell and run \
it: only then does it say ✓ or ✗ and show the 解説 (explanation). The collapsed cell under it proves the answer \
by running code; click its ••• to read it (`make test` runs it too). Every unit's questions: \
[the bank](../docs/kakunin_test_bank.md); a timed drill across units: [docs/drill.ipynb](../docs/drill.ipynb)."""
IMPORT = "from cnn_course.quiz import answer, question"
PROOF_METADATA = {"jupyter": {"source_hidden": True, "outputs_hidden": True}, "tags": ["quiz-proof"]}


def answer_source(q):
    return f'answer("{q["id"]}", "")  # a, b, c, d'


def proof_source(q):
    head = f'# 証明（proof）{q["id"]}: the answer, proven by running code\nq = question("{q["id"]}")\n'
    return head + q["proof"].strip("\n")


def section_cells(unit, found):
    """The generated cells of a unit's 確認テスト section (unit: "05"), with stable cell ids."""
    cells = [
        nbformat.v4.new_markdown_cell(INTRO, id=f"quiz-{unit}-intro"),
        nbformat.v4.new_code_cell(IMPORT, id=f"quiz-{unit}-import"),
    ]
    for q in found:
        cells.append(nbformat.v4.new_markdown_cell(question_markdown(q), id=f"quiz-{q['id']}-question"))
        cells.append(nbformat.v4.new_code_cell(answer_source(q), id=f"quiz-{q['id']}-answer"))
        proof = nbformat.v4.new_code_cell(proof_source(q), id=f"quiz-{q['id']}-proof")
        proof.metadata.update({k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in PROOF_METADATA.items()})
        cells.append(proof)
    return cells


def section_bounds(nb):
    """(start, end) of the 確認テスト section: the heading's index and the "## Summary" cell's."""
    start = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and HEADING in c.source), None)
    if start is None:
        raise ValueError(f"no '{HEADING}' heading")
    end = next(
        (i for i in range(start + 1, len(nb.cells)) if nb.cells[i].source.lstrip().startswith("## Summary")), None
    )
    if end is None:
        raise ValueError("no '## Summary' after the 確認テスト")
    return start, end


def _same(a, b):
    return a.cell_type == b.cell_type and a.source == b.source and a.metadata == b.metadata


def with_section(nb, unit, found):
    """A copy of the notebook with its section replaced; cells that did not change keep their outputs."""
    new = nbformat.from_dict(nb)
    start, end = section_bounds(new)
    old = {c.get("id"): c for c in new.cells[start:end]}
    cells = []
    for cell in section_cells(unit, found):
        before = old.get(cell.id)
        cells.append(before if before is not None and _same(before, cell) else cell)
    new.cells[start:end] = cells
    return new


def section_differences(nb, unit, found):
    """Where the notebook's section differs from what the generator makes (empty when equal)."""
    start, end = section_bounds(nb)
    have, want = nb.cells[start:end], section_cells(unit, found)
    problems = []
    if len(have) != len(want):
        problems.append(f"{len(have)} cells in the section, the generator makes {len(want)}")
    for a, b in zip(have, want, strict=False):
        if not _same(a, b) or a.get("id") != b.id:
            problems.append(f"cell {b.id} differs")
    return problems


def bank_unit_markdown(found):
    """One unit's questions, then its answers and 解説 (folded), for docs/kakunin_test_bank.md."""
    lines = []
    for q in found:
        lines += ["", question_markdown(q)]
    lines += ["", "<details><summary>解答と解説（answers and explanations）</summary>"]
    for q in found:
        lines += ["", explanation_markdown(q)]
    lines += ["", "</details>"]
    return lines


def kind_counts(found):
    return {kind: sum(q["kind"] == kind for q in found) for kind in KINDS}


__all__ = ["LETTERS", "bank_unit_markdown", "choice_text", "kind_counts", "section_cells", "with_section"]
