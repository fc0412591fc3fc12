"""nbgrader's configuration for a class taught with this course (docs/grading.md).

`make release COURSE=<dir>` copies this file to <dir>/nbgrader_config.py the first
time it runs; edit that copy (your course's id, the exchange, your students).
"""

from nbgrader.converters import GenerateAssignment

from cnn_course.authoring import exercise_badge_preprocessor

c = get_config()  # noqa: F821 (nbgrader defines it when it reads this file)

# The course's id: on JupyterHub, the name students fetch and submit under.
c.CourseDirectory.course_id = "cnn-course"

# The release is the exercise `make exercises` writes: nbgrader's own steps, and the
# "Open in Colab" badge pointed at the exercise instead of the solution.
c.GenerateAssignment.preprocessors = [exercise_badge_preprocessor(), *GenerateAssignment.preprocessors.default()]

# Autograding runs every cell; building a model and checking it takes seconds, but a slow
# machine with many submissions should not hit nbgrader's default of 30 s per cell.
c.Execute.timeout = 300

# On JupyterHub with nbgrader's exchange (release_assignment, fetch, submit, collect):
# c.Exchange.root = "/srv/nbgrader/exchange"
# Students: `nbgrader db student import students.csv`, or autograde with --create.
