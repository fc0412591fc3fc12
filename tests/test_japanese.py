"""The Japanese edition: ja/ is what `make ja` writes, every catalog is complete and current,
translations keep what they must, and the checks speak Japanese."""

import ast
import re
from pathlib import Path

import pytest

from cnn_course import translation

PACKAGE = Path(__file__).resolve().parent.parent / "cnn_course"
MARKERS = {"_", "N_", "ngettext"}
UNTRANSLATED = "# not a message"


def english_literals(path):
    """(line, text) of the module's string literals that read as English sentences outside _(), N_(), ngettext().

    Docstrings (of modules, functions, classes and attributes), and lines marked ``# not a message``
    (a pattern, a layer name), are left out.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in MARKERS:
            inside.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # a docstring
            inside.add(id(node.value))
    found = []
    for node in ast.walk(tree):
        if id(node) in inside:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            inside.update(id(v) for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if len(re.findall(r"[A-Za-z]{2,}", text)) >= 2 and " " in text.strip():
            if UNTRANSLATED not in lines[node.lineno - 1]:
                found.append((node.lineno, text))
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "checks").glob("*.py")), ids=lambda p: p.name)
def test_every_check_message_goes_through_the_catalogs(path):
    found = english_literals(path)
    assert not found, f"{path.name}: English messages outside _(): " + "; ".join(
        f"line {line}: {text[:60]!r}" for line, text in found[:10]
    )


# -- the edition is what `make ja` writes, from complete and current catalogs ----------------
ROOT = PACKAGE.parent
ENGLISH = [(folder, path) for folder in translation.FOLDERS for path in sorted((ROOT / folder).glob("*.ipynb"))]


@pytest.fixture(scope="module")
def make_ja():
    from tests.conftest import load_tool

    return load_tool("make_ja")


def catalog_of(folder, path):
    return translation.read_catalog(translation.catalog_path(ROOT, folder, path.name))


@pytest.mark.parametrize(("folder", "path"), ENGLISH, ids=lambda x: getattr(x, "name", x))
def test_the_japanese_notebook_is_what_make_ja_writes(folder, path):
    import nbformat

    english = nbformat.read(path, as_version=4)
    known = translation.translations(catalog_of(folder, path))
    ja, _missing = translation.translate_notebook(english, known, f"{folder}/{path.name}")
    committed = ROOT / translation.LANG / folder / path.name
    assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: run `make ja`"
    assert committed.read_text(encoding="utf-8") == translation.notebook_text(ja), (
        f"{committed.relative_to(ROOT)} is not what `make ja` writes from {folder}/{path.name} and its catalog:"
        " run `make ja` (never edit ja/ by hand)"
    )
    english_code = [c.source for c in english.cells if c.cell_type == "code"]
    ja_code = [c.source for c in ja.cells if c.cell_type == "code"]
    changed = [(e, j) for e, j in zip(english_code, ja_code, strict=True) if e != j]
    assert len(changed) == 1 and translation.with_language(changed[0][0]) == changed[0][1], (
        "only the setup call changes in the code (lang='ja')"
    )


def test_the_japanese_exercises_are_made_from_the_japanese_solutions():
    import nbformat

    from cnn_course.authoring import make_exercise

    for solution in sorted((ROOT / "ja" / "solutions").glob("*.ipynb")):
        exercise = make_exercise(nbformat.read(solution, as_version=4), f"ja/solutions/{solution.name}")
        committed = ROOT / "ja" / "exercises" / solution.name
        assert committed.read_text(encoding="utf-8") == nbformat.writes(exercise) + "\n", (
            f"ja/exercises/{solution.name} is not what `make ja` makes from ja/solutions/{solution.name}"
        )
        assert "/ja/exercises/" in exercise.cells[0].source, "the Colab badge opens the Japanese exercise"
    walkthrough = (ROOT / "ja" / "notebooks" / "05_vgg.ipynb").read_text(encoding="utf-8")
    assert "`ja/exercises/05_vgg.ipynb`" in walkthrough and "`exercises/05_vgg.ipynb`" not in walkthrough


def test_the_japanese_readme_is_what_make_ja_writes(make_ja):
    po = translation.read_catalog(make_ja.README_CATALOG)
    text, missing = translation.translate_readme(make_ja._readme(), translation.translations(po))
    assert (ROOT / "README.ja.md").read_text(encoding="utf-8") == text, "README.ja.md: run `make ja`"
    assert not missing
    assert text.startswith("# ") and translation.ENGLISH_LINE in text
    assert "](ja/notebooks/01_convolution.ipynb)" in text
    assert translation.LANGUAGE_LINE in (ROOT / "README.md").read_text(encoding="utf-8").split("\n\n")[1], (
        "the README's first lines link to README.ja.md"
    )


def test_every_message_has_a_current_translation(make_ja):
    """An English text changed since its translation was made has no entry (or a fuzzy one): listed here."""
    problems = []
    for target, messages in make_ja.wanted_messages().items():
        po = translation.read_catalog(target)
        current = translation.translations(po)
        fuzzy = {e.msgid for e in po if e.fuzzy}
        for msgid, [(source, place), *_], _plural in messages:
            if msgid not in current:
                state = "fuzzy" if msgid in fuzzy else "missing"
                problems.append(f"{target.relative_to(ROOT)}: {state} for {source} cell/line {place}: {msgid[:60]!r}")
    assert not problems, f"{len(problems)} messages need a translator (`make ja` lists them):\n" + "\n".join(
        problems[:40]
    )


def test_the_catalogs_hold_only_what_the_english_asks(make_ja):
    catalogs = make_ja.wanted_messages()
    on_disk = set((ROOT / "locale").rglob("*.po")) | set((PACKAGE / "locale").rglob("*.po"))
    assert on_disk == set(catalogs), "a catalog without an English source, or a source without a catalog: run `make ja`"
    for target, messages in catalogs.items():
        extra = {e.msgid for e in translation.read_catalog(target)} - {msgid for msgid, *_ in messages}
        assert not extra, f"{target.relative_to(ROOT)} keeps entries no English has: run `make ja`"


def test_translations_keep_code_numbers_links_and_the_glossarys_terms():
    glossary = translation.glossary_pairs(ROOT)
    found = []
    for target in sorted((ROOT / "locale").rglob("*.po")) + sorted((PACKAGE / "locale").rglob("*.po")):
        for entry, problems in translation.catalog_problems(translation.read_catalog(target), glossary):
            found.append(f"{target.relative_to(ROOT)} {entry.occurrences[:1]}: {entry.msgid[:50]!r}: {problems}")
    assert not found, "\n".join(found[:30])


# -- the checks speak Japanese ------------------------------------------------------------
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("path", sorted((ROOT / "ja" / "exercises").glob("*.ipynb")), ids=lambda p: p.name)
def test_the_japanese_exercises_checks_fail_in_japanese_on_the_stubs(path):
    """Run the unfilled Japanese exercise as a learner would: every check cell fails, in Japanese."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    from cnn_course import i18n
    from cnn_course.authoring import is_check_cell
    from cnn_course.checks import CheckFailed, explain_undefined_name

    to_python = TransformerManager().transform_cell
    namespace = {"__name__": "__exercise__"}
    messages = []
    with i18n.using("en"):  # the exercise's setup(lang="ja") selects Japanese; English again afterwards
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(to_python(cell.source), path.name, "exec"), namespace)
            except CheckFailed as failure:
                messages.append(("CheckFailed", str(failure)))
            except NameError as error:
                if not is_check_cell(cell):
                    continue
                messages.append(("NameError", explain_undefined_name(cell.source, error.name)))
            except Exception as error:  # a stub's NotImplementedError, or a cell that needs an answer
                assert not is_check_cell(cell), f"{path.name}: {cell.source!r} raised {error!r}, not CheckFailed"
            else:
                assert not is_check_cell(cell), f"{path.name}: {cell.source!r} passed on the stub"
        assert i18n.language() == "ja", "the Japanese exercise's setup cell selects Japanese"
    assert len(messages) == sum(is_check_cell(c) for c in nbformat.read(path, as_version=4).cells)
    for kind, message in messages:
        first = message.splitlines()[0]
        assert kind == "NameError" or first.startswith("課題 "), message
        said = first.split(" — ", 1)[-1] + "\n".join(message.splitlines()[1:])
        assert JAPANESE.search(said), f"{path.name}: an English failure message:\n{message}"


def test_a_solutions_passed_lines_read_as_the_japanese_checks_print_them():
    from cnn_course import i18n
    from cnn_course.checks import Task

    for passed in (1, 7):
        task = Task(2, "dense_block")
        task.passed = passed
        english = task.passed_line()
        with i18n.using("ja"):
            japanese = task.passed_line()
        assert translation.translate_passed_lines(f"x\n{english}\n") == f"x\n{japanese}\n"
        assert japanese.startswith("✓ 課題 2 · dense_block") and str(passed) in japanese
    drill = "✓ Task 6 · exam drill: 6 checks passed"
    with i18n.using("ja"):
        task = Task(6, i18n._("exam drill"))  # as check.drill names it
        task.passed = 6
        assert (
            translation.translate_passed_lines(drill)
            == task.passed_line()
            == "✓ 課題 6 · 計算問題: 6 件のチェックに合格"
        )


# -- the learner's copies in Japanese -------------------------------------------------------
def exercises_in(folder, text):
    folder.mkdir(parents=True)
    for name in ("01_convolution.ipynb", "02_cnn_in_practice.ipynb"):
        (folder / name).write_text(f"{text} {name}", encoding="utf-8")
    return folder


def test_make_lab_course_lang_ja_copies_the_japanese_exercises(tmp_path):
    from tests.conftest import load_tool

    learner = load_tool("learner")
    japanese = exercises_in(tmp_path / "ja" / "exercises", "課題")
    work = tmp_path / "work"
    assert learner.sync_copies(japanese, work, lang="ja") == [
        f"new exercise copy: {work / '01_convolution.ipynb'}",
        f"new exercise copy: {work / '02_cnn_in_practice.ipynb'}",
    ]
    assert (work / "01_convolution.ipynb").read_text(encoding="utf-8").startswith("課題")
    assert learner.languages(work) == ["ja"]


def test_the_other_languages_copy_comes_beside_the_learners_own(tmp_path):
    from tests.conftest import load_tool

    learner = load_tool("learner")
    english = exercises_in(tmp_path / "exercises", "Task")
    japanese = exercises_in(tmp_path / "ja" / "exercises", "課題")
    work = tmp_path / "work"
    learner.sync_copies(english, work)
    (work / "01_convolution.ipynb").write_text("my answers", encoding="utf-8")
    lines = learner.sync_copies(japanese, work, lang="ja")
    beside = f"(beside your en copy {work / '01_convolution.ipynb'})"
    assert lines[0] == f"new exercise copy: {work / '01_convolution.ja.ipynb'} {beside}"
    assert (work / "01_convolution.ipynb").read_text(encoding="utf-8") == "my answers"
    assert (work / "01_convolution.ja.ipynb").read_text(encoding="utf-8").startswith("課題")
    assert learner.languages(work) == ["en", "ja"]
    assert learner.sync_copies(japanese, work, lang="ja") == [], "a second run changes nothing"


def test_an_unknown_course_lang_is_refused_in_one_sentence(tmp_path, capsys):
    from tests.conftest import load_tool

    assert load_tool("learner").main(["--work", str(tmp_path / "work"), "copies", "--lang", "fr"]) == 1
    assert (
        capsys.readouterr().err.strip() == "make lab: COURSE_LANG=fr: the course comes in en (English) and ja (日本語)"
    )


def test_a_message_has_one_translation_in_all_the_packages_catalogs():
    """The catalogs are merged at run time (cnn_course.i18n.catalog): the same English must read the same."""
    seen = {}
    for target in sorted((PACKAGE / "locale").rglob("*.po")):
        for entry in translation.read_catalog(target):
            text = translation.entry_text(entry)
            first = seen.setdefault(entry.msgid, (target.name, text))
            assert first[1] == text, f"{entry.msgid!r}: {first[0]} says {first[1]!r}, {target.name} says {text!r}"
