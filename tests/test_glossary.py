"""docs/glossary.md and the notebooks use the same English ↔ 日本語 terms."""

import re

import nbformat
import pytest

from cnn_course.translation import glossary_rows

PAIR = re.compile(r"（([^）]*)）")


def glossary(root):
    """(English names, Japanese, units) per row of the glossary's table."""
    return [row[:3] for row in glossary_rows(root)]


def markdown(path, headings=True):
    """The notebook's markdown without emphasis marks (`**term**（用語）` reads as `term（用語）`);
    headings=False leaves out headings, whose Japanese names a section rather than translates a term."""
    cells = nbformat.read(path, as_version=4).cells
    lines = [line for c in cells if c.cell_type == "markdown" for line in c.source.splitlines()]
    return "\n".join(line for line in lines if headings or not line.startswith("#")).replace("*", "")


def english_before(text, names):
    """The longest glossary name (or its plural) that `text` ends with, as a whole word; None if none."""
    lowered = text.lower()
    for name in sorted(names, key=len, reverse=True):
        for form in (name, name + "s"):
            if re.search(rf"(^|[^\w-]){re.escape(form.lower())}$", lowered):
                return name
    return None


@pytest.fixture(scope="module")
def terms(root):
    return glossary(root)


@pytest.fixture(scope="module")
def notebooks(root):
    return {
        p: markdown(p, headings=False)
        for folder in ("notebooks", "solutions")
        for p in sorted((root / folder).glob("*.ipynb"))
    }


def test_the_glossary_has_one_row_per_term(terms):
    assert len(terms) >= 40
    english = [name for names, *_ in terms for name in names]
    japanese = [ja for _, ja, _ in terms]
    assert len(set(english)) == len(english), "an English term is listed twice"
    assert len(set(japanese)) == len(japanese), "a Japanese term is listed twice"


def test_every_term_is_taught_in_the_units_it_names(root, terms):
    for names, ja, units in terms:
        for unit in units:
            (path,) = (root / "notebooks").glob(f"{unit}_*.ipynb")
            text = markdown(path)
            assert ja in text, f"{path.name} should use the glossary's 「{ja}」 ({names[0]})"
            assert any(n.lower() in text.lower() for n in names), f"{path.name} should name {names[0]!r}"


def test_a_terms_other_name_is_mentioned_where_it_is_taught(root):
    others = [(names[0], other, units) for names, _, units, other in glossary_rows(root) if other]
    assert others, "the glossary gives no other names"
    for name, other, units in others:
        (path,) = (root / "notebooks").glob(f"{units[0]}_*.ipynb")
        assert other in markdown(path), f"{path.name} should mention 「{other}」 beside {name!r}"


def test_a_term_is_paired_with_its_glossary_japanese_everywhere(terms, notebooks):
    japanese = {name: ja for names, ja, _ in terms for name in names}
    mismatches = []
    for path, text in notebooks.items():
        for match in PAIR.finditer(text):
            name = english_before(text[max(0, match.start() - 100) : match.start()].rstrip(), japanese)
            if name and not match.group(1).startswith(japanese[name]):
                mismatches.append(
                    f"{path.parent.name}/{path.name}: {name}（{match.group(1)}）, glossary: {japanese[name]}"
                )
    assert not mismatches, "\n".join(mismatches)


def test_the_pairing_check_catches_a_different_translation(terms):
    japanese = {name: ja for names, ja, _ in terms for name in names}
    text = "the **receptive field**（感受野）"
    match = PAIR.search(text.replace("*", ""))
    name = english_before(text.replace("*", "")[: match.start()], japanese)
    assert name == "receptive field" and not match.group(1).startswith(japanese[name])
    assert english_before("a depthwise separable convolution", japanese) == "depthwise separable convolution"


def test_the_japanese_edition_uses_the_glossarys_terms(root, terms):
    """Each unit's Japanese walkthrough writes the term in Japanese as the glossary gives it (the translations
    of `term（用語）` are checked one by one in tests/test_japanese.py)."""
    for names, ja, units in terms:
        for unit in units:
            (path,) = (root / "ja" / "notebooks").glob(f"{unit}_*.ipynb")
            assert ja in markdown(path), f"ja/notebooks/{path.name} should use the glossary's 「{ja}」 ({names[0]})"
