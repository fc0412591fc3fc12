"""Update the Japanese catalogs from the English source, then write the Japanese edition in ja/.

python tools/make_ja.py        (or: make ja)
python tools/make_ja.py --lint [CATALOG.po ...]   what translations changed that they must keep
python tools/make_ja.py --catalog CATALOG.po ...   update only these catalogs from the English

1. Every English walkthrough and solution's markdown blocks go into its catalog,
   locale/ja/<folder>/<notebook>.po; the helper package's messages (``_()``) into
   cnn_course/locale/ja/<module>.po (extracted with Babel). Translations are kept; a changed
   English text comes back as a fuzzy entry with its old translation (cnn_course.translation).
2. ja/notebooks/ and ja/solutions/ are written from the English notebooks and the catalogs,
   ja/exercises/ from ja/solutions/ as `make exercises` makes them (a changed exercise is kept).

It lists what still needs a translator (empty or fuzzy entries, by catalog) and exits with 1 while
anything does; a block without a translation stays in English in ja/ meanwhile.
"""

import sys
from pathlib import Path

import nbformat

from cnn_course import translation
from cnn_course.authoring import write_exercises
from cnn_course.i18n import LOCALE

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnn_course"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def package_messages(path):
    """[(msgid, [(file, line)], msgid_plural or None)] of one module's ``_()``, ``N_()`` and ``ngettext()``."""
    from babel.messages.extract import extract_from_file

    found = []
    where = path.relative_to(ROOT).as_posix()
    for line, message, _comments, _context in extract_from_file("python", path, keywords=KEYWORDS):
        singular, plural = message if isinstance(message, tuple) else (message, None)
        found.append((singular, [(where, str(line))], plural))
    return found


def module_catalog(path):
    """cnn_course/checks/vgg.py → cnn_course/locale/ja/checks.vgg.po."""
    name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    return LOCALE / translation.LANG / f"{name}.po"


README_CATALOG = ROOT / "locale" / translation.LANG / "README.po"


def wanted_messages():
    """{catalog path: [(msgid, [(file, line)], msgid_plural or None)]}: what the English asks of each catalog."""

    def entries(messages):
        return [(m.text, [(m.source, str(m.cell))], None) for m in messages]

    wanted = {README_CATALOG: entries(translation.readme_messages(_readme()))}
    for folder in translation.FOLDERS:
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            messages = translation.notebook_messages(nbformat.read(path, as_version=4), f"{folder}/{path.name}")
            wanted[translation.catalog_path(ROOT, folder, path.name)] = entries(messages)
    for path in sorted(PACKAGE.rglob("*.py")):
        if messages := package_messages(path):
            wanted[module_catalog(path)] = messages
    return wanted


def update_catalogs(only=None):
    """Bring the catalogs up to date with the English; return {catalog path: catalog}.

    A catalog is written only when the update changed it, so a translator's unsaved-by-us edits are
    never replaced by an older text. `only`: a set of catalog paths to update, the rest left alone.
    """
    wanted = wanted_messages()
    read = {target: translation.read_catalog(target) for target in wanted}
    catalogs = {target: translation.merge_catalog(read[target], messages) for target, messages in wanted.items()}
    if only is not None:
        catalogs = {target: po for target, po in catalogs.items() if target in only}
    for target, po in catalogs.items():
        if str(po) != str(read[target]) and translation.write_catalog(po, target):
            print(f"catalog    {target.relative_to(ROOT)}")
    return catalogs


def _readme():
    return (ROOT / "README.md").read_text(encoding="utf-8")


def write_edition(catalogs):
    """Write ja/notebooks and ja/solutions from the catalogs, then ja/exercises; return the untranslated count."""
    missing_count = 0
    for folder in translation.FOLDERS:
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            po = catalogs[translation.catalog_path(ROOT, folder, path.name)]
            nb = nbformat.read(path, as_version=4)
            ja, missing = translation.translate_notebook(nb, translation.translations(po), f"{folder}/{path.name}")
            missing_count += len(missing)
            target = ROOT / translation.LANG / folder / path.name
            text = translation.notebook_text(ja)
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                print(f"written    {target.relative_to(ROOT)}")
    text, missing = translation.translate_readme(_readme(), translation.translations(catalogs[README_CATALOG]))
    missing_count += len(missing)
    target = ROOT / f"README.{translation.LANG}.md"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
        print(f"written    {target.relative_to(ROOT)}")
    ja = ROOT / translation.LANG
    written, _unchanged, kept = write_exercises(ja / "solutions", ja / "exercises", f"{translation.LANG}/solutions")
    for path in written:
        print(f"written    {path.relative_to(ROOT)}")
    for path in kept:
        print(f"kept       {path.relative_to(ROOT)}: it was changed since it was generated; move it away and run again")
    return missing_count, kept


def lint(paths):
    """Print each translated entry's problems (cnn_course.translation.translation_problems); 1 if any."""
    glossary = translation.glossary_pairs(ROOT)
    count = 0
    for path in paths:
        for entry, problems in translation.catalog_problems(translation.read_catalog(path), glossary):
            count += 1
            where = ", ".join(f"{f}:{line}" for f, line in entry.occurrences)
            print(f"{path} ({where}): {entry.msgid[:70]!r}")
            for problem in problems:
                print(f"    {problem}")
    print(f"{count} translations with problems")
    return 1 if count else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--lint"]:
        return lint(
            [Path(p) for p in argv[1:]] or sorted((ROOT / "locale").rglob("*.po")) + sorted(LOCALE.rglob("*.po"))
        )
    if argv[:1] == ["--catalog"]:
        update_catalogs(only={Path(p).resolve() for p in argv[1:]})
        return 0
    catalogs = update_catalogs()
    missing_count, kept = write_edition(catalogs)
    todo = {target: translation.untranslated(po) for target, po in catalogs.items()}
    todo = {target: entries for target, entries in todo.items() if entries}
    for target, entries in todo.items():
        fuzzy = sum(e.fuzzy for e in entries)
        print(
            f"to translate {target.relative_to(ROOT)}: {len(entries) - fuzzy} new, {fuzzy} fuzzy"
            f" (of {len(catalogs[target])})"
        )
    strings = sum(len(po) for po in catalogs.values())
    print(f"{len(catalogs)} catalogs, {strings} messages; {sum(map(len, todo.values()))} need a translator")
    return 1 if todo or missing_count or kept else 0


if __name__ == "__main__":
    sys.exit(main())
