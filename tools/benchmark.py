"""Time every walkthrough and solution in full and FAST mode; write docs/benchmark.md.

    python tools/benchmark.py                              (or: make benchmark)
    python tools/benchmark.py notebooks/07_resnet.ipynb    re-measure some; keep the other rows

Each run executes a copy of the notebook in a fresh process (nothing is written
back) and records the wall time, the kernel's peak resident memory and, for a
solution, its slowest check cell (nbclient's cell timings). The budgets
(DESIGN.md): a walkthrough in full mode within 3 minutes and 3 GB; a check cell
within 10 s.
"""

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "solutions")
BUDGET_SECONDS, BUDGET_MB, CHECK_BUDGET_SECONDS = 180, 3072, 10
CHECKS_HEADING = "## Check cells"
KEPT_NOTE = "; rows of notebooks not re-measured that day come from an earlier run."


def slowest_check(nb):
    """(seconds, source) of the slowest check cell of an executed notebook, or None if it has none."""
    from cnn_course.authoring import is_check_cell

    timed = []
    for cell in nb.cells:
        timing = cell.metadata.get("execution", {})
        if is_check_cell(cell) and "iopub.status.idle" in timing:
            start = datetime.datetime.fromisoformat(timing["iopub.status.busy"])
            end = datetime.datetime.fromisoformat(timing["iopub.status.idle"])
            timed.append(((end - start).total_seconds(), cell.source.strip()))
    return max(timed) if timed else None


def measure_one(path, mode):
    """Run one notebook (in this process's child kernel) and print its time and the kernel's peak memory."""
    sys.path.insert(0, str(ROOT / "tools"))
    from run_notebooks import run

    nb, seconds = run(Path(path), fast=(mode == "fast"))
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel, after it has exited
    check = slowest_check(nb)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "peak_mb": round(peak_kb / 1024),
                "slowest_check": check and [round(check[0], 1), check[1]],
            }
        )
    )


def measure(path, mode):
    result = subprocess.run(
        [sys.executable, __file__, "--one", str(path), mode], capture_output=True, text=True, cwd=ROOT
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["(no message)"]
        return {"seconds": None, "peak_mb": None, "error": tail[0]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def versions():
    """TensorFlow's and Keras's versions and the number of GPUs TensorFlow sees."""
    code = (
        "import tensorflow as tf, keras; "
        "print(tf.__version__, keras.__version__, len(tf.config.list_physical_devices('GPU')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    return (out.stdout.strip().split() or ["?", "?", "?"])[-3:]


def earlier_rows():
    """The rows of the current docs/benchmark.md's two tables, as written, by notebook."""
    path = ROOT / "docs" / "benchmark.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    runs, _, checks = text.partition(CHECKS_HEADING)

    def rows(part):
        return {
            line.split(" | ")[0][2:]: line
            for line in part.splitlines()
            if line.startswith("| notebooks/") or line.startswith("| solutions/")
        }

    return rows(runs), rows(checks)


def main(args):
    everything = [p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.ipynb"))]
    chosen = {Path(a).resolve() for a in args} or set(everything)
    kept, kept_checks = earlier_rows()
    rows, check_rows = [], []
    for path in everything:
        name = f"{path.parent.name}/{path.name}"
        if path not in chosen:
            rows += [kept[name]] if name in kept else []
            check_rows += [kept_checks[name]] if name in kept_checks else []
            continue
        full, fast = measure(path, "full"), measure(path, "fast")
        rows.append((name, full, fast))
        if full.get("slowest_check"):
            seconds, source = full["slowest_check"]
            ok = "yes" if seconds <= CHECK_BUDGET_SECONDS else "**no**"
            check_rows.append(f"| {name} | `{source}` | {seconds:,} s | {ok} |")
        print(f"{name}: full {full}, FAST {fast}", flush=True)
    tf_version, keras_version, gpus = versions()
    lines = [
        "# Benchmark: every notebook in full and FAST mode",
        "",
        f"Measured {datetime.date.today().isoformat()} by `make benchmark` on {platform.machine()}, "
        f"{os.cpu_count()} CPU cores, {'no' if gpus == '0' else gpus} GPU; Python {platform.python_version()}, "
        f"TensorFlow {tf_version}, Keras {keras_version}{KEPT_NOTE if len(chosen) < len(everything) else '.'}",
        "Wall time of a top-to-bottom run in a fresh kernel (kernel start and imports included), and the kernel's "
        f"peak resident memory. Budget for a walkthrough in full mode: {BUDGET_SECONDS // 60} minutes and "
        f"{BUDGET_MB // 1024} GB.",
        "",
        "| notebook | full: time | full: peak memory | FAST: time | FAST: peak memory | within budget |",
        "|---|---:|---:|---:|---:|:---:|",
    ]

    def cell(run, key, unit):
        return run.get("error", "failed") if run.get(key) is None else f"{run[key]:,} {unit}"

    for row in rows:
        if isinstance(row, str):  # kept from the earlier run
            lines.append(row)
            continue
        name, full, fast = row
        ok = full.get("seconds") is not None and full["seconds"] <= BUDGET_SECONDS and full["peak_mb"] <= BUDGET_MB
        lines.append(
            f"| {name} | {cell(full, 'seconds', 's')} | {cell(full, 'peak_mb', 'MB')} "
            f"| {cell(fast, 'seconds', 's')} | {cell(fast, 'peak_mb', 'MB')} | {'yes' if ok else '**no**'} |"
        )
    lines += [
        "",
        CHECKS_HEADING,
        "",
        "The slowest check cell of each solution in its full-mode run above (the check of the solution's own answer; "
        f"budget {CHECK_BUDGET_SECONDS} s).",
        "",
        "| solution | slowest check cell | time | within budget |",
        "|---|---|---:|:---:|",
        *check_rows,
    ]
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmark.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("wrote docs/benchmark.md")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        measure_one(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1:])
