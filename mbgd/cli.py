"""The ``mbgd`` command: ``mbgd release`` and ``mbgd grade``.

``mbgd release SOLUTION.ipynb... --out exercises/`` writes the student notebooks
(:func:`mbgd.exercises.release`). ``mbgd grade SOLUTION.ipynb SUBMISSION...
--out DIR`` grades submitted notebooks (:func:`mbgd.grading.grade`); a
submission given as a folder stands for the ``*.ipynb`` files in it.

>>> main(["release", "--help"])  # doctest: +ELLIPSIS
usage: mbgd release [-h] --out DIR SOLUTION [SOLUTION ...]
...
0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mbgd", description="Exercise notebooks of the mbgd course.")
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write student notebooks from solutions")
    rel.add_argument("solutions", nargs="+", metavar="SOLUTION")
    rel.add_argument("--out", required=True, metavar="DIR",
                     help="folder of the student notebooks (e.g. exercises/)")
    gra = sub.add_parser("grade", help="grade submitted notebooks")
    gra.add_argument("solution", metavar="SOLUTION")
    gra.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                     help="notebooks, or folders of notebooks")
    gra.add_argument("--out", required=True, metavar="DIR",
                     help="a new or empty folder: gradebook.csv, feedback/ and "
                     "grading.json go here")
    gra.add_argument("-j", "--jobs", type=_number(int, 1), default=1, metavar="N",
                     help="submissions graded in parallel (default 1)")
    gra.add_argument("--extra-cases", metavar="FILE",
                     help="JSON file of instructor-only cases")
    gra.add_argument("--timeout", type=_number(float, 0), default=120.0,
                     metavar="S",
                     help="wall-clock seconds per submission (default 120)")
    gra.add_argument("--call-timeout", type=_number(float, 0), default=20.0,
                     metavar="S",
                     help="seconds per cell and per graded call (default 20)")
    gra.add_argument("--memory", type=_number(int, 256), default=2048, metavar="MB",
                     help="address-space limit per submission (default 2048)")
    gra.add_argument("--seed", type=_number(int, 0), default=None,
                     help="seed of the grading cases (default: drawn now)")
    gra.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                     help="auto: bubblewrap when it works here (default)")
    gra.add_argument("--no-progress", action="store_true",
                     help="no progress bar")
    return parser


def _number(kind: type, low: float):
    """An argparse type: an int ``>= low``, or a finite float ``> low``."""
    rule = f"an int >= {low}" if kind is int else f"a number > {low}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        ok = value is not None and (value >= low if kind is int
                                    else math.isfinite(value) and value > low)
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {rule}; got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _expand(paths: Sequence[str], out: str) -> tuple[list[str], list[str]]:
    """The submission files and their gradebook names.

    A file stands for itself, named by its file name. A folder stands for every
    file below it, in subfolders too (hidden files and folders, such as
    ``.ipynb_checkpoints``, excepted), each named by its path inside the folder:
    an export with one folder per student keeps the students apart, and a file
    that is not a notebook still gets its row ("unreadable").
    """
    files, names = [], []
    for p in map(Path, paths):
        if not p.is_dir():
            files.append(str(p))
            names.append(p.name)
            continue
        if Path(out).resolve().is_relative_to(p.resolve()):
            raise ValueError(f"--out must not lie inside a SUBMISSION folder; got "
                             f"{out!r} (inside {str(p)!r})")
        found = sorted(f for f in p.rglob("*") if f.is_file() and not any(
            part.startswith(".") for part in f.relative_to(p).parts))
        if not found:
            raise ValueError(f"SUBMISSION must be a notebook or a folder of "
                             f"notebooks; got {str(p)!r} (a folder without files)")
        files += map(str, found)
        names += (f.relative_to(p).as_posix() for f in found)
    return files, names


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 on success, 2 on error).

    Args:
        argv: the arguments after ``mbgd``; ``None`` reads ``sys.argv``.

    Returns:
        ``0`` on success; ``2`` for bad arguments or a notebook, grading or file
        error (the message goes to stderr).

    Example:
        >>> import nbformat, tempfile
        >>> cell = nbformat.v4.new_code_cell(
        ...     "# mbgd: answer q1\\n### BEGIN SOLUTION\\nx = 2\\n### END SOLUTION",
        ...     metadata={"mbgd": {"question": "q1", "kind": "compute", "points": 1,
        ...                        "practises": ["P1"]}})
        >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +ELLIPSIS
        ...     sol = nbformat.v4.new_notebook(cells=[cell])
        ...     nbformat.write(sol, Path(tmp) / "part0.ipynb")
        ...     main(["release", f"{tmp}/part0.ipynb", "--out", f"{tmp}/exercises"])
        ...     main(["release", f"{tmp}/missing.ipynb", "--out", f"{tmp}/exercises"])
        wrote .../exercises/part0.ipynb
        0
        2
    """
    from .exercises import NotebookError, release
    from .grading import GradingError, Limits, grade

    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.command == "release":
            for path in release(args.solutions, args.out):
                print(f"wrote {path}")
            return 0
        submissions, names = _expand(args.submissions, args.out)
        start = time.perf_counter()
        rows = grade(args.solution, submissions, args.out, jobs=args.jobs,
                     extra_cases=args.extra_cases, seed=args.seed,
                     limits=Limits(timeout=args.timeout,
                                   call_timeout=args.call_timeout,
                                   memory_mb=args.memory),
                     sandbox=args.sandbox,
                     progress=False if args.no_progress else None, names=names)
    except (NotebookError, GradingError, ValueError, TypeError, OSError) as exc:
        message = " ".join(str(exc).split("\n"))  # one line, as argparse writes
        print(f"mbgd {args.command}: error: {message}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    statuses = {}
    for row in rows:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    info = json.loads((Path(args.out) / "grading.json").read_text())
    plural = "" if len(rows) == 1 else "s"
    print(f"graded {len(rows)} submission{plural} in {seconds:.1f} s ({counts}); "
          f"gradebook: {Path(args.out) / 'gradebook.csv'}")
    print(f"sandbox: {info['sandbox_note']}")
    other = sum(row.reason.startswith("this notebook is exercise set")
                for row in rows)
    if other:
        print(f"warning: {other} of {len(rows)} notebooks name another exercise set "
              f"than the solution's ({info['exercise_set']!r}); see their reason",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
