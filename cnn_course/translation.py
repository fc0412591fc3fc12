"""The Japanese edition (``ja/``): the English notebooks with their text from gettext catalogs.

English is the source language. Each markdown cell is cut into blocks at its blank lines
(a paragraph, a heading, a list, a table; a fenced code block or ``$$`` math stays whole);
a block with English prose is a message of its notebook's catalog, and its translation takes
its place. The 確認テスト cells, Japanese already, are copied as they are. One catalog per notebook, in
gettext's ``.po`` format (read and written with polib), so that translators' tools work on it:

    locale/ja/notebooks/05_vgg.po     the walkthrough
    locale/ja/solutions/05_vgg.po     the solution, and the exercise made from it

Code cells, outputs and metadata are copied unchanged, but for what must follow the language:
the setup cell passes ``lang="ja"`` (the checks then speak Japanese), and a solution's stored
"✓ Task 1 · …: 3 checks passed" lines read as the Japanese checks print them. In the text, the
Colab badge and the notebooks' paths (`` `exercises/05_vgg.ipynb` ``) point into ``ja/``, and
links to ``../docs/`` gain a ``../``.

The messages of the helper package (``_()`` in cnn_course) have catalogs of their own, one per
module, in ``cnn_course/locale/ja/`` (they ship with the package). ``make ja`` (tools/make_ja.py)
updates every catalog from the English source, then writes ``ja/``. A message whose English has
changed is new to its catalog: its old translation comes back marked fuzzy, with the old English
beside it (gettext's ``#| msgid``), until a translator updates it and removes the mark.
"""

import copy
import dataclasses
import difflib
import re
from pathlib import Path

import nbformat

LANG = "ja"
FOLDERS = ("notebooks", "solutions")
"""The English folders translated through catalogs; ja/exercises/ is made from ja/solutions/."""

HEADER = {
    "Project-Id-Version": "cnn-course",
    "Language": LANG,
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Plural-Forms": "nplurals=1; plural=0;",
}

_FENCE = re.compile(r"^\s*(```|~~~)")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_NOT_PROSE = [
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),  # an image
    re.compile(r"\]\([^)]*\)"),  # a link's target
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\$[^$]*\$"),  # inline math
    re.compile(r"<[^>]*>"),  # an HTML tag
    re.compile(r"https?://\S+"),
    re.compile(r"（[^）]*）"),  # a Japanese name beside an English term
]


# -- blocks -----------------------------------------------------------------------------------
def split_blocks(text):
    """The text as a list of blocks and blank lines ("") whose ``"\\n".join`` is the text again."""
    parts, block, closing = [], [], None
    for line in text.split("\n"):
        if closing is not None:
            block.append(line)
            if closing(line):
                closing = None
            continue
        if not line.strip():
            if block:
                parts.append("\n".join(block))
                block = []
            parts.append("")
            continue
        block.append(line)
        if fence := _FENCE.match(line):
            mark = fence.group(1)
            closing = lambda s, mark=mark: s.strip().startswith(mark)  # noqa: E731
        elif line.strip().startswith("$$") and not (line.strip().endswith("$$") and len(line.strip()) > 2):
            closing = lambda s: "$$" in s  # noqa: E731
    if block:
        parts.append("\n".join(block))
    return parts


def is_translatable(block):
    """True for a block of English prose; False for code, math, an image, a badge or Japanese text.

    English prose may quote the notes' Japanese; a block counts as Japanese (a 確認テスト question)
    when it has more than three Japanese characters per English word.
    """
    stripped = block.strip()
    if not stripped or _FENCE.match(stripped) or stripped.startswith("$$"):
        return False
    prose = stripped
    for pattern in _NOT_PROSE:
        prose = pattern.sub(" ", prose)
    words = re.findall(r"[A-Za-z]{2,}", prose)
    return bool(words) and 3 * len(words) >= len(_JAPANESE.findall(prose))


def is_quiz(cell):
    """A cell of a walkthrough's 確認テスト section (``make quiz-bank``): Japanese with the English beside it."""
    return cell.get("id", "").startswith("quiz-")


@dataclasses.dataclass(frozen=True)
class Message:
    """A translatable block: its English text and where it stands (notebook path, cell index)."""

    text: str
    source: str
    cell: int


def notebook_messages(nb, source):
    """The notebook's translatable blocks, in order (a block repeated in the notebook comes once per place)."""
    return [
        Message(block, source, index)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown" and not is_quiz(cell)
        for block in split_blocks(cell.source)
        if is_translatable(block)
    ]


# -- catalogs ---------------------------------------------------------------------------------
def new_catalog():
    import polib

    po = polib.POFile(wrapwidth=0)
    po.metadata = dict(HEADER)
    return po


def merge_catalog(po, messages):
    """The catalog `po` brought up to date with `messages` [(msgid, [(file, line)], msgid_plural or None)].

    A message already translated keeps its translation; a new one whose English is close to an entry
    that is no longer used gets that translation as a fuzzy suggestion, with the old English as
    ``previous_msgid``; entries no longer used are dropped (git keeps their history).
    """
    import polib

    old = {entry.msgid: entry for entry in po if not entry.obsolete}
    merged = new_catalog()
    merged.metadata.update({k: v for k, v in po.metadata.items() if k not in HEADER})
    wanted = {}
    for msgid, occurrences, plural in messages:
        if msgid in wanted:
            wanted[msgid][0].extend(occurrences)
        else:
            wanted[msgid] = (list(occurrences), plural)
    unused = [entry for msgid, entry in old.items() if msgid not in wanted]
    for msgid, (occurrences, plural) in wanted.items():
        entry = old.get(msgid)
        if entry is None:
            entry = polib.POEntry(msgid=msgid, msgstr="")
            if plural:
                entry.msgid_plural, entry.msgstr_plural = plural, {0: ""}
            closest = max(unused, key=lambda e: _similarity(e.msgid, msgid), default=None)
            if closest is not None and _similarity(closest.msgid, msgid) >= 0.5 and entry_text(closest):
                _set_translation(entry, entry_text(closest))
                entry.flags.append("fuzzy")
                entry.previous_msgid = closest.msgid
        entry.occurrences = sorted(set(occurrences), key=lambda o: (o[0], int(o[1]) if o[1].isdigit() else 0))
        merged.append(entry)
    return merged


def _similarity(a, b):
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def entry_text(entry):
    """An entry's translation (a plural entry's one Japanese form), or "" when it has none."""
    return entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr


def _set_translation(entry, text):
    if entry.msgid_plural:
        entry.msgstr_plural = {0: text}
    else:
        entry.msgstr = text


def catalog_path(root, folder, name):
    return Path(root) / "locale" / LANG / folder / (Path(name).stem + ".po")


def read_catalog(path):
    import polib

    return polib.pofile(str(path), wrapwidth=0) if Path(path).exists() else new_catalog()


def write_catalog(po, path):
    """Write `po` to `path` if its text changed; True if it did."""
    path = Path(path)
    text = str(po) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def translations(po):
    """{English: translation} of the current entries (translated, not fuzzy)."""
    return {e.msgid: entry_text(e) for e in po if not e.obsolete and not e.fuzzy and entry_text(e)}


def untranslated(po):
    """The entries that need a translator: empty or fuzzy."""
    return [e for e in po if not e.obsolete and (e.fuzzy or not entry_text(e))]


# -- the Japanese notebook ------------------------------------------------------------------
_SETUP_CALL = re.compile(r"\bsetup\(([^()]*)\)")
_BADGE = re.compile(r"(colab\.research\.google\.com/github/[^)\s]+/blob/[^/\s)]+/)(notebooks|solutions|exercises)/")
_DOCS_LINK = re.compile(r"(\]\(|src=\")\.\./(?!notebooks/|solutions/|exercises/)")
_COURSE_PATH = re.compile(r"`(notebooks|solutions|exercises)/")
_PASSED = re.compile(r"^✓ Task (\d+) · (.+): (\d+) checks? passed$", re.MULTILINE)


def with_language(source):
    """A setup cell's source with ``lang="ja"`` added to its ``setup(...)`` call."""

    def add(match):
        args = match.group(1).strip()
        return f'setup({args}, lang="{LANG}")' if args else f'setup(lang="{LANG}")'

    return _SETUP_CALL.sub(add, source, count=1)


def translate_blocks(source, known, missing):
    """The text with each translatable block replaced by its translation; untranslated ones go to `missing`."""
    parts = []
    for block in split_blocks(source):
        if is_translatable(block):
            if block in known:
                block = known[block]
            else:
                missing.append(block)
        parts.append(block)
    return "\n".join(parts)


def translate_markdown(source, known, missing):
    """A markdown cell's text translated (`translate_blocks`), its badge and links pointing from ja/."""
    text = _BADGE.sub(rf"\g<1>{LANG}/\g<2>/", translate_blocks(source, known, missing))
    text = _COURSE_PATH.sub(rf"`{LANG}/\g<1>/", text)  # `exercises/05_vgg.ipynb` → the Japanese exercise
    return _DOCS_LINK.sub(r"\g<1>../../", text)


def translate_passed_lines(text):
    """A stored output's "✓ Task N · name: K checks passed" lines as the checks print them in Japanese."""
    from cnn_course import i18n
    from cnn_course.checks import Task

    def render(match):
        with i18n.using(LANG):
            task = Task(int(match.group(1)), i18n._(match.group(2)))  # a name such as "exam drill" is a message
            task.passed = int(match.group(3))
            return task.passed_line()

    return _PASSED.sub(render, text)


def translate_notebook(nb, known, source):
    """(the Japanese notebook, [untranslated English blocks]) for the English notebook `nb`."""
    ja = copy.deepcopy(nb)
    missing = []
    setup_done = False
    for cell in ja.cells:
        if cell.cell_type == "markdown" and not is_quiz(cell):
            cell.source = translate_markdown(cell.source, known, missing)
        elif cell.cell_type == "code":
            if not setup_done and _SETUP_CALL.search(cell.source) and "import" in cell.source:
                cell.source, setup_done = with_language(cell.source), True
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output.text = translate_passed_lines(output.text)
    if not setup_done:
        raise ValueError(f"{source}: no setup cell (a code cell that imports and calls setup(...)) to set lang= in")
    ja.metadata["cnn_course"] = {**nb.metadata.get("cnn_course", {}), "translated_from": source, "by": "make ja"}
    return ja, missing


LANGUAGE_LINE = "**日本語版:** [README.ja.md](README.ja.md)"
"""The README's pointer to the Japanese edition; README.ja.md points back with ``ENGLISH_LINE``."""
ENGLISH_LINE = "**English:** [README.md](README.md)"
_COURSE_LINK = re.compile(r"\]\((notebooks|solutions|exercises)/")


def readme_messages(text, source="README.md"):
    """The README's translatable blocks (cell 0: the README is one cell)."""
    return [Message(block, source, 0) for block in split_blocks(text) if is_translatable(block)]


def translate_readme(text, known):
    """(README.ja.md's text, [untranslated blocks]): its links open the ja/ notebooks."""
    missing = []
    text = translate_blocks(text, known, missing)
    text = re.sub(rf"^{re.escape(LANGUAGE_LINE)}.*$", ENGLISH_LINE, text, count=1, flags=re.MULTILINE)
    return _COURSE_LINK.sub(rf"]({LANG}/\g<1>/", text), missing


def notebook_text(nb):
    return nbformat.writes(nb) + "\n"


# -- what a translation must keep ---------------------------------------------------------
_CODE = re.compile(r"`[^`\n]+`")
_LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.DOTALL)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TAG = re.compile(r"</?([a-z]+)")
_PLACEHOLDER = re.compile(r"\{\w*\}")
_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s", re.MULTILINE)
_ROW = re.compile(r"^\s*\|", re.MULTILINE)
_TASK = re.compile(r"^## Task (\d+) · .* · (\d+) points?\s*$")
_TASK_JA = r"^## 課題 {number} · .* · {points} 点\s*$"


def glossary_rows(root):
    """(English names, Japanese, units, other name or "") per row of docs/glossary.md's table."""
    rows = []
    for line in (Path(root) / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"\d\d(, \d\d)*", cells[2]):
            rows.append((tuple(cells[0].split(", ")), cells[1], cells[2].split(", "), cells[3]))
    return rows


def glossary_pairs(root):
    """[(English names, 日本語)] from docs/glossary.md's table."""
    return [(names, japanese) for names, japanese, *_ in glossary_rows(root)]


def translation_problems(english, japanese, glossary=()):
    """What a translation changed that it must keep, as sentences (empty when it is faithful).

    Kept exactly: inline code, link targets, math, HTML tags, a message's ``{placeholders}``, the
    numbers, a heading's level, the items of a list and the rows of a table, an exercise heading's
    task number, stars and points
    (``## 課題 N · … · ★ · P 点``). A glossary term written ``term（用語）`` in the English is 用語 in
    the Japanese. And the translation is Japanese.
    """
    problems = []

    def same(pattern, what, as_set=False):
        a, b = pattern.findall(english), pattern.findall(japanese)
        if (set(a) != set(b)) if as_set else (sorted(a) != sorted(b)):
            lost = sorted(set(a) - set(b))
            added = sorted(set(b) - set(a))
            problems.append(f"{what} differ: lost {lost}, added {added}" if lost or added else f"{what}: count differs")

    same(_CODE, "inline code spans")
    same(_LINK_TARGET, "link targets", as_set=True)
    same(_MATH, "math")
    same(_TAG, "HTML tags")
    same(_PLACEHOLDER, "{placeholders}")
    missing_numbers = set(_NUMBER.findall(_CODE.sub("", english))) - set(_NUMBER.findall(japanese))
    if missing_numbers:
        problems.append(f"numbers lost: {sorted(missing_numbers)}")
    heading = re.match(r"#+ ", english)
    if heading and not japanese.startswith(heading.group(0)):
        problems.append(f"the heading should start with {heading.group(0)!r}")
    for pattern, what in ((_ITEM, "list items"), (_ROW, "table rows")):
        if len(pattern.findall(english)) != len(pattern.findall(japanese)):
            problems.append(f"{what}: {len(pattern.findall(english))} in the English, {len(pattern.findall(japanese))}")
    if english.count("★") != japanese.count("★"):
        problems.append("the stars (★) differ")
    if task := _TASK.match(english.splitlines()[0]):
        wanted = _TASK_JA.format(number=task.group(1), points=task.group(2))
        if not re.match(wanted, japanese.splitlines()[0]):
            problems.append(f"an exercise heading reads '## 課題 {task.group(1)} · … · {task.group(2)} 点'")
        if "warm-up" in english and "ウォームアップ" not in japanese:
            problems.append("a warm-up's heading says ウォームアップ")
    for names, term in glossary:
        for name in names:
            if re.search(rf"(?<![\w-]){re.escape(name)}s?\**（{re.escape(term)}）", english, re.IGNORECASE):
                if term not in japanese:
                    problems.append(f"the glossary's 「{term}」 ({name}) is missing")
    if not _JAPANESE.search(japanese):
        problems.append("no Japanese in the translation")
    return problems


def catalog_problems(po, glossary=()):
    """[(entry, problems)] for the catalog's translated entries whose translation changed what it must keep."""
    found = []
    for entry in po:
        text = entry_text(entry)
        if text and not entry.obsolete:
            problems = translation_problems(entry.msgid, text, glossary)
            if problems:
                found.append((entry, problems))
    return found
