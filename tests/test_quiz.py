"""The 確認テスト as data: every questions file follows the format, every answer is proven by code
(and a wrong recorded answer fails its proof), each unit has the exam's mix, and the notebooks,
the bank and the drill all show what the files say."""

import re
import tomllib
import unicodedata

import nbformat
import pytest

from cnn_course.quiz import answer, documents, drill, fill, loader, prove, run_blank
from cnn_course.quiz.drill import make_paper, shown_answer
from cnn_course.quiz.render import relabel
from tests.conftest import load_tool
from tests.test_glossary import glossary

FILES = loader.unit_files()
QUESTIONS = [q for path in FILES for q in loader.load(path)]
MINIMUMS = {"questions": 8, "code": 2, "incorrect": 1, "calculation": 2}
UNITS = 11
TOTAL = 88
LETTERS = "abcd"


def by_id(qid):
    return next(q for q in QUESTIONS if q["id"] == qid)


# -- the files ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_questions_file_follows_the_format(root, path):
    found = loader.load(path)  # raises QuizFormatError naming the file, question and field
    assert (root / "notebooks" / f"{path.stem}.ipynb").exists(), f"{path.name} is named like no walkthrough"
    for q in found:
        for field in ("explanation_ja", "explanation_en"):
            lines = q[field].strip().splitlines()
            assert 2 <= len(lines) <= 5, f"{q['id']}: the {field} has {len(lines)} lines; 2-5 say why each choice is"
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", q["ja"]), f"{q['id']}: 'ja' has no Japanese"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_topics_are_glossary_terms(root, path):
    """A topic is `日本語（English）` with the Japanese term of docs/glossary.md (the drill's revisit list);
    a term whose Japanese is its English name (Depthwise Convolution) is written once."""
    rows = glossary(root)
    japanese = {ja for _, ja, _ in rows}
    same = {ja for names, ja, _ in rows if ja.lower() in {n.lower() for n in names}}
    for q in loader.load(path):
        term = q["topic"].split("（")[0]
        paired = re.fullmatch(r"[^（]+（[^）]+）", q["topic"])
        assert term in japanese and (paired or q["topic"] in same), (
            f"{q['id']}: topic {q['topic']!r} should be a glossary term written 日本語（English）"
        )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_unit_has_the_exams_mix(path):
    """At least 8 questions, 2 code items, 1 誤っているものを選べ item and 2 calculation items per unit."""
    found = loader.load(path)
    counts = {"questions": len(found), **documents.kind_counts(found)}
    lacking = [f"{counts[k]} {k} (needs ≥ {m})" for k, m in MINIMUMS.items() if counts[k] < m]
    assert not lacking, f"{path.stem} lacks: " + ", ".join(lacking)


@pytest.mark.parametrize("name", sorted(p.stem for p in (loader.FOLDER.parents[2] / "notebooks").glob("*.ipynb")))
def test_every_walkthrough_has_a_questions_file(root, name):
    if loader.unit_file(name) is not None:
        return
    older = load_tool("quiz_bank").questions(root / "notebooks" / f"{name}.ipynb")
    if older:
        pytest.skip(f"{name}: no questions file yet; its notebook keeps its {len(older)} older questions (#16)")
    pytest.fail(f"{name} has neither cnn_course/quiz/questions/{name}.toml nor older questions")


def test_the_course_has_enough_questions():
    missing = UNITS - len(FILES)
    if missing:
        pytest.skip(f"{missing} units have no questions file yet; {len(QUESTIONS)} questions so far")
    assert len(QUESTIONS) >= TOTAL, f"{len(QUESTIONS)} questions; the issue asks for at least {TOTAL}"


def _squash(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.mark.parametrize(
    ("unit", "phrases"),
    [
        ("08", ["チャネル毎に空間方向へ畳み込む", "チャネル方向に畳み込む"]),  # the seed's P86
        ("11", ["結合確率を効率的に学習", "パラメータ数に対する受容野が広い"]),  # the seed's P106
    ],
)
def test_the_seeds_questions_keep_their_wording(unit, phrases):
    path = loader.unit_file(unit)
    if path is None:
        pytest.skip(f"unit {unit} has no questions file yet")
    texts = [_squash(q["ja"] + " ".join(c["ja"] for c in q["choices"])) for q in loader.load(path)]
    for phrase in phrases:
        assert any(_squash(phrase) in t for t in texts), f"unit {unit}: no question has the seed's {phrase!r}"


def test_the_questions_ship_with_the_package(root):
    setuptools = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "cnn_course.quiz" in setuptools["packages"]
    assert "questions/*.toml" in setuptools["package-data"]["cnn_course.quiz"]


# -- the proofs --------------------------------------------------------------------------------
@pytest.mark.parametrize("qid", [q["id"] for q in QUESTIONS])
def test_the_proof_proves_the_recorded_answer(qid, capsys):
    prove(by_id(qid))
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith(f"{qid}: ({by_id(qid)['answer']})"), printed


@pytest.mark.parametrize("qid", [q["id"] for q in QUESTIONS])
def test_a_wrong_recorded_answer_fails_the_proof(qid, capsys):
    q = by_id(qid)
    for letter in LETTERS:
        if letter != q["answer"]:
            with pytest.raises(AssertionError):
                prove({**q, "answer": letter})
    capsys.readouterr()


# -- one source: notebooks, bank, drill --------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_notebooks_section_is_what_the_generator_makes(root, path):
    nb = nbformat.read(root / "notebooks" / f"{path.stem}.ipynb", as_version=4)
    problems = documents.section_differences(nb, path.name[:2], loader.load(path))
    assert not problems, f"notebooks/{path.stem}.ipynb: {problems[:3]}: run `make quiz-bank`, then `make notebooks`"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_nothing_shows_an_answer_before_a_choice(root, path):
    """Proof cells are collapsed (source and output); the answer cells ran without a choice; no 解説 shows."""
    nb = nbformat.read(root / "notebooks" / f"{path.stem}.ipynb", as_version=4)
    start, end = documents.section_bounds(nb)
    found = loader.load(path)
    shown = []
    for cell in nb.cells[start:end]:
        if "quiz-proof" in cell.metadata.get("tags", []):
            assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
            continue
        shown.append(cell.source)
        for output in cell.get("outputs", []):
            shown.append(output.get("text", "") + str(output.get("data", {})))
            if cell.source.startswith("answer("):
                assert "a, b, c, d のどれかを" in output.get("text", ""), "the answer cell must run without a choice"
    text = "\n".join(shown)
    for q in found:
        for field in ("explanation_ja", "explanation_en"):
            assert q[field].strip().splitlines()[0] not in text, f"{q['id']}'s 解説 is visible before a choice"
        assert f'answer("{q["id"]}", "")' in text


def test_the_bank_is_what_the_generator_makes(root):
    tool = load_tool("quiz_bank")
    walkthroughs = sorted((root / "notebooks").glob("*.ipynb"))
    committed = (root / "docs" / "kakunin_test_bank.md").read_text(encoding="utf-8")
    assert committed == tool.bank_text(walkthroughs), "run `make quiz-bank` and commit docs/kakunin_test_bank.md"


def test_the_bank_shows_every_question_with_its_answer_and_explanation(root):
    bank = (root / "docs" / "kakunin_test_bank.md").read_text(encoding="utf-8")
    for q in QUESTIONS:
        for text in (q["ja"], q["en"], q["explanation_ja"], q["explanation_en"]):
            assert text.strip().splitlines()[0] in bank, q["id"]
        assert f"**{q['id']} 正解（answer）: ({q['answer']})**" in bank
        position = bank.index(f"**{q['id']}** ")
        assert position < bank.index(f"**{q['id']} 正解（answer）"), "answers come after the unit's questions"


def test_the_drill_asks_the_files_questions():
    paper = make_paper(None, n=len(QUESTIONS), seed=1)
    assert sorted(q["id"] for q, _ in paper) == sorted(q["id"] for q in QUESTIONS)
    for q, _ in paper:
        assert q == by_id(q["id"])


# -- the loader's errors -----------------------------------------------------------------------
GOOD = """
[[question]]
id = "01-1"
kind = "calculation"
topic = "ストライド（stride）"
ja = "問い"
en = "question"
choices = [{ ja = "1", en = "1" }, { ja = "2", en = "2" }, { ja = "3", en = "3" }, { ja = "4", en = "4" }]
answer = "b"
explanation_ja = "解説"
explanation_en = "explanation"
proof = "assert q['answer'] == 'b'"
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('answer = "b"', 'answer = "e"'), "answer 'e' must be one of a, b, c, d"),
        (lambda t: t.replace(', { ja = "4", en = "4" }', ""), "'choices' needs exactly 4 entries"),
        (lambda t: t.replace('id = "01-1"', 'id = "02-1"'), "the id must be '01-<number>'"),
        (lambda t: t.replace('kind = "calculation"', 'kind = "essay"'), "kind 'essay' is not one of"),
        (lambda t: t.replace('kind = "calculation"', 'kind = "code"'), "needs a 'snippet' with the blank （あ）"),
        (lambda t: t.replace('ja = "問い"', 'ja = ""'), "'ja' must be a non-empty string"),
        (lambda t: t.replace('en = "question"', 'en = "question"\nhint = "x"'), "unknown field(s) ['hint']"),
        (lambda t: t.replace('{ ja = "2", en = "2" }', '{ ja = "1", en = "1" }'), "two choices are the same"),
        (lambda t: t.replace("proof = \"assert q['answer'] == 'b'\"", 'proof = "assert ("'), "does not compile"),
        (lambda t: t + t, "the id is used twice"),
        (lambda t: t.replace("[[question]]", "[question"), "not valid TOML"),
    ],
)
def test_a_broken_file_is_refused_with_a_clear_message(tmp_path, change, message):
    (tmp_path / "01_convolution.toml").write_text(GOOD, encoding="utf-8")
    assert loader.load(tmp_path / "01_convolution.toml")[0]["answer"] == "b"
    broken = tmp_path / "01_broken.toml"
    broken.write_text(change(GOOD), encoding="utf-8")
    with pytest.raises(loader.QuizFormatError) as info:
        loader.load(broken)
    assert message in str(info.value) and str(info.value).startswith("01_broken.toml")


# -- code items: fill and run_blank ------------------------------------------------------------
SNIPPET = "total = 0\nfor i in range(3):\n    （あ）\nprint(total)\n"


def test_fill_keeps_the_blanks_indentation():
    assert fill(SNIPPET, "total += i") == "total = 0\nfor i in range(3):\n    total += i\nprint(total)\n"
    with pytest.raises(ValueError, match="exactly one line"):
        fill("x = 1\n", "y = 2")


def test_run_blank_returns_the_namespace_or_the_exception(capsys):
    assert run_blank(SNIPPET, "total += i")["total"] == 3
    assert isinstance(run_blank(SNIPPET, "total += j"), NameError)
    assert isinstance(run_blank(SNIPPET, "total +="), SyntaxError)
    assert capsys.readouterr().out == "", "what the snippet prints is not shown"


# -- the learner's answer() --------------------------------------------------------------------
def test_answer_shows_nothing_before_a_choice(capsys):
    q = QUESTIONS[0]
    answer(q["id"], "")
    out = capsys.readouterr().out
    assert "a, b, c, d のどれかを" in out and q["explanation_ja"].splitlines()[0] not in out


def test_answer_says_right_or_wrong_then_explains(capsys):
    q = QUESTIONS[0]
    wrong = next(letter for letter in LETTERS if letter != q["answer"])
    assert answer(q["id"], q["answer"].upper()) is None, "no result line under the cell"
    out = capsys.readouterr().out
    assert "✓ 正解" in out and q["explanation_ja"].splitlines()[0] in out and q["explanation_en"].splitlines()[0] in out
    answer(q["id"], f"({wrong})")
    out = capsys.readouterr().out
    assert "✗ 不正解" in out and f"({q['answer']})" in out and q["explanation_ja"].splitlines()[0] in out
    answer(q["id"], "e")
    assert "not a choice" in capsys.readouterr().out


# -- the drill ---------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_drill():
    first, again, other = (make_paper(None, 10, seed) for seed in (3, 3, 4))
    assert [(q["id"], order) for q, order in first] == [(q["id"], order) for q, order in again]
    assert [(q["id"], order) for q, order in first] != [(q["id"], order) for q, order in other]
    assert any(order != [0, 1, 2, 3] for _, order in first), "the choices are shuffled"


def test_the_drill_scores_a_sheet_and_lists_the_topics_to_revisit(capsys):
    paper = make_paper(None, 6, seed=5)
    right = [shown_answer(q, order) for q, order in paper]
    perfect = drill(n=6, seed=5, answers=right)
    assert perfect.score == 6 and perfect.revisit == []
    assert "全問正解" in capsys.readouterr().out
    sheet = ["-"] + right[1:3] + [next(x for x in LETTERS if x != right[3])] + right[4:]
    result = drill(n=6, seed=5, answers=sheet)
    out = capsys.readouterr().out
    assert result.score == 4 and result.revisit == list(dict.fromkeys([paper[0][0]["topic"], paper[3][0]["topic"]]))
    assert "得点（score）: 4/6" in out and "復習するトピック" in out and paper[0][0]["topic"] in out
    with pytest.raises(ValueError, match="5 answers for 6 questions"):
        drill(n=6, seed=5, answers="abcda")


def test_the_drill_asks_against_the_clock(capsys):
    paper = make_paper([1], 4, seed=2)
    right = [shown_answer(q, order) for q, order in paper]
    now = [0.0]

    def clock():
        return now[0]

    def ask(prompt):
        assert "残り（left）" in prompt
        now[0] += 100.0  # 100 s per answer: the third answer comes after 4 × 72 = 288 s
        return right[int(now[0] // 100) - 1]

    result = drill(units=[1], n=4, seed=2, ask=ask, clock=clock)
    out = capsys.readouterr().out
    assert result.timed_out and result.score == 2 and result.given[2:] == [None, None]
    assert "時間切れ" in out and "得点（score）: 2/4" in out


def test_the_drill_prints_the_questions_where_nothing_can_be_typed(capsys):
    def no_input(prompt):
        raise EOFError

    result = drill(units=[2], n=3, seed=1, ask=no_input)
    out = capsys.readouterr().out
    assert result.seconds is None and result.right == []
    assert out.count("[1/3]") == out.count("[3/3]") == 1 and 'answers="???"' in out and "得点" not in out


def test_the_drill_says_which_units_have_no_questions(capsys):
    drill(units=[1, 99], n=2, seed=0, answers="ab")
    assert "no questions yet for unit 99" in capsys.readouterr().out


def test_a_missed_questions_explanation_names_the_letters_as_shown():
    assert relabel("(a) x; (b)(d) y", [1, 0, 3, 2]) == "(b) x; (a)(c) y"


def test_the_terminal_drill(capsys):
    from cnn_course.quiz.__main__ import main

    main(["1", "-n", "2", "--seed", "4", "--answers", "ab"])
    assert "seed=4" in capsys.readouterr().out


# -- the generator -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_regenerating_a_section_changes_nothing_and_keeps_its_outputs(root, path):
    nb = nbformat.read(root / "notebooks" / f"{path.stem}.ipynb", as_version=4)
    again = documents.with_section(nb, path.name[:2], loader.load(path))
    assert nbformat.writes(again) == nbformat.writes(nb)


def test_a_changed_question_loses_only_its_own_outputs(root):
    path = FILES[0]
    nb = nbformat.read(root / "notebooks" / f"{path.stem}.ipynb", as_version=4)
    found = loader.load(path)
    found[0]["proof"] += "\nassert True"
    new = documents.with_section(nb, path.name[:2], found)
    unrun = [c.id for c in new.cells if c.cell_type == "code" and c.execution_count is None]
    assert unrun == [f"quiz-{found[0]['id']}-proof"]


def test_a_unit_without_a_questions_file_keeps_its_section(root, tmp_path):
    tool = load_tool("quiz_bank")
    notebooks = [root / "notebooks" / f"{path.stem}.ipynb" for path in FILES[:1]]
    copy = tmp_path / notebooks[0].name
    copy.write_bytes(notebooks[0].read_bytes())
    empty = tmp_path / "questions"
    empty.mkdir()
    assert tool.write_sections([copy], folder=empty) == []
    assert copy.read_bytes() == notebooks[0].read_bytes()
