"""The learner's side in a notebook: answer("05-3", "b") tells ✓ or ✗ and only then shows the 解説."""

from cnn_course.quiz.loader import LETTERS, question
from cnn_course.quiz.render import choice_text, explanation_body, plain

PROMPT = (
    '{qid}: a, b, c, d のどれかを "" の中に入れて実行してください'
    "（put a, b, c or d between the quotes and run the cell: the answer and its 解説 appear only then）"
)


def _show(markdown):
    """Markdown in Jupyter (with a plain-text fallback), plain text anywhere else."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/markdown": markdown, "text/plain": plain(markdown)}, raw=True)
    else:
        print(plain(markdown))


def verdict(q, letter):
    """The markdown shown for a chosen letter: ✓ or ✗, the right answer and the 解説."""
    index = LETTERS.index(q["answer"])
    if letter == q["answer"]:
        head = f"**✓ 正解（correct）: ({letter})** {choice_text(q, index)}"
    else:
        mine = choice_text(q, LETTERS.index(letter))
        head = f"**✗ 不正解（wrong）: ({letter})** {mine} — 正解は（the answer is）**({q['answer']})**"
    proof = "証明（proof）: the collapsed cell under this one runs it; click its ••• to read the code."
    return "\n\n".join([head, explanation_body(q), proof])


def answer(qid, letter=""):
    """Check your choice for question `qid`: ✓ or ✗, then the 解説. With no letter, say what to do.

    Shows its verdict and returns nothing, so that no extra result line repeats it under the cell.
    """
    q = question(qid)
    letter = (letter or "").strip().lower().strip("()")
    if not letter:
        print(PROMPT.format(qid=qid))
    elif letter not in LETTERS:
        print(f"{qid}: {letter!r} is not a choice; use a, b, c or d")
    else:
        _show(verdict(q, letter))
