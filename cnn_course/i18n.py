"""The language of the course's messages: English in the source, Japanese from gettext catalogs.

A message is written in English inside ``_()``, with named ``{placeholders}`` filled by
``.format`` after it is translated, so that a translator can move them::

    t.fail(_("`{name}` is None").format(name=name), ...)

``N_()`` marks a message that is translated later, where it is used (a module-level hint);
``ngettext()`` chooses between a singular and a plural. The Japanese texts are in
``cnn_course/locale/ja/*.po``, one gettext catalog per module, read with polib;
``setup(lang="ja")`` (the first cell of every notebook in ``ja/``) or the environment variable
``CNN_COURSE_LANG=ja`` selects them. A message without a current translation stays in English.
"""

import contextlib
import functools
import os
from pathlib import Path

LANGUAGES = ("en", "ja")
"""English, the source language, and the languages with catalogs."""

LANG_VARIABLE = "CNN_COURSE_LANG"
"""An environment variable that selects the language when ``setup()`` is not told (``make lab COURSE_LANG=ja``)."""

LOCALE = Path(__file__).resolve().parent / "locale"

_selected = None


def check_language(lang):
    """`lang` if the course speaks it, else a ValueError that says which it speaks."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r}: the course's languages are {', '.join(map(repr, LANGUAGES))}")
    return lang


def language():
    """The language selected by ``set_language()``, else by ``CNN_COURSE_LANG``, else English."""
    if _selected is not None:
        return _selected
    wanted = os.environ.get(LANG_VARIABLE, "").strip().lower()
    return wanted if wanted in LANGUAGES else "en"


def set_language(lang):
    """Speak `lang` ("en" or "ja") from now on, in this process."""
    global _selected
    _selected = check_language(lang)


@contextlib.contextmanager
def using(lang):
    """Speak `lang` inside a ``with`` block (tests, tools), then what was selected before."""
    global _selected
    before = _selected
    set_language(lang)
    try:
        yield
    finally:
        _selected = before


@functools.cache
def catalog(lang):
    """{English message: translation} from the language's catalogs; fuzzy and empty entries left out."""
    import polib

    messages = {}
    for path in sorted((LOCALE / lang).glob("*.po")):
        for entry in polib.pofile(str(path)):
            if entry.fuzzy or entry.obsolete:
                continue
            text = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
            if text:
                messages[entry.msgid] = text
    return messages


def _(message):
    """The message in the selected language (itself in English, or when it has no translation)."""
    lang = language()
    return message if lang == "en" else catalog(lang).get(message, message)


def N_(message):
    """Mark a message for the catalogs without translating it yet; ``_()`` translates it where it is used."""
    return message


def ngettext(singular, plural, n):
    """`singular` or `plural` by `n`, translated (Japanese has one form for both)."""
    lang = language()
    english = singular if n == 1 else plural
    return english if lang == "en" else catalog(lang).get(singular, english)
