"""Code items: a snippet with a blank （あ） on its own line, filled with each candidate line and run."""

import contextlib
import io

from cnn_course.quiz.loader import BLANK


def fill(snippet, line):
    """The snippet's code with its blank line replaced by `line`, keeping that line's indentation."""
    lines = snippet.splitlines()
    blanks = [i for i, text in enumerate(lines) if BLANK in text]
    if len(blanks) != 1:
        raise ValueError(f"the snippet needs the blank {BLANK} on exactly one line, found {len(blanks)}")
    i = blanks[0]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i : i + 1] = [indent + part for part in line.splitlines()]
    return "\n".join(lines) + "\n"


def run_blank(snippet, line):
    """Run the snippet with `line` in its blank: its namespace (a dict), or the exception it raised.

    What the snippet prints is swallowed, so a proof's output stays its own one line.
    """
    namespace = {"__name__": "__quiz_snippet__"}
    try:
        code = compile(fill(snippet, line), "<snippet>", "exec")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)
    except Exception as error:  # noqa: BLE001 - the exception is the result a proof inspects
        return error
    return namespace


def prove(q):
    """Run a question's proof with `q` (the question's dict) provided; an AssertionError means it failed."""
    exec(compile(q["proof"], f"<proof {q['id']}>", "exec"), {"q": q, "__name__": "__quiz_proof__"})
