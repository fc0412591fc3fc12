"""Settings for every pytest run of the course: unit tests and nbval alike.

- HOME, KERAS_HOME, MPLCONFIGDIR and IPYTHONDIR point at a fresh temporary folder,
  for this process and the notebook kernels it starts, so a run reads no
  personal settings and leaves nothing behind (``import keras`` writes
  ``~/.keras/keras.json``).
- nbval does not compare stderr: TensorFlow writes warnings there that differ
  between a Jupyter and an nbval run. stdout and displayed results are compared.
- The walkthroughs run first, the short solutions last, so that the two test processes finish together.
"""

import os
import shutil
import tempfile

_HOME = None


def pytest_configure(config):
    global _HOME
    _HOME = tempfile.mkdtemp(prefix="cnn-course-test-home-")
    for variable, sub in [
        ("HOME", ""),
        ("KERAS_HOME", ".keras"),
        ("MPLCONFIGDIR", "matplotlib"),
        ("IPYTHONDIR", "ipython"),
    ]:
        path = os.path.join(_HOME, sub)
        os.makedirs(path, exist_ok=True)
        os.environ[variable] = path
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def pytest_unconfigure(config):
    if _HOME:
        shutil.rmtree(_HOME, ignore_errors=True)


def _scheduling_rank(item):
    """Walkthroughs (the longest files) first, then the tests, then the shorter solutions and the rest."""
    path = str(item.path.relative_to(item.config.rootpath))
    return 0 if path.startswith("notebooks/") else 1 if path.startswith("tests/") else 2


def pytest_collection_modifyitems(session, config, items):
    # pytest-xdist hands out whole files in this order: long ones first leave no long one for the end,
    # when the other process would wait idle. A stable sort keeps each file's cells in their order.
    items.sort(key=_scheduling_rank)
    for item in items:
        parent = item.parent
        if hasattr(parent, "skip_compare") and "stderr" not in parent.skip_compare:
            parent.skip_compare = (*parent.skip_compare, "stderr")
