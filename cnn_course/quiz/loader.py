"""The 確認テスト questions: one TOML file per unit, read and validated.

    cnn_course/quiz/questions/05_vgg.toml      (named like notebooks/05_vgg.ipynb)

Each file is a list of ``[[question]]`` tables (docs/instructors.md shows one). A file that
breaks the format raises ``QuizFormatError`` naming the file, the question and the field.
"""

import re
import tomllib
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "questions"
LETTERS = "abcd"
BLANK = "（あ）"
KINDS = {
    "calculation": ("計算問題", "calculation"),
    "code": ("コード穴埋め問題", "code"),
    "incorrect": ("誤っているものを選べ", "choose the incorrect statement"),
    "correct": ("正しいものを選べ", "choose the correct statement"),
    "concept": ("知識問題", "concept"),
}
TEXT_FIELDS = ("id", "kind", "topic", "ja", "en", "answer", "explanation_ja", "explanation_en", "proof")
OPTIONAL_FIELDS = ("snippet",)
UNIT_FILE = re.compile(r"^(\d\d)_\w+\.toml$")


class QuizFormatError(ValueError):
    """A questions file that does not follow the format."""


def _fail(path, where, message):
    raise QuizFormatError(f"{Path(path).name}{f', question {where}' if where else ''}: {message}")


def validate(raw, path):
    """The questions of one parsed file, checked; raises QuizFormatError with the first problem found."""
    match = UNIT_FILE.match(Path(path).name)
    if not match:
        _fail(path, None, "the file name must look like NN_unit.toml, named like its notebook (05_vgg.toml)")
    unit = match.group(1)
    extra = set(raw) - {"question"}
    if extra:
        _fail(path, None, f"unknown top-level key(s) {sorted(extra)}; questions are [[question]] tables")
    found = raw.get("question")
    if not isinstance(found, list) or not found:
        _fail(path, None, "no [[question]] tables")
    seen = set()
    for number, q in enumerate(found, 1):
        where = q.get("id", f"#{number}") if isinstance(q, dict) else f"#{number}"
        unknown = set(q) - set(TEXT_FIELDS) - set(OPTIONAL_FIELDS) - {"choices"}
        if unknown:
            _fail(path, where, f"unknown field(s) {sorted(unknown)}")
        for field in TEXT_FIELDS:
            if not isinstance(q.get(field), str) or not q[field].strip():
                _fail(path, where, f"'{field}' must be a non-empty string")
        if not re.fullmatch(rf"{unit}-\d+", q["id"]):
            _fail(path, where, f"the id must be '{unit}-<number>' (the unit's number, then the question's)")
        if q["id"] in seen:
            _fail(path, where, "the id is used twice")
        seen.add(q["id"])
        if q["kind"] not in KINDS:
            _fail(path, where, f"kind {q['kind']!r} is not one of {', '.join(KINDS)}")
        if q["answer"] not in LETTERS:
            _fail(path, where, f"answer {q['answer']!r} must be one of a, b, c, d")
        choices = q.get("choices")
        if not isinstance(choices, list) or len(choices) != 4:
            _fail(path, where, f"'choices' needs exactly 4 entries (a-d), found {len(choices or [])}")
        for letter, choice in zip(LETTERS, choices, strict=True):
            if not isinstance(choice, dict) or set(choice) != {"ja", "en"}:
                _fail(path, where, f"choice ({letter}) must be {{ ja = ..., en = ... }}")
            if not all(isinstance(v, str) and v.strip() for v in choice.values()):
                _fail(path, where, f"choice ({letter}) has an empty text")
        if len({c["ja"] for c in choices}) != 4 or len({c["en"] for c in choices}) != 4:
            _fail(path, where, "two choices are the same")
        if q["kind"] == "code":
            snippet = q.get("snippet")
            if not isinstance(snippet, str) or sum(BLANK in line for line in snippet.splitlines()) != 1:
                _fail(path, where, f"a code item needs a 'snippet' with the blank {BLANK} on exactly one line")
            if any(c["ja"] != c["en"] for c in choices):
                _fail(path, where, "a code item's choices are lines of code: ja and en must be the same")
        elif "snippet" in q:
            _fail(path, where, "'snippet' is only for kind = \"code\"")
        try:
            compile(q["proof"], f"<proof {q['id']}>", "exec")
        except SyntaxError as error:
            _fail(path, where, f"the proof does not compile: {error}")
    return found


@cache
def _read(path):
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        _fail(path, None, f"not valid TOML: {error}")
    return tuple(validate(raw, path))


def unit_files(folder=FOLDER):
    """The questions files, in unit order."""
    return sorted(p for p in Path(folder).glob("*.toml") if UNIT_FILE.match(p.name))


def unit_file(unit, folder=FOLDER):
    """The questions file of a unit (5, "05" or "05_vgg"), or None when it has none."""
    prefix = f"{int(str(unit)[:2]):02d}_"
    return next((p for p in unit_files(folder) if p.name.startswith(prefix)), None)


def load(path):
    """The questions of one file, as a list of dicts (a copy: changing it changes nothing else)."""
    return [_copy(q) for q in _read(str(path))]


def _copy(q):
    return {**q, "choices": [dict(c) for c in q["choices"]]}


def questions(units=None, folder=FOLDER):
    """Every question of the given units (numbers; all units when None), in file order."""
    wanted = None if units is None else {int(u) for u in units}
    found = []
    for path in unit_files(folder):
        if wanted is None or int(path.name[:2]) in wanted:
            found += load(path)
    return found


def question(qid, folder=FOLDER):
    """One question by its id ("05-3")."""
    path = unit_file(qid.split("-")[0], folder)
    for q in load(path) if path else []:
        if q["id"] == qid:
            return q
    raise KeyError(f"no question {qid!r}" + ("" if path else f": no questions file for unit {qid.split('-')[0]}"))
