"""Helpers shared by the CNN course notebooks.

Importing this package does nothing but define names: TensorFlow is imported by
``setup()`` (after its log settings are in place), and each module imports what
it needs when it is used.

    from cnn_course import setup
    course = setup()            # quiet TensorFlow, seed everything, read the FAST switch

Modules: ``data`` (the embedded digits and the opt-in Keras datasets), ``costs``
(parameters and multiply-accumulates per layer), ``plots`` (the shared figures),
``checks`` (the exercise checks, one module per unit).
"""

from cnn_course.session import Course, setup

__all__ = ["Course", "setup"]
__version__ = "0.2.0"
