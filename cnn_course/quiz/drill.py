"""A timed drill across units, in the exam's rhythm: 72 seconds per question (120 minutes / 100).

    from cnn_course.quiz import drill
    drill(units=[5, 6, 7], n=20)                  # asks with input(): JupyterLab, a terminal (make drill)
    drill(units=[5, 6, 7], n=20, seed=7, answers="bcad...")   # non-interactive: score an answer sheet

The questions and the order of their choices are random; the seed (printed) gives the same drill
again. At the end: the score, the time, the 解説 of each miss and the topics to revisit.
"""

import builtins
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

from cnn_course.quiz.loader import LETTERS, questions, unit_file, unit_files
from cnn_course.quiz.render import plain, question_markdown, relabel

SECONDS_PER_QUESTION = 72  # the exam: about 100 questions in 120 minutes
NO_INPUT = ("StdinNotImplementedError", "EOFError")


@dataclass
class DrillResult:
    """What a drill ended with: the questions asked, the letters given (None: none) and which were right."""

    seed: int
    items: list  # (question, order of its choices as shown)
    given: list
    seconds: float | None = None
    timed_out: bool = False
    right: list = field(default_factory=list)

    @property
    def score(self):
        return sum(self.right)

    @property
    def revisit(self):
        """The topics of the missed questions, most missed first."""
        missed = Counter(q["topic"] for (q, _), ok in zip(self.items, self.right, strict=True) if not ok)
        return [topic for topic, _ in missed.most_common()]


def make_paper(units=None, n=20, seed=0):
    """The drill's questions and the order of each one's choices, the same for the same arguments."""
    pool = questions(units)
    if not pool:
        raise ValueError(f"no questions for units {units}")
    rng = random.Random(seed)
    picked = rng.sample(pool, min(n, len(pool)))
    return [(q, rng.sample(range(4), 4)) for q in picked]


def shown_answer(q, order):
    """The letter under which the right choice is shown."""
    return LETTERS[order.index(LETTERS.index(q["answer"]))]


def _clean(letter):
    letter = (letter or "").strip().lower().strip("()")
    return letter if letter in LETTERS and letter else None


def _clock_text(seconds):
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def drill(units=None, n=20, seed=None, answers=None, seconds_per_question=SECONDS_PER_QUESTION, ask=None, clock=None):
    """Run a drill of `n` questions from `units` (unit numbers; all when None); return a DrillResult.

    Without `answers` it asks each question with input() against a clock of n × 72 s; an answer given
    after the time is up does not count. Where nothing can be typed (a plain `jupyter execute` run,
    nbval), it prints the questions and how to pass the answers instead. With `answers` (a string or
    a list of letters; "-" or "" skips), it scores them without asking.
    """
    ask = ask or builtins.input
    clock = clock or time.monotonic
    if seed is None:
        seed = secrets.randbelow(10_000)
    wanted = sorted({int(u) for u in units}) if units is not None else [int(p.name[:2]) for p in unit_files()]
    missing = [u for u in wanted if unit_file(u) is None]
    items = make_paper([u for u in wanted if u not in missing], n, seed)
    budget = len(items) * seconds_per_question
    print(
        f"ドリル（drill）: {len(items)} 問, 制限時間 {_clock_text(budget)}（{seconds_per_question} s per question）, "
        f"units {', '.join(f'{u:02d}' for u in wanted)}, seed={seed}"
    )
    if missing:
        print(f"(no questions yet for unit {', '.join(f'{u:02d}' for u in missing)})")
    if len(items) < n:
        print(f"(only {len(items)} questions in these units)")
    result = DrillResult(seed=seed, items=items, given=[None] * len(items))
    if answers is not None:
        letters = list(answers)
        if len(letters) != len(items):
            raise ValueError(f"{len(letters)} answers for {len(items)} questions")
        result.given = [_clean(a) for a in letters]
    else:
        _ask_all(result, ask, clock, budget)
        if result.seconds is None:  # nothing can be typed here
            sheet = "?" * len(items)
            print(f'\n答えを a–d で並べて渡すと採点します（pass your answers to score them）: answers="{sheet}"')
            return result
    result.right = [g == shown_answer(q, order) for (q, order), g in zip(items, result.given, strict=True)]
    _report(result, budget)
    return result


def _show(number, total, q, order):
    print(f"\n[{number}/{total}] " + plain(question_markdown(q, order)))


def _ask_all(result, ask, clock, budget):
    start = clock()
    total = len(result.items)
    for i, (q, order) in enumerate(result.items):
        _show(i + 1, total, q, order)
        left = budget - (clock() - start)
        try:
            reply = ask(f"答え（answer） a–d, 残り（left） {_clock_text(max(left, 0))}: ")
        except Exception as error:  # noqa: BLE001 - only "no input here" is expected; anything else is raised
            if type(error).__name__ not in NO_INPUT:
                raise
            for j, (q2, order2) in enumerate(result.items[i + 1 :], start=i + 2):
                _show(j, total, q2, order2)
            return
        if clock() - start > budget:
            print("時間切れ（time is up）: this answer and the rest do not count")
            result.timed_out = True
            break
        result.given[i] = _clean(reply)
    result.seconds = clock() - start


def _report(result, budget):
    total = len(result.items)
    print(f"\n得点（score）: {result.score}/{total} = {result.score / total:.0%}", end="")
    if result.seconds is not None:
        print(f"   時間（time）: {_clock_text(result.seconds)} / {_clock_text(budget)}", end="")
    print()
    for number, ((q, order), given, ok) in enumerate(zip(result.items, result.given, result.right, strict=True), 1):
        if ok:
            continue
        right = shown_answer(q, order)
        print(f"\n✗ [{number}] {q['id']} {q['topic']}: {f'({given})' if given else '(no answer)'}, 正解 ({right})")
        for name, text in (("解説", q["explanation_ja"]), ("Explanation", q["explanation_en"])):
            print(f"  {name}: " + relabel(text.strip(), order).replace("\n", "\n  "))
    if result.revisit:
        print("\n復習するトピック（topics to revisit）:")
        for topic in result.revisit:
            units = sorted(
                {
                    q["id"][:2]
                    for (q, _), ok in zip(result.items, result.right, strict=True)
                    if not ok and q["topic"] == topic
                }
            )
            where = ", ".join(unit_file(u).stem + ".ipynb" for u in units)
            print(f"  - {topic} ({where})")
    else:
        print("全問正解（all correct）")
