"""Throughput of ``mbgd grade`` against running the notebooks unsafely with nbclient.

Grades N copies of submissions (half fully correct, half partly wrong, taken from
``tests/submissions/``) against ``solutions/part1_principles.ipynb`` with ``-j``
workers, and prints submissions graded per minute (goal: >= 30 per minute with
``-j 2`` on 2 cores). For comparison it executes some of the same notebooks the
simplest unsafe way: nbclient running each notebook in a Jupyter kernel, in the
instructor's own account, with no sandbox, no limits and no grading at all. The
ratio of the two per-submission times is what isolation and grading cost.

Run: .venv/bin/python benchmarks/grading.py [--copies 20] [--jobs 2] [--unsafe 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "part1_principles.ipynb"
KINDS = [ROOT / "tests" / "submissions" / n for n in ("correct.ipynb", "wrong.ipynb")]


def unsafe_seconds(paths: list[Path]) -> list[float]:
    """Wall time of nbclient executing each notebook in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    times = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        client = NotebookClient(nb, kernel_name="python3", timeout=120,
                                allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError:
            pass
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--unsafe", type=int, default=4,
                        help="notebooks to execute with nbclient (default 4)")
    args = parser.parse_args()
    os.environ["MBGD_PROGRESS"] = "0"
    os.environ.setdefault("JUPYTER_PATH", str(ROOT / ".venv" / "share" / "jupyter"))

    from mbgd.grading import grade

    with tempfile.TemporaryDirectory(prefix="mbgd-bench-") as tmp:
        subs = []
        for i in range(args.copies):
            path = Path(tmp) / "in" / f"student{i:03d}.ipynb"
            path.parent.mkdir(exist_ok=True)
            shutil.copy(KINDS[i % 2], path)
            subs.append(path)
        start = time.perf_counter()
        rows = grade(SOLUTION, subs, Path(tmp) / "out", jobs=args.jobs,
                     progress=False)
        seconds = time.perf_counter() - start
        statuses = sorted({r.status for r in rows})
        note = (Path(tmp) / "out" / "gradebook.csv").read_text().splitlines()[1]
        sandbox = note.rsplit(",", 1)[1]
        unsafe = unsafe_seconds(subs[: args.unsafe])

    per_sub = seconds * args.jobs / len(rows)
    print(f"mbgd grade, {len(rows)} submissions (half correct, half partly wrong), "
          f"-j {args.jobs}, sandbox {sandbox}, statuses {statuses}:")
    print(f"  {seconds:6.1f} s in all (solution run and sandbox probe included) "
          f"-> {60 * len(rows) / seconds:5.1f} submissions per minute (goal >= 30)")
    print(f"  {per_sub:6.2f} s of worker time per submission")
    print(f"unsafe: nbclient, one kernel per notebook, no sandbox, no grading "
          f"({len(unsafe)} notebooks, one at a time):")
    median = statistics.median(unsafe)
    print(f"  {median:6.2f} s per notebook (median)")
    print(f"isolation and grading cost: {per_sub / median:.2f}x the unsafe run's "
          "time per submission")


if __name__ == "__main__":
    main()
