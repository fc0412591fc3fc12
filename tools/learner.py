"""The learner's side of the course: exercise copies, a history of answers, safe updates.

    python tools/learner.py copies [--work work] [--lang ja]   (make lab [COURSE_LANG=ja] runs this)
    python tools/learner.py save [MESSAGE]            (make save)
    python tools/learner.py update                    (make update)

`work/` holds the learner's copies of the exercises. It is ignored by the course's
git repository and is a small git repository of its own, so that its history
survives any branch switch, pull or reset of the course. Nothing here ever
overwrites a file the learner changed:

- copies: copies each exercise the learner does not have yet. When an exercise
  changed upstream since the learner's copy was made, an unchanged copy is
  replaced, and an edited one gets the new version beside it
  (`work/09_densenet.updated.ipynb`), with one line saying so. `--lang ja` copies
  the Japanese edition's exercises (ja/exercises/) instead; where the learner already
  has the other language's copy of a unit, the new one comes beside it
  (`work/09_densenet.ja.ipynb`).
- save: commits everything in work/ to its history (make lab and make update
  also commit a snapshot before they change anything).
- update: brings the course up to date with its upstream whatever the learner
  ran or edited: course files the learner changed (a walkthrough run in
  JupyterLab saves its outputs) are first kept in work/kept/<time>/, then the
  course is fast-forwarded or merged; local commits that conflict are kept on a
  backup branch. Needs only Python and git.
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".course-exercises.json"  # in work/: which version of each exercise the learner's copy started from
KEPT = "kept"  # in work/: course files the learner had changed, kept aside by `update`
EXERCISES = {"en": Path("exercises"), "ja": Path("ja") / "exercises"}  # the exercises of each language


class LearnerError(Exception):
    """Something the learner must do first; its message says what, in one sentence."""


# -- exercise copies ------------------------------------------------------------------
def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_manifest(work):
    path = work / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _write_manifest(work, manifest):
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _free_name(work, stem):
    """work/<stem>.updated.ipynb, or .updated-2, -3, ... when the learner has made that name their own."""
    for n in range(1, 1000):
        candidate = work / (f"{stem}.updated.ipynb" if n == 1 else f"{stem}.updated-{n}.ipynb")
        if not candidate.exists():
            return candidate
    raise LearnerError(f"too many {stem}.updated-N.ipynb files in {work}/: delete the ones you no longer need")


def languages(work):
    """The languages of the learner's copies in work/ (English when there are none yet)."""
    return sorted({entry.get("lang", "en") for entry in _read_manifest(work).values()}) or ["en"]


def sync_copies(exercises, work, record_only=False, lang="en"):
    """Bring work/ in step with exercises/ (in `lang`) without overwriting anything the learner changed.

    Returns one line per thing that happened. With `record_only`, copies already in
    work/ that the manifest does not know yet are recorded as made from the current
    exercise, and nothing is copied (update does this before it pulls).
    """
    work.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(work)
    lines = []
    for source in sorted(exercises.glob("*.ipynb")):
        name, current = source.name, digest(source)
        other = manifest.get(name)
        if other is not None and other.get("lang", "en") != lang:  # the other language's copy keeps its name
            name = f"{source.stem}.{lang}.ipynb"
        target, entry = work / name, manifest.get(name)
        if not target.exists():
            if not record_only:
                shutil.copy2(source, target)
                manifest[name] = {"base": current, "base_copy": current, "lang": lang}
                beside = (
                    f" (beside your {other.get('lang', 'en')} copy {work / source.name})" if name != source.name else ""
                )
                lines.append(f"new exercise copy: {target}{beside}")
            continue
        if entry is None:  # a copy made before the manifest existed: assume it started from this version
            manifest[name] = {"base": current, "base_copy": digest(target), "lang": lang}
            continue
        if record_only or current == entry.get("offered", entry["base"]):
            continue
        if digest(target) == entry["base_copy"]:  # the learner never changed it: take the new version
            shutil.copy2(source, target)
            manifest[name] = {"base": current, "base_copy": current, "lang": lang}
            lines.append(f"updated {target} to the new version (you had not changed your copy)")
            continue
        offered = work / entry["offered_as"] if "offered_as" in entry else None
        if offered is None or not offered.exists() or digest(offered) != entry["offered"]:
            offered = _free_name(work, Path(name).stem)
        shutil.copy2(source, offered)
        entry.update(offered=current, offered_as=offered.name)
        lines.append(f"{source} changed upstream: the new version is {offered}; your {target} is untouched")
    _write_manifest(work, manifest)
    return lines


# -- the history of work/ ---------------------------------------------------------------
def git(*args, cwd, check=True):
    """Run git; on failure raise LearnerError with git's first line."""
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise LearnerError("git is not installed: install it (e.g. `apt install git`) and run this again") from None
    if check and result.returncode != 0:
        first = (result.stderr.strip() or result.stdout.strip() or "no message").splitlines()[0]
        raise LearnerError(f"`git {' '.join(args)}` failed in {cwd}: {first}")
    return result


def _identity(cwd):
    """-c options giving git a name and e-mail when the learner has not configured one."""
    if git("config", "user.email", cwd=cwd, check=False).stdout.strip():
        return []
    return ["-c", "user.name=Course learner", "-c", "user.email=learner@localhost"]


def save(work, message):
    """Commit everything in work/ to its own history; returns the commit's short id, or None if nothing changed."""
    work.mkdir(parents=True, exist_ok=True)
    if not (work / ".git").exists():
        git("init", "--quiet", cwd=work)
    git("add", "--all", ".", cwd=work)
    if git("diff", "--cached", "--quiet", cwd=work, check=False).returncode == 0:
        return None
    git(*_identity(work), "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message, cwd=work)
    return git("rev-parse", "--short", "HEAD", cwd=work).stdout.strip()


# -- updating the course ------------------------------------------------------------------
def _upstream(root):
    found = git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", cwd=root, check=False)
    return found.stdout.strip() if found.returncode == 0 else "origin/main"


def _changed_course_files(root, upstream):
    """Tracked files the learner changed, and untracked files that the update would overwrite."""
    status = git("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=root).stdout.split("\0")
    changed, untracked = [], []
    for entry in filter(None, status):
        code, path = entry[:2], entry[3:]
        (untracked if code == "??" else changed).append(path)
    incoming = set(git("diff", "--name-only", "HEAD", upstream, cwd=root).stdout.split())
    return changed, [p for p in untracked if p in incoming]


def _keep_aside(root, work, paths, stamp):
    """Copy each path into work/kept/<stamp>/ (same relative path); returns that folder."""
    folder = work / KEPT / stamp
    for path in paths:
        source = root / path
        if source.is_file():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / path)
    return folder


def update(root, work, now=None):
    """Bring the course up to date; returns the lines to show. Nothing the learner wrote or ran is lost."""
    stamp = (now or datetime.datetime.now()).strftime("%Y-%m-%d_%H%M%S")
    if git("ls-files", "--", work.name, cwd=root).stdout.strip():
        raise LearnerError(
            f"{work.name}/ has files committed in the course repository (the old advice); nothing was changed:"
            f" run `git rm -r --cached {work.name} && git commit -m 'untrack my work'` first (your files stay on disk)"
        )
    if any((root / ".git" / marker).exists() for marker in ("MERGE_HEAD", "rebase-merge", "rebase-apply")):
        raise LearnerError("a git merge or rebase is in progress: finish it or run `git merge --abort` first")
    for lang in languages(work):
        sync_copies(root / EXERCISES[lang], work, record_only=True, lang=lang)
    save(work, "before updating the course")
    upstream = _upstream(root)
    remote = upstream.split("/")[0]
    fetched = git("fetch", "--quiet", remote, cwd=root, check=False)
    if fetched.returncode != 0:
        first = (fetched.stderr.strip() or "no message").splitlines()[0]
        raise LearnerError(f"could not reach the course's repository ({first}); nothing was changed")
    lines = []
    changed, in_the_way = _changed_course_files(root, upstream)
    if changed or in_the_way:
        folder = _keep_aside(root, work, changed + in_the_way, stamp)
        save(work, f"course files kept aside before the update: {', '.join(changed + in_the_way)}")
        git("reset", "--quiet", "--hard", "HEAD", cwd=root)
        for path in in_the_way:
            (root / path).unlink()
        shown = ", ".join(changed + in_the_way)
        lines.append(f"you had run or changed {len(changed + in_the_way)} course file(s); kept in {folder}/: {shown}")
    before = git("rev-parse", "--short", "HEAD", cwd=root).stdout.strip()
    if git("merge-base", "--is-ancestor", "HEAD", upstream, cwd=root, check=False).returncode == 0:
        git("merge", "--quiet", "--ff-only", upstream, cwd=root)
    elif git(*_identity(root), "merge", "--quiet", "--no-edit", upstream, cwd=root, check=False).returncode != 0:
        git("merge", "--abort", cwd=root, check=False)
        branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=root).stdout.strip()
        backup = f"backup/{branch}-{stamp}"
        git("branch", backup, cwd=root)
        git("reset", "--quiet", "--hard", upstream, cwd=root)
        lines.append(f"your own commits conflicted with the update: they are kept on the branch {backup}")
    after = git("rev-parse", "--short", "HEAD", cwd=root).stdout.strip()
    for lang in languages(work):
        lines += sync_copies(root / EXERCISES[lang], work, lang=lang)
    save(work, f"after updating the course to {after}")
    news = f"updated the course from {before} to {after}" if after != before else "the course was already up to date"
    return [news, *lines]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="work", help="the learner's folder (default: work)")
    commands = parser.add_subparsers(dest="command", required=True)
    copying = commands.add_parser("copies", help="copy new exercises into work/ and offer updated ones (make lab)")
    copying.add_argument("--lang", default="en", help="en, or ja for the Japanese edition (make lab COURSE_LANG=ja)")
    saving = commands.add_parser("save", help="commit work/ to its own history (make save)")
    saving.add_argument("message", nargs="?", default="my answers")
    commands.add_parser("update", help="bring the course up to date, keeping everything you ran or wrote")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # paths in messages read relative to the course's folder
    work = Path(args.work)
    try:
        if args.command == "copies":
            if args.lang not in EXERCISES:
                raise LearnerError(f"COURSE_LANG={args.lang}: the course comes in en (English) and ja (日本語)")
            for line in sync_copies(ROOT / EXERCISES[args.lang], work, lang=args.lang):
                print(line)
            try:
                save(work, "snapshot when the course was opened")
            except LearnerError as err:  # no history is no reason to keep the learner from the course
                print(f"(no history of your answers: {err})")
            total = len(list(work.glob("*.ipynb")))
            print(f"Your exercises are in {args.work}/ ({total} notebooks); nothing there is ever overwritten.")
        elif args.command == "save":
            commit = save(work, args.message)
            print(f"saved {args.work}/ as {commit}" if commit else f"nothing new in {args.work}/ since the last save")
            print(f"your history: git -C {args.work} log --stat")
        else:
            for line in update(Path("."), work):
                print(line)
    except LearnerError as err:
        print(f"make {args.command if args.command != 'copies' else 'lab'}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
