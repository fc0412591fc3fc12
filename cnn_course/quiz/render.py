"""How a question reads: in a notebook cell, in the bank, in the drill, and the answer's 解説."""

import re

from cnn_course.quiz.loader import KINDS, LETTERS


def choice_text(q, index, language="ja"):
    text = q["choices"][index][language]
    if q["kind"] == "code":
        return f"``{text}``" if "`" in text else f"`{text}`"
    return text


def question_markdown(q, order=(0, 1, 2, 3)):
    """The question in Japanese, then its English folded in a <details> (choices in `order`, lettered a-d)."""
    lines = [f"**{q['id']}** {KINDS[q['kind']][0]} · {q['topic']}", "", q["ja"].strip()]
    snippet = ["", "```python", q["snippet"].rstrip(), "```"] if q["kind"] == "code" else []
    lines += snippet + [""]
    lines += [f"- ({letter}) {choice_text(q, i)}" for letter, i in zip(LETTERS, order, strict=True)]
    lines += ["", "<details><summary>English</summary>", "", q["en"].strip()]
    if q["kind"] == "code":
        lines += ["", "The choices are the lines of code above."]
    else:
        lines += [""] + [f"- ({letter}) {choice_text(q, i, 'en')}" for letter, i in zip(LETTERS, order, strict=True)]
    lines += ["", "</details>"]
    return "\n".join(lines)


def explanation_body(q):
    """The 解説, Japanese then English (markdown: each line of the files a line of its own)."""
    return "\n\n".join(
        [
            "解説: " + q["explanation_ja"].strip().replace("\n", "  \n"),
            "Explanation: " + q["explanation_en"].strip().replace("\n", "  \n"),
        ]
    )


def explanation_markdown(q):
    """The answer, then its 解説."""
    index = LETTERS.index(q["answer"])
    return f"**{q['id']} 正解（answer）: ({q['answer']})** {choice_text(q, index)}\n\n" + explanation_body(q)


def relabel(text, order):
    """A 解説's choice letters "(a)" … "(d)" renamed for choices shown in `order` (as the drill shuffles them)."""
    return re.sub(r"\(([a-d])\)", lambda m: f"({LETTERS[order.index(LETTERS.index(m.group(1)))]})", text)


def plain(text):
    """Markdown made readable as plain text (a terminal, a text/plain output)."""
    text = re.sub(r"```\w*\n", "", text)
    for old, new in (("**", ""), ("``", ""), ("`", ""), ("  \n", "\n"), ("<details><summary>English</summary>", "")):
        text = text.replace(old, new)
    return text.replace("</details>", "").replace("\n\n\n", "\n\n").strip()
