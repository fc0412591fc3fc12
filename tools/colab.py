"""Give every notebook an "Open in Colab" badge and a first cell that installs the course there.

    python tools/colab.py            (or: make colab)

The repository the badges and the install cell point to is set once, in
pyproject.toml under [tool.cnn_course] repository = "OWNER/NAME"; a fork changes
it there and runs this again. Walkthroughs and solutions are updated in place
(only these two cells; run `make notebooks` afterwards to refresh the stored
outputs); exercises get theirs from their solution through `make exercises`.
"""

import sys
import tomllib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
BADGE_MARK = "colab-badge.svg"
INSTALL_MARK = '"google.colab" in sys.modules'


def repository(root=ROOT):
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["cnn_course"]["repository"]


def badge(repo, folder, name):
    url = f"https://colab.research.google.com/github/{repo}/blob/main/{folder}/{name}"
    return f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def install_source(repo):
    return (
        "# On Google Colab, install the course's helper package first; anywhere else this cell does nothing.\n"
        "import sys\n\n"
        f"if {INSTALL_MARK}:\n"
        f'    %pip install --quiet "cnn-course @ git+https://github.com/{repo}"'
    )


def with_colab_cells(nb, repo, folder, name):
    """The notebook with its badge cell and install cell added or brought up to date."""
    cells = [c for c in nb.cells if not (BADGE_MARK in c.source or INSTALL_MARK in c.source)]
    first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    cells.insert(first_code, new_code_cell(install_source(repo), id="colab-install"))
    cells.insert(0, new_markdown_cell(badge(repo, folder, name), id="colab-badge"))
    nb.cells = cells
    return nb


def main():
    repo = repository()
    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            before = nbformat.writes(nb)
            after = nbformat.writes(with_colab_cells(nb, repo, folder, path.name))
            if after != before:
                path.write_text(after + "\n", encoding="utf-8")
                print(f"updated {folder}/{path.name}")
    print(f"badges and install cells point to github.com/{repo}")


if __name__ == "__main__":
    sys.exit(main())
