"""Give every notebook an "Open in Colab" badge and a first cell that installs the course there.

    python tools/colab.py            (or: make colab)

The repository the badges and the install cell point to is set once, in
pyproject.toml under [tool.cnn_course] repository = "OWNER/NAME"; a fork changes
it there and runs this again. Both point at the release tag of the package's
version (`v` + [project] version), so a notebook opened on Colab and the helper
package installed there come from the same commit: tag each release
(`git tag v0.2.0 && git push --tags`) after bumping the version and running this.

Walkthroughs and solutions are updated in place, only these two cells and only
their source (a stored execution count or output is kept, so a second run
changes nothing); exercises get theirs from their solution through `make exercises`.
"""

import sys
import tomllib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
BADGE_MARK = "colab-badge.svg"
INSTALL_MARK = '"google.colab" in sys.modules'


def _pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


def repository(root=ROOT):
    return _pyproject(root)["tool"]["cnn_course"]["repository"]


def release(root=ROOT):
    """The git tag of this version of the course: 'v' + pyproject's [project] version."""
    return "v" + _pyproject(root)["project"]["version"]


def badge(repo, ref, folder, name):
    url = f"https://colab.research.google.com/github/{repo}/blob/{ref}/{folder}/{name}"
    return f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def install_source(repo, ref):
    return (
        "# On Google Colab, install the course's helper package (the release this notebook belongs to) first;\n"
        "# anywhere else this cell does nothing.\n"
        "import sys\n\n"
        f"if {INSTALL_MARK}:\n"
        f'    %pip install --quiet "cnn-course @ git+https://github.com/{repo}@{ref}"'
    )


def _kept_or_new(cells, mark, source, new_cell):
    """The existing cell carrying `mark` with its source set to `source` (outputs kept), or a new cell."""
    existing = next((c for c in cells if mark in c.source), None)
    if existing is None:
        return new_cell(source)
    existing.source = source
    return existing


def with_colab_cells(nb, repo, ref, folder, name):
    """The notebook with its badge cell and install cell added or brought up to date."""
    badge_cell = _kept_or_new(
        nb.cells, BADGE_MARK, badge(repo, ref, folder, name), lambda s: new_markdown_cell(s, id="colab-badge")
    )
    install_cell = _kept_or_new(
        nb.cells, INSTALL_MARK, install_source(repo, ref), lambda s: new_code_cell(s, id="colab-install")
    )
    cells = [c for c in nb.cells if c is not badge_cell and c is not install_cell]
    first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    cells.insert(first_code, install_cell)
    cells.insert(0, badge_cell)
    nb.cells = cells
    return nb


def main():
    repo, ref = repository(), release()
    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            before = nbformat.writes(nb)
            after = nbformat.writes(with_colab_cells(nb, repo, ref, folder, path.name))
            if after != before:
                path.write_text(after + "\n", encoding="utf-8")
                print(f"updated {folder}/{path.name}")
    print(f"badges and install cells point to github.com/{repo} at {ref}")


if __name__ == "__main__":
    sys.exit(main())
