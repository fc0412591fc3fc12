"""Settings for every pytest run of the course: unit tests and nbval alike.

- HOME, KERAS_HOME, MPLCONFIGDIR and IPYTHONDIR point at a fresh temporary folder,
  for this process and the notebook kernels it starts, so a run reads no
  personal settings and leaves nothing behind (``import keras`` writes
  ``~/.keras/keras.json``).
- nbval does not compare stderr: TensorFlow writes warnings there that differ
  between a Jupyter and an nbval run. stdout and displayed results are compared.
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


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        parent = item.parent
        if hasattr(parent, "skip_compare") and "stderr" not in parent.skip_compare:
            parent.skip_compare = (*parent.skip_compare, "stderr")
