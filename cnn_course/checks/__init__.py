"""A small framework for the exercise checks, and one module of checks per unit.

A check function opens a ``Task``, runs named checks on what the learner wrote
and, when all pass, prints one line::

    ✓ Task 2 · dense_block: 7 checks passed

The first failing check raises ``CheckFailed`` (an ``AssertionError``) whose
message names the task and the check and says what was expected, what came back
and a hint. A learner's ``None``, wrong type, wrong shape or an exception raised
inside their code becomes such a message, not a traceback from deep inside Keras:
whatever a check raises inside ``with Task(...)`` leaves it as a ``CheckFailed``
of at most six lines, with the error's first line in full and a hint chosen by
the error (see ``error_hint``). Blocks and models are compared with a reference
by ``cnn_course.checks.compare``.

In Jupyter a ``CheckFailed`` shows as its message alone, with or without
``setup()``; and importing this package in IPython makes a check cell that names
an answer not yet defined say "run the task cell first" instead of a bare
``NameError``.
"""

import re

import numpy as np

from cnn_course.i18n import _, ngettext


class CheckFailed(AssertionError):
    """An exercise check failed: the message says what was expected, what came and a hint."""

    def _render_traceback_(self):
        """What IPython and Jupyter show instead of a traceback: the message alone."""
        return [f"\x1b[31mCheckFailed\x1b[39m: {self}"]


class NotDefinedYet(NameError):
    """A check cell named an answer that its task cell has not defined (yet)."""

    def _render_traceback_(self):
        return [f"\x1b[31mNameError\x1b[39m: {self}"]


CHECK_CALL = re.compile(r"^\s*check\.(\w+)\(", re.MULTILINE)
"""A line of a check cell: ``check.<task>(...)``; its group is the check's name."""


def explain_undefined_name(cell_source, name):
    """The message for a NameError raised by a check cell, or None if the cell is not a check cell."""
    if not name or not CHECK_CALL.search(cell_source or ""):
        return None
    if name == "check":
        return _("name 'check' is not defined: run the setup cell at the top first (it imports the checks as `check`)")
    return _(
        "name {name} is not defined yet: run the task cell above first (with your answer in it, and no error),"
        " then this check cell"
    ).format(name=repr(name))


def _install_notebook_messages():
    """In IPython, show a check cell's NameError as one sentence; every other error as usual."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        history = shell.user_ns.get("_ih") or [""]
        message = explain_undefined_name(history[-1], getattr(value, "name", None))
        if message is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            shell.showtraceback((NotDefinedYet, NotDefinedYet(message), None))

    shell.set_custom_exc((NameError,), handler)


_install_notebook_messages()


def _short(value, limit=120):
    """One line: a string in full, another value's repr cut at `limit` characters."""
    if isinstance(value, str):
        return " ".join(value.split())
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(err):
    """The first non-empty line of an exception's message, or its type's name."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def error_hint(err, call=None, fallback=None):
    """A hint chosen by the evidence (the error's type and message), else `fallback`, else a general one.

    `call` says how the learner's function was called, for errors about its arguments. A check's own
    `fallback` (a string, or ``fallback(err) -> str | None``) knows its task and comes before the general hints.
    """
    text = str(err)
    duplicate = re.search(r'name "([^"]+)" is used (\d+) times', text)  # not a message
    if duplicate:
        return _("two layers share the name {name}: build names from the `name` argument").format(
            name=repr(duplicate.group(1))
        )
    fallback = fallback(err) if callable(fallback) else fallback
    if fallback:
        return fallback
    if isinstance(err, TypeError) and re.search(r"argument|positional|unexpected keyword", text):  # not a message
        return _("your function's parameters do not fit {call}: compare its signature with the task's").format(
            call=call or _("the call")
        )
    if "not connected" in text or "Graph disconnected" in text:  # not a message
        return _("build every layer on the tensor passed in (x), not on a new keras.Input")
    if isinstance(err, NameError):
        return _("a name is not defined: run the cells above first, or define it in your answer")
    if re.search(r"shape|dimension|[Ii]ncompatible", text):
        return _("two tensors' shapes do not fit here: print x.shape after each step and compare with the task")
    return _("the error comes from your code or a layer it built: read the line above and the task again")


class Task:
    """The checks of one exercise task, used as ``with Task(2, "dense_block") as t: ...``."""

    def __init__(self, number, name):
        self.number = number
        self.name = name
        self.passed = 0

    @property
    def label(self):
        return _("Task {number} · {name}").format(number=self.number, name=self.name)

    def passed_line(self):
        """The line printed when every check of the task has passed."""
        checks = ngettext("{count} check passed", "{count} checks passed", self.passed).format(count=self.passed)
        return f"✓ {self.label}: {checks}"

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            print(self.passed_line())
        elif issubclass(exc_type, Exception) and not issubclass(exc_type, CheckFailed):
            self.fail(
                _("checking your answer raised {error}").format(error=exc_type.__name__),
                got=first_line(exc),
                hint=error_hint(exc),
            )
        return False

    # -- reporting ---------------------------------------------------------------
    def fail(self, what, expected=None, got=None, hint=None, differs=None):
        """Stop with a message of at most five lines: what was checked, expected / got, where it differs, a hint."""
        lines = [f"{self.label} — {_short(what)}"]
        if expected is not None:
            lines.append(_("  expected: {value}").format(value=_short(expected)))
        if got is not None:
            lines.append(_("  got:      {value}").format(value=_short(got)))
        if differs:
            lines.append(_("  differs:  {value}").format(value=_short(differs)))
        if hint:
            lines.append(_("  hint:     {value}").format(value=_short(hint)))
        raise CheckFailed("\n".join(lines)) from None

    def expect(self, ok, what, expected=None, got=None, hint=None):
        """Count a passed check, or fail with the given message."""
        if not ok:
            self.fail(what, expected, got, hint)
        self.passed += 1

    def equal(self, what, got, expected, hint=None):
        """``got == expected`` (numbers, strings, tuples, lists)."""
        self.expect(got == expected, what, expected, got, hint)

    def array(self, value, what):
        """What a learner's function returned, as a float64 NumPy array (or a failure saying it is none)."""
        try:
            return np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            self.fail(_("{what} should return an array").format(what=what), _("a NumPy array"), type(value).__name__)

    def close(self, what, got, expected, hint=None, atol=1e-5, rtol=1e-4):
        """Arrays of the same shape whose values agree within tolerance."""
        got = np.asarray(got, dtype="float64")
        expected = np.asarray(expected, dtype="float64")
        if got.shape != expected.shape:
            self.fail(_("{what}: shape").format(what=what), expected.shape, got.shape, hint)
        if not np.allclose(got, expected, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
            self.fail(
                _("{what}: values differ (largest gap at index {index})").format(
                    what=what, index=tuple(int(i) for i in worst)
                ),
                float(expected[worst]),
                float(got[worst]),
                hint,
            )
        self.passed += 1

    # -- what the learner handed in ----------------------------------------------
    def function(self, fn, name):
        """The learner's function exists and is callable."""
        if fn is None:
            self.fail(
                _("`{name}` is None").format(name=name),
                _("a function"),
                "None",
                _("run the cell that defines `{name}` first").format(name=name),
            )
        if not callable(fn):
            self.fail(_("`{name}` is not a function").format(name=name), _("a function"), type(fn).__name__)
        self.passed += 1

    def value(self, value, name, types, hint=None):
        """A plain answer (number, list, ...) has been given and has the right type."""
        wanted = _(" or ").join(t.__name__ for t in _as_tuple(types))
        if value is None:
            self.fail(
                _("`{name}` is still None").format(name=name),
                wanted,
                "None",
                hint or _("replace `raise NotImplementedError()` with code that sets `{name}`").format(name=name),
            )
        if not isinstance(value, types) or isinstance(value, bool) and bool not in _as_tuple(types):
            self.fail(
                _("`{name}` has the wrong type").format(name=name),
                wanted,
                type(value).__name__,
                hint,
            )
        self.passed += 1
        return value

    def call(self, fn, args=(), kwargs=None, what=None, hint=None):
        """Call the learner's ``fn(*args, **kwargs)``; turn any exception it raises into one sentence."""
        kwargs = kwargs or {}
        if what is None:
            shown = [_short(a, 30) for a in args] + [f"{k}={_short(v, 30)}" for k, v in kwargs.items()]
            what = _("calling {call}").format(call=f"{getattr(fn, '__name__', _('your function'))}({', '.join(shown)})")
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError:
            self.fail(
                _("{what}: not written yet").format(what=what),
                hint=_("replace `raise NotImplementedError()` with your code and run that cell again"),
            )
        except CheckFailed:
            raise
        except Exception as err:  # the learner's code failed: say how, in one line
            self.fail(
                _("{what} raised {error}").format(what=what, error=type(err).__name__),
                got=first_line(err),
                hint=error_hint(err, what, hint),
            )
        if result is None:
            self.fail(_("{what} returned None").format(what=what), hint=_("did you forget the `return` statement?"))
        return result

    def keras_tensor(self, value, what):
        """The value is a symbolic Keras tensor (the output of a layer)."""
        import keras

        if not isinstance(value, keras.KerasTensor):
            self.fail(
                _("{what} should return a Keras tensor").format(what=what),
                _("the output of a layer, e.g. layers.Concatenate()([...])"),
                type(value).__name__,
                _("return the tensor, not a layer or a list of tensors"),
            )
        self.passed += 1
        return value

    def keras_model(self, value, what):
        """The value is a ``keras.Model``."""
        import keras

        if not isinstance(value, keras.Model):
            self.fail(
                _("{what} should return a keras.Model").format(what=what),
                "keras.Model(inputs, outputs)",  # not a message
                type(value).__name__,
                _("end with `return keras.Model(inputs, outputs)`"),
            )
        self.passed += 1
        return value


def is_whole_number(value):
    """An int or a NumPy integer, but not a bool (True would otherwise pass as the count 1)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def refuse_applications(t, fn, what, advice):
    """A rebuild task's answer must not call keras.applications (returning its model is not building it)."""

    def names(code):
        return set(code.co_names) | {n for c in code.co_consts if hasattr(c, "co_names") for n in names(c)}

    used = names(fn.__code__)
    found = "applications" in used or any(
        str(getattr(fn.__globals__.get(n), "__module__", "")).startswith(("keras.applications", "keras.src.app"))
        for n in used
    )
    t.expect(
        not found,
        _("{what}: keras.applications builds this model, not your code").format(what=what),
        _("a model built from your own blocks"),
        _("a call to keras.applications"),
        advice,
    )


def probe_model(task, build, input_shape, what, hint=None):
    """Call ``build(inputs)`` on a fresh Input and wrap the result in a model, with clear failures."""
    import keras

    inputs = keras.Input(input_shape)
    output = task.call(build, (inputs,), what=what, hint=hint)
    task.keras_tensor(output, what)
    try:
        return keras.Model(inputs, output)
    except Exception as err:
        task.fail(
            _("{what}: its output cannot be made into a model").format(what=what),
            got=first_line(err),
            hint=error_hint(err),
        )
