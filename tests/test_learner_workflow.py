"""A learner's work is never lost: exercise copies, the history of work/, and `make update`.

The scenario tests play a learner in a temporary clone of the course whose
upstream is another temporary clone, with the learner commands of this working
tree committed upstream first; checksums prove what was kept.
"""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_tool

learner = load_tool("learner")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@localhost",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@localhost",
}
LEARNER_TOOLS = ["Makefile", "tools/learner.py", "tools/find_python.sh"]


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(*command, cwd, check=True):
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=120
    )
    if check:
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result


def edit(path, text):
    """Append `text` to a file, as saving a changed notebook would change it."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


# -- exercise copies ------------------------------------------------------------------------
@pytest.fixture
def folders(tmp_path):
    exercises, work = tmp_path / "exercises", tmp_path / "work"
    exercises.mkdir()
    (exercises / "01_a.ipynb").write_text("version 1")
    (exercises / "02_b.ipynb").write_text("version 1")
    return exercises, work


def test_first_copies_then_nothing_to_do(folders):
    exercises, work = folders
    assert learner.sync_copies(exercises, work) == [
        f"new exercise copy: {work}/01_a.ipynb",
        f"new exercise copy: {work}/02_b.ipynb",
    ]
    assert (work / "01_a.ipynb").read_text() == "version 1"
    assert learner.sync_copies(exercises, work) == []


def test_an_updated_exercise_replaces_an_unchanged_copy_and_arrives_beside_an_edited_one(folders):
    exercises, work = folders
    learner.sync_copies(exercises, work)
    edit(work / "02_b.ipynb", " + my answer")
    mine = sha(work / "02_b.ipynb")
    (exercises / "01_a.ipynb").write_text("version 2")
    (exercises / "02_b.ipynb").write_text("version 2")
    lines = learner.sync_copies(exercises, work)
    assert (work / "01_a.ipynb").read_text() == "version 2", "an untouched copy simply takes the new version"
    assert sha(work / "02_b.ipynb") == mine, "the learner's copy is never overwritten"
    assert (work / "02_b.updated.ipynb").read_text() == "version 2"
    assert any("02_b.ipynb changed upstream: the new version is" in line and "untouched" in line for line in lines)
    assert learner.sync_copies(exercises, work) == [], "offered once, not at every make lab"


def test_an_updated_copy_the_learner_edited_is_not_overwritten_by_the_next_version(folders):
    exercises, work = folders
    learner.sync_copies(exercises, work)
    edit(work / "01_a.ipynb", " + mine")
    (exercises / "01_a.ipynb").write_text("version 2")
    learner.sync_copies(exercises, work)
    edit(work / "01_a.updated.ipynb", " + merged by hand")
    merged = sha(work / "01_a.updated.ipynb")
    (exercises / "01_a.ipynb").write_text("version 3")
    learner.sync_copies(exercises, work)
    assert sha(work / "01_a.updated.ipynb") == merged
    assert (work / "01_a.updated-2.ipynb").read_text() == "version 3"
    (exercises / "01_a.ipynb").write_text("version 4")  # an offered copy left untouched is refreshed in place
    learner.sync_copies(exercises, work)
    assert (work / "01_a.updated-2.ipynb").read_text() == "version 4" and not (work / "01_a.updated-3.ipynb").exists()


def test_a_deleted_copy_is_copied_afresh_and_copies_older_than_the_manifest_are_adopted(folders):
    exercises, work = folders
    work.mkdir()
    (work / "01_a.ipynb").write_text("made before the manifest existed")
    learner.sync_copies(exercises, work)
    assert (work / "01_a.ipynb").read_text() == "made before the manifest existed"
    (work / "02_b.ipynb").unlink()
    assert learner.sync_copies(exercises, work) == [f"new exercise copy: {work}/02_b.ipynb"]
    assert json.loads((work / learner.MANIFEST).read_text())["01_a.ipynb"]["base"] == sha(exercises / "01_a.ipynb")


def test_save_keeps_a_history_of_work(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "01_a.ipynb").write_text("first try")
    assert learner.save(work, "first try")
    assert learner.save(work, "nothing changed") is None
    (work / "01_a.ipynb").write_text("second try")
    learner.save(work, "second try")
    log = run("git", "log", "--format=%s", cwd=work).stdout.split("\n")
    assert log[:2] == ["second try", "first try"]
    assert run("git", "show", "HEAD~1:01_a.ipynb", cwd=work).stdout == "first try"


# -- make update, as a learner runs it --------------------------------------------------------
@pytest.fixture
def course(tmp_path):
    """(upstream, clone): the course upstream with this tree's learner commands, and a learner's clone."""
    upstream, clone = tmp_path / "upstream", tmp_path / "clone"
    run("git", "clone", "--quiet", str(ROOT), str(upstream), cwd=tmp_path)
    for name in LEARNER_TOOLS:
        shutil.copy2(ROOT / name, upstream / name)
    run("git", "add", *LEARNER_TOOLS, cwd=upstream)
    run("git", "commit", "--quiet", "--allow-empty", "-m", "the learner commands under test", cwd=upstream)
    run("git", "clone", "--quiet", str(upstream), str(clone), cwd=tmp_path)
    return upstream, clone


def upstream_change(upstream, *paths):
    for path in paths:
        edit(upstream / path, "\n")  # still valid JSON for a notebook: trailing whitespace
    run("git", "commit", "--quiet", "-am", f"upstream changes {', '.join(paths)}", cwd=upstream)


def make(target, clone, *args, check=True):
    return run("make", "--no-print-directory", "-s", target, *args, cwd=clone, check=check)


WALKTHROUGH, EXERCISE = "notebooks/01_convolution.ipynb", "09_densenet.ipynb"


def test_a_learners_update_keeps_everything_and_brings_the_new_exercise(course):
    upstream, clone = course
    make("work", clone)  # what make lab does before it starts JupyterLab
    edit(clone / WALKTHROUGH, "\n ")  # the learner ran a walkthrough; JupyterLab saved it
    edit(clone / "work" / EXERCISE, "\n  ")  # and answered in an exercise
    make("save", clone, "MESSAGE=my answers to 09")
    edit(clone / "work" / EXERCISE, "\n   ")  # and went on after saving
    ran, answered = sha(clone / WALKTHROUGH), sha(clone / "work" / EXERCISE)
    assert run("git", "pull", cwd=clone, check=False).returncode == 0  # nothing upstream yet
    upstream_change(upstream, WALKTHROUGH, f"exercises/{EXERCISE}")
    assert run("git", "pull", cwd=clone, check=False).returncode != 0, "plain git pull is blocked (the finding)"

    out = make("update", clone).stdout
    new_head = run("git", "rev-parse", "HEAD", cwd=upstream).stdout
    assert run("git", "rev-parse", "HEAD", cwd=clone).stdout == new_head
    assert sha(clone / WALKTHROUGH) == sha(upstream / WALKTHROUGH), "the walkthrough is the new version"
    kept = list((clone / "work" / "kept").glob(f"*/{WALKTHROUGH}"))
    assert len(kept) == 1 and sha(kept[0]) == ran, "the run walkthrough is kept aside, byte for byte"
    assert sha(clone / "work" / EXERCISE) == answered, "the learner's exercise is untouched"
    updated = clone / "work" / "09_densenet.updated.ipynb"
    assert sha(updated) == sha(upstream / "exercises" / EXERCISE), "the new exercise arrived beside it"
    assert "09_densenet.ipynb changed upstream" in out and "kept in" in out
    history = run("git", "log", "--format=%s", cwd=clone / "work").stdout
    assert "my answers to 09" in history and "before updating the course" in history
    assert run("git", "status", "--porcelain", cwd=clone).stdout == "", "the clone is clean after the update"
    assert "already up to date" in make("update", clone).stdout


def test_local_commits_that_conflict_are_kept_on_a_backup_branch(course):
    upstream, clone = course
    mine_text = (clone / WALKTHROUGH).read_text().replace('"cells"', '"cells"  ', 1)
    (clone / WALKTHROUGH).write_text(mine_text)
    run("git", "commit", "--quiet", "-am", "my notes in the walkthrough", cwd=clone)  # the old advice
    mine = run("git", "rev-parse", "HEAD", cwd=clone).stdout.strip()
    (upstream / WALKTHROUGH).write_text((upstream / WALKTHROUGH).read_text().replace('"cells"', '"cells" ', 1))
    run("git", "commit", "--quiet", "-am", "upstream edits the same lines", cwd=upstream)
    out = make("update", clone).stdout
    assert "kept on the branch backup/main-" in out
    backups = run("git", "branch", "--list", "backup/*", "--format=%(objectname)", cwd=clone).stdout.split()
    assert backups == [mine]
    assert sha(clone / WALKTHROUGH) == sha(upstream / WALKTHROUGH)


def test_work_committed_in_the_course_repository_is_refused_without_changing_anything(course):
    upstream, clone = course
    (clone / "work").mkdir()  # a copy made by the old make lab, which kept no history of work/
    shutil.copy2(clone / "exercises" / EXERCISE, clone / "work" / EXERCISE)
    run("git", "add", "-f", f"work/{EXERCISE}", cwd=clone)
    run("git", "commit", "--quiet", "-m", "my answers (the old advice)", cwd=clone)
    before = run("git", "rev-parse", "HEAD", cwd=clone).stdout
    result = make("update", clone, check=False)
    assert result.returncode != 0 and "git rm -r --cached work" in result.stderr
    assert run("git", "rev-parse", "HEAD", cwd=clone).stdout == before and (clone / "work" / EXERCISE).exists()


def test_an_unreachable_upstream_changes_nothing(course):
    upstream, clone = course
    edit(clone / WALKTHROUGH, "\n ")
    ran = sha(clone / WALKTHROUGH)
    shutil.rmtree(upstream)
    result = make("update", clone, check=False)
    assert result.returncode != 0 and "could not reach the course's repository" in result.stderr
    assert sha(clone / WALKTHROUGH) == ran
