"""確認テスト in the exam's form: questions as data (one TOML file per unit), shown and checked.

    from cnn_course.quiz import answer, question, drill
    answer("05-3", "b")          # ✓ or ✗, then the 解説 (nothing is shown before a choice)
    drill(units=[5, 6, 7], n=20) # a timed drill, 72 s per question

Modules: ``loader`` (read and validate the files), ``blanks`` (code items: fill the blank （あ） and
run), ``learner`` (answer()), ``drill``, ``render`` and ``documents`` (the notebook sections and the
bank that ``make quiz-bank`` writes). Nothing here imports TensorFlow; a proof may.
"""

from cnn_course.quiz.blanks import fill, prove, run_blank
from cnn_course.quiz.drill import drill
from cnn_course.quiz.learner import answer
from cnn_course.quiz.loader import QuizFormatError, load, question, questions

__all__ = ["QuizFormatError", "answer", "drill", "fill", "load", "prove", "question", "questions", "run_blank"]
