r"""The instructor's grader: student code runs in a sandbox, judging happens here.

:func:`grade` (the command ``mbgd grade``) grades a batch of submitted notebooks
against a solution notebook and writes ``gradebook.csv``, one feedback file per
submission in ``feedback/`` and ``grading.json`` (the seed and the protections
in force). The threat model is DESIGN.md's: student code may crash, hang,
allocate or print without bound, monkeypatch anything in its own process, return
objects with a lying ``__eq__`` or ``__float__``, look for the instructor's files,
write files where results are expected, or arrive truncated or stripped of cell
metadata. Hence:

* **Reference.** The solution notebook's code runs once, here, in the grader's
  own process; its functions and values are the reference. Grading inputs are
  drawn from each question's input generator (:mod:`mbgd.exercises`) with a seed
  chosen at grading time (``seed``), plus the instructor's optional extra cases;
  copied outputs of the public cases therefore earn nothing.
* **Isolation.** Each submission runs in a fresh ``python -I`` child
  (:mod:`mbgd._grade_worker`) with a minimal environment, an empty temporary
  working folder and resource limits (address space, CPU time, file size, open
  files), a wall-clock timeout that kills its process group, and bounded reading
  of its output. With `bubblewrap <https://github.com/containers/bubblewrap>`_
  (``sandbox="auto"`` finds it, ``"bwrap"`` requires it) the child also sees only
  the Python installation, ``/usr`` and the ``mbgd`` package, read-only, with a
  private ``/tmp``, its own process and network namespaces and no network, so it
  cannot read the solution, the extra cases, other submissions or the output
  folder. Without bubblewrap that last protection is missing, and
  ``grading.json`` and every gradebook row say so.
* **Plain values only.** The child gets the cases' arguments and returns the
  student's raw outputs as JSON lines on a pipe; nothing is unpickled. Every line
  is validated and decoded strictly (:func:`mbgd.exercises.from_plain`), and every
  comparison happens here against the reference (:func:`mbgd.exercises.compare`).
* **Every submission gets a row**, with the reason when it scores zero; outputs
  are written atomically, into a new or empty folder, and never over an input
  file. Instructor mistakes (a missing file, a solution given as a submission or
  a student notebook as the solution, a malformed extra-cases file) stop the run
  before anything is written.

What the child runs: every code cell of the submission in notebook order, in one
namespace, each in its own ``try`` with a time limit (``call_timeout``); lines
starting with ``%`` or ``!`` (IPython magics and shell commands) become ``pass``
and a leading ``%%`` line is dropped. Then it calls each *implement* function on
each case and reads each *compute* variable, so the last definition of a name
wins. *Explain* answers are read from the submission's text, never executed: the
last cell marked for a question wins (:func:`mbgd.exercises.answer_cells`).

Scores: an *implement* question earns ``points * passed / cases``; a *compute*
question all or nothing; an *explain* question is left for the instructor (its
gradebook cell is empty, or ``0`` when no answer was written).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ._checks import check_choice, check_int, check_real, check_type
from ._grade_worker import MAX_EVENT
from .exercises import (  # the private helpers check paths as release does
    Compute,
    Implement,
    NotebookError,
    Question,
    answer_cells,
    answer_text,
    cell_source,
    compare,
    from_plain,
    get_exercise_set,
    read_notebook,
    show,
    solution_questions,
    to_plain,
    write_atomic,
    _existing_file,
    _holds_solutions,
    _paths,
)
from .progress import progress_bar

__all__ = ["GradingError", "Limits", "Sandbox", "Reference", "Row", "find_sandbox",
           "notebook_code", "load_reference", "grade_submission", "grade"]

SANDBOX_MODES = ("auto", "bwrap", "none")
MAX_RESULTS = 16 << 20  # bytes of result lines read from one child
LOG_KEPT = 4096  # bytes of the child's output kept for the feedback
WORKDIR = "/tmp/work"  # the child's working folder inside bubblewrap


class GradingError(RuntimeError):
    """Raised by :func:`grade` and its helpers for a fault on the instructor's side."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's child process.

    Attributes:
        timeout: wall-clock seconds for the whole submission, ``> 0``; the child's
            process group is killed after it (default 120).
        call_timeout: seconds for one cell or one graded call, ``> 0`` (default
            20); a call over it fails, and the question's remaining cases are
            skipped.
        memory_mb: address-space limit in MiB, ``>= 256`` (default 2048).
        output_mb: output (stdout and stderr) after which the child is killed,
            ``>= 1`` (default 64).

    Example:
        >>> Limits(timeout=30).call_timeout, Limits().memory_mb
        (20.0, 2048)
        >>> Limits(memory_mb=100)
        Traceback (most recent call last):
        ...
        ValueError: memory_mb must be an int >= 256; got 100
    """

    timeout: float = 120.0
    call_timeout: float = 20.0
    memory_mb: int = 2048
    output_mb: int = 64

    def __post_init__(self):
        check_real("timeout", self.timeout, low=0.0, bounds="(]")
        check_real("call_timeout", self.call_timeout, low=0.0, bounds="(]")
        check_int("memory_mb", self.memory_mb, low=256)
        check_int("output_mb", self.output_mb, low=1)


# ---------------------------------------------------------------------------
# The sandbox
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Sandbox:
    """How a child process is confined.

    Attributes:
        kind: ``"bwrap"`` (bubblewrap) or ``"none"`` (a plain child process).
        note: one line for the gradebook: what protects the instructor's files.
        shared: the folders the child can read (bubblewrap only).

    Usually made by :func:`find_sandbox`.

    Example:
        >>> Sandbox("none", "no protection").command(["python", "-V"], "/tmp/w")
        (['python', '-V'], '/tmp/w')
        >>> box = Sandbox("bwrap", "confined", shared=("/opt/py",))
        >>> cmd, cwd = box.command(["python", "-V"], "/tmp/w")
        >>> cmd[:2], cmd[cmd.index("--chdir") + 1], cmd[-2:], cwd
        (['bwrap', '--unshare-all'], '/tmp/work', ['python', '-V'], '/tmp/w')
    """

    kind: str
    note: str
    shared: tuple[str, ...] = ()

    def command(self, argv: list[str], workdir: str) -> tuple[list[str], str]:
        """The command line that runs ``argv`` confined, and its cwd outside."""
        if self.kind == "none":
            return argv, workdir
        cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr"]
        for link in ("/bin", "/lib", "/lib64", "/sbin"):
            if os.path.islink(link):
                cmd += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link):
                cmd += ["--ro-bind", link, link]
        cmd += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(64 << 20),
                "--tmpfs", "/tmp", "--dir", WORKDIR]
        # After the private /tmp, so that a Python installed under /tmp shows
        # through it (bubblewrap applies its options in order).
        for folder in self.shared:
            cmd += ["--ro-bind", folder, folder]
        cmd += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORKDIR,
                "--clearenv"]
        for key, value in _child_env(WORKDIR).items():
            cmd += ["--setenv", key, value]
        return cmd + argv, workdir


def _child_env(home: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MBGD_PROGRESS": "0",
            "MBGD_DEVICE": "cpu", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": os.path.join(home, ".matplotlib")}


def _python_folders() -> tuple[str, ...]:
    """The folders a child needs to run this Python with ``mbgd`` (read-only)."""
    import site

    import mbgd

    wanted = {sys.prefix, sys.base_prefix, os.path.dirname(sys.executable),
              *mbgd.__path__, *site.getsitepackages()}
    real = sorted({os.path.realpath(p) for p in wanted if os.path.isdir(p)})
    kept: list[str] = []
    for folder in real:  # sorted: a parent comes before its children
        if folder.startswith(("/usr/", "/proc", "/dev")) or folder in ("/usr", "/tmp"):
            continue
        if not any(folder == k or folder.startswith(k + os.sep) for k in kept):
            kept.append(folder)
    return tuple(kept)


def find_sandbox(mode: str = "auto", private: Sequence[str | os.PathLike] = ()
                 ) -> Sandbox:
    """Choose the child's confinement: bubblewrap when it works, else none.

    Args:
        mode: ``"auto"`` (bubblewrap if it runs here, else a plain child),
            ``"bwrap"`` (bubblewrap or a :class:`GradingError`) or ``"none"``.
        private: the instructor's paths (solution, extra cases, submissions, the
            output folder); none may lie in a folder shared with the child.

    >>> find_sandbox("none").kind
    'none'
    """
    check_choice("sandbox", mode, SANDBOX_MODES)
    if isinstance(private, (str, bytes, os.PathLike)):
        raise TypeError(f"private must be a list of paths; got {private!r}")
    if mode == "none":
        return Sandbox("none", "none (requested): student code could read any file "
                       "this user can read")
    shared = _python_folders()
    for path in private:
        real = os.path.realpath(path)
        for folder in shared:
            if real == folder or real.startswith(folder + os.sep):
                raise GradingError(
                    f"{path} lies inside {folder}, which the sandbox shares with "
                    "student code; move it elsewhere")
    candidate = Sandbox("bwrap", "bwrap (read-only Python and mbgd, private /tmp, "
                        "no network)", shared)
    why = _probe(candidate) if shutil.which("bwrap") else "bwrap is not installed"
    if why is None:
        return candidate
    if mode == "bwrap":
        raise GradingError(f"sandbox 'bwrap' does not work here: {why}")
    return Sandbox("none", f"none ({why}): student code could read any file this "
                   "user can read")


def _probe(sandbox: Sandbox) -> str | None:
    cmd, _ = sandbox.command([sys.executable, "-I", "-c", "import torch, mbgd"],
                             "/")
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=120,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return f"bwrap failed (exit code {done.returncode}): {last[0][:200]}"
    return None


# ---------------------------------------------------------------------------
# The reference
# ---------------------------------------------------------------------------

def notebook_code(nb: dict) -> list[tuple[int, str]]:
    """The code the grader runs for a notebook: ``(cell number, code)`` pairs.

    Code cells in notebook order (numbered from 1 among all cells); a line whose
    first non-blank character is ``%`` or ``!`` becomes ``pass`` at the same
    indentation, and a leading ``%%`` cell-magic line is dropped.

    >>> notebook_code({"cells": [{"cell_type": "markdown", "source": "Hi"},
    ...     {"cell_type": "code", "source": "if x:\\n    %pip install y"}]})
    [(2, 'if x:\\n    pass')]
    """
    code = []
    for number, cell in enumerate(nb["cells"], 1):
        if cell.get("cell_type") != "code":
            continue
        lines = cell_source(cell).splitlines()
        if lines and lines[0].lstrip().startswith("%%"):
            lines = lines[1:]
        lines = [line[: len(line) - len(line.lstrip())] + "pass"
                 if line.lstrip().startswith(("%", "!")) else line for line in lines]
        code.append((number, "\n".join(lines)))
    return code


@dataclass
class Reference:
    """The solution notebook, run in the grader's process.

    Returned by :func:`load_reference`.

    Attributes:
        exercise_set: the name in :data:`mbgd.exercises.EXERCISE_SETS`.
        questions: the solution's questions, in notebook order.
        namespace: the solution's global names after running all its cells.
    """

    exercise_set: str
    questions: dict[str, Question]
    namespace: dict[str, Any]

    @property
    def specs(self) -> dict:
        return get_exercise_set(self.exercise_set)


def load_reference(solution: str | os.PathLike) -> Reference:
    """Read and run a solution notebook here (trusted code), quietly.

    Raises :class:`GradingError` when the notebook has no exercise set, holds no
    solution region (a student's notebook), when its questions disagree with the
    set's specs, or when a cell fails. The cells' output is discarded.

    Args:
        solution: a solution notebook whose metadata names its exercise set
            (``"mbgd": {"exercise_set": "part1"}``).

    Returns:
        The :class:`Reference`.

    Example:
        Running a course solution takes about a second:

        >>> ref = load_reference("solutions/part1_principles.ipynb")  # doctest: +SKIP
        >>> ref.exercise_set, list(ref.questions)[:3]  # doctest: +SKIP
        ('part1', ['q1', 'q2', 'q3'])
        >>> callable(ref.namespace["gd_step"])  # doctest: +SKIP
        True

        A notebook that names no exercise set is refused:

        >>> import nbformat, tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     nbformat.write(nbformat.v4.new_notebook(), Path(tmp) / "s.ipynb")
        ...     load_reference(Path(tmp) / "s.ipynb")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mbgd.grading.GradingError: solution .../s.ipynb must name its exercise set ...
    """
    try:
        nb = read_notebook(solution)
        questions = solution_questions(nb)
    except NotebookError as exc:
        raise GradingError(f"solution {solution}: {exc}") from exc
    meta = nb.get("metadata", {}).get("mbgd", {})
    name = meta.get("exercise_set") if isinstance(meta, dict) else None
    if not isinstance(name, str) or name not in _exercise_sets():
        raise GradingError(
            f"solution {solution} must name its exercise set in the notebook "
            f"metadata (\"mbgd\": {{\"exercise_set\": ...}}); got {name!r}")
    if not _holds_solutions(nb):
        raise GradingError(
            f"solution {solution} must hold BEGIN SOLUTION regions; got a notebook "
            "without any (a student's notebook?)")
    specs = get_exercise_set(name)
    kinds = {q: s.kind for q, s in specs.items()}
    if {q: x.kind for q, x in questions.items()} != kinds:
        raise GradingError(
            f"solution {solution}: its questions must match the specs of exercise "
            f"set {name!r} ({kinds})")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        for number, code in notebook_code(nb):
            try:
                exec(compile(code, f"<solution cell {number}>", "exec"), namespace)
            except Exception as exc:
                raise GradingError(
                    f"solution {solution}: cell {number} raised "
                    f"{type(exc).__name__}: {exc}") from exc
    return Reference(name, questions, namespace)


def _exercise_sets() -> tuple[str, ...]:
    from .exercises import EXERCISE_SETS

    return tuple(EXERCISE_SETS)


@dataclass
class Task:
    """What one question asks of a child, and the reference's answers.

    Returned by :func:`make_tasks` (the values of its dict).

    Attributes:
        qid: the question's id.
        name: the function (implement) or variable (compute) to read.
        cases: one plain argument list per grading case (:func:`to_plain`);
            empty for a compute question.
        expected: the reference's decoded answer per case (:func:`from_plain`);
            one value for a compute question.
    """

    qid: str
    name: str
    cases: list[list] = field(default_factory=list)  # plain arguments
    expected: list[Any] = field(default_factory=list)  # decoded reference outputs


def make_tasks(reference: Reference, seed: int,
               extra: dict[str, list[list]] | None = None) -> dict[str, Task]:
    """Draw the grading cases and compute the reference's answers.

    Each *implement* question draws ``spec.cases`` cases from its own generator,
    seeded from ``seed`` and the question's id, then appends its extra cases.

    Args:
        reference: the solution (:func:`load_reference`).
        seed: the grading seed, an int ``>= 0``; the same seed gives the same cases.
        extra: optional extra cases by question (:func:`read_extra_cases`).

    Returns:
        ``{qid: Task}`` for the implement and compute questions.

    Raises:
        GradingError: when the solution lacks a name, fails on a case or gives
            an answer holding NaN (which no submission could match).

    Example:
        With a stand-in reference whose functions all return 0 and whose values
        are 0:

        >>> ns = {s.name: (lambda *args: 0.0) if isinstance(s, Implement) else 0.0
        ...       for s in get_exercise_set("part1").values() if hasattr(s, "name")}
        >>> stand_in = Reference("part1", {}, ns)
        >>> tasks = make_tasks(stand_in, seed=0)
        >>> {q: len(t.cases) for q, t in tasks.items()}
        {'q1': 6, 'q2': 0, 'q3': 6, 'q4': 6, 'q5': 6, 'q6': 0, 'q7': 6}
        >>> [make_tasks(stand_in, s)["q1"].cases == tasks["q1"].cases for s in (0, 1)]
        [True, False]
    """
    check_int("seed", seed, low=0)
    extra = extra or {}
    tasks = {}
    for qid, spec in reference.specs.items():
        if isinstance(spec, Implement):
            fn = reference.namespace.get(spec.name)
            if not callable(fn):
                raise GradingError(f"the solution does not define {spec.name} ({qid})")
            gen = torch.Generator().manual_seed(_question_seed(seed, qid))
            cases = [to_plain(list(spec.inputs(gen, i))) for i in range(spec.cases)]
            cases += extra.get(qid, [])
            task = Task(qid, spec.name, cases)
            for i, case in enumerate(cases):
                try:
                    task.expected.append(from_plain(to_plain(fn(*from_plain(case)))))
                except Exception as exc:
                    raise GradingError(
                        f"the solution's {spec.name} ({qid}) failed on grading case "
                        f"{i + 1}: {type(exc).__name__}: {exc}") from exc
                if _has_nan(task.expected[-1]):  # NaN matches nothing: a lost case
                    raise GradingError(
                        f"the solution's {spec.name} ({qid}) must return a value "
                        f"without NaN on grading case {i + 1}; got "
                        f"{show(task.expected[-1])}")
            tasks[qid] = task
        elif isinstance(spec, Compute):
            if spec.name not in reference.namespace:
                raise GradingError(f"the solution does not define {spec.name} ({qid})")
            value = from_plain(to_plain(reference.namespace[spec.name]))
            if _has_nan(value):
                raise GradingError(f"the solution's {spec.name} ({qid}) must hold "
                                   f"no NaN; got {show(value)}")
            tasks[qid] = Task(qid, spec.name, expected=[value])
    return tasks


def _has_nan(value: Any) -> bool:
    """Whether a decoded value holds a NaN (which no answer can match)."""
    if isinstance(value, torch.Tensor):
        return value.is_floating_point() and bool(value.isnan().any())
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return isinstance(value, float) and math.isnan(value)


def _question_seed(seed: int, qid: str) -> int:
    digest = hashlib.sha256(f"{seed}:{qid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def read_extra_cases(path: str | os.PathLike, reference: Reference
                     ) -> dict[str, list[list]]:
    """Read instructor-only cases: ``{"q1": [[arg, ...], ...], ...}`` (JSON).

    An argument is a number, a bool, a list, or a tensor written
    ``{"tensor": [[1.0, 2.0]], "dtype": "float64"}`` (``dtype`` defaults to
    ``float64``). Only *implement* questions take extra cases.

    Args:
        path: the JSON file (keep it outside the repository).
        reference: the solution; only its exercise set's specs are used.

    Returns:
        ``{qid: [case, ...]}``, each case a list of plain arguments
        (:func:`mbgd.exercises.to_plain`), ready for :func:`make_tasks`.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "extra.json"
        ...     _ = path.write_text('{"q1": [[{"tensor": [3.0, -1.0]}, 0.5]]}')
        ...     extra = read_extra_cases(path, Reference("part1", {}, {}))
        >>> extra["q1"][0]  # gd_step(p, lr) with p of shape (2,), lr = 0.5
        [{'tensor': {'dtype': 'float64', 'shape': [2], 'data': [3.0, -1.0]}}, 0.5]
    """
    data = _read_json(path)
    specs = reference.specs
    if not isinstance(data, dict):
        raise GradingError(f"extra cases {path}: must be a JSON object by question")
    cases: dict[str, list[list]] = {}
    for qid, items in data.items():
        if not isinstance(specs.get(qid), Implement):
            raise GradingError(
                f"extra cases {path}: {qid!r} is not an implement question")
        if not isinstance(items, list) or not all(isinstance(c, list) for c in items):
            raise GradingError(f"extra cases {path}: {qid} must be a list of "
                               "argument lists")
        try:
            cases[qid] = [to_plain([_extra_arg(a) for a in case]) for case in items]
        except (TypeError, ValueError, RuntimeError) as exc:
            raise GradingError(f"extra cases {path}: {qid}: {exc}") from exc
    return cases


def _read_json(path: str | os.PathLike) -> Any:
    """The extra-cases file's JSON; a :class:`GradingError` names the problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GradingError(f"extra cases {path}: cannot read: "
                           f"{exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GradingError(f"extra cases {path}: not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GradingError(f"extra cases {path}: invalid JSON at line {exc.lineno} "
                           f"column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise GradingError(f"extra cases {path}: nested too deeply") from exc


def _extra_arg(arg: Any) -> Any:
    if isinstance(arg, dict):
        if set(arg) - {"tensor", "dtype"} or "tensor" not in arg:
            raise ValueError(f"a tensor is written {{'tensor': [...], 'dtype': ...}}; "
                             f"got {arg!r}")
        dtype = getattr(torch, str(arg.get("dtype", "float64")), None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"unknown dtype {arg.get('dtype')!r}")
        return torch.tensor(arg["tensor"], dtype=dtype)
    if isinstance(arg, list):
        return [_extra_arg(a) for a in arg]
    return arg


# ---------------------------------------------------------------------------
# Running one submission
# ---------------------------------------------------------------------------

@dataclass
class ChildRun:
    """What came back from one child process.

    Returned by :func:`run_child`.

    Attributes:
        status: ``"ok"``, ``"timeout"``, ``"crashed"`` or ``"output flood"``.
        reason: how the child ended, in words.
        events: the raw JSON result lines (read with :func:`parse_events`).
        log: the first :data:`LOG_KEPT` bytes of the child's stdout and stderr.
        log_bytes: how many bytes of output the child wrote in all.
    """

    status: str  # "ok", "timeout", "crashed" or "output flood"
    reason: str
    events: bytes
    log: bytes
    log_bytes: int


def run_child(request: dict, sandbox: Sandbox, limits: Limits) -> ChildRun:
    """Run :mod:`mbgd._grade_worker` on ``request``; read its pipes with bounds.

    Args:
        request: ``{"cells": [[number, code], ...], "calls": [...], "values":
            [...]}`` as :mod:`mbgd._grade_worker` describes (the limits and the
            result pipe are added here).
        sandbox: the confinement (:func:`find_sandbox`).
        limits: the resource limits (:class:`Limits`).

    Returns:
        A :class:`ChildRun`; this never raises for a misbehaving child.

    Example:
        A child starts Python and imports torch, so this takes about a second:

        >>> request = {"cells": [[1, "def f(x):\\n    return 2 * x"]], "values": [],
        ...            "calls": [{"q": "q1", "name": "f", "cases": [[1.5]]}]}
        >>> run = run_child(request, find_sandbox("none"), Limits())  # doctest: +SKIP
        >>> run.status, run.events  # doctest: +SKIP
        ('ok', b'{"q": "q1", "case": 0, "value": 3.0}\\n{"done": true}\\n')
    """
    read_fd, write_fd = os.pipe()
    workdir = tempfile.mkdtemp(prefix="mbgd-grade-")
    request = {**request, "result_fd": write_fd, "limits": {
        "memory_mb": limits.memory_mb, "cpu_s": math.ceil(limits.timeout) + 1,
        "call_s": limits.call_timeout}}
    argv = [sys.executable, "-I", "-u", "-m", "mbgd._grade_worker"]
    cmd, cwd = sandbox.command(argv, workdir)
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=_child_env(workdir), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(write_fd,),
            start_new_session=True)
    except OSError as exc:
        os.close(read_fd)
        shutil.rmtree(workdir, ignore_errors=True)
        return ChildRun("crashed", f"could not start Python: {exc}", b"", b"", 0)
    finally:
        os.close(write_fd)
    threading.Thread(target=_feed, args=(proc.stdin, json.dumps(request).encode()),
                     daemon=True).start()
    try:
        return _collect(proc, read_fd, limits)
    finally:
        _kill(proc)
        os.close(read_fd)
        proc.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:  # the child died before reading its request
        pass


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _collect(proc: subprocess.Popen, read_fd: int, limits: Limits) -> ChildRun:
    deadline = time.monotonic() + limits.timeout
    out_cap = limits.output_mb << 20
    log, events = bytearray(), bytearray()
    log_bytes, stop = 0, None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, "log")
        sel.register(read_fd, selectors.EVENT_READ, "events")
        while sel.get_map() and stop is None:
            left = deadline - time.monotonic()
            if left <= 0:
                stop = "timeout"
                break
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.data == "log":
                    log_bytes += len(chunk)
                    log += chunk[: max(0, LOG_KEPT - len(log))]
                    if log_bytes > out_cap:
                        stop = "output flood"
                else:
                    events += chunk
                    if len(events) > MAX_RESULTS:
                        stop = "output flood"
    if stop is None:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            stop = "timeout"
    if stop is not None:
        _kill(proc)
    if stop == "timeout":
        reason = (f"ran longer than {limits.timeout:g} s and was stopped; answers "
                  "reported before that count")
        return ChildRun("timeout", reason, bytes(events), bytes(log), log_bytes)
    if stop == "output flood":
        reason = (f"printed more than {limits.output_mb} MiB and was stopped; "
                  "answers reported before that count")
        return ChildRun("output flood", reason, bytes(events), bytes(log), log_bytes)
    return ChildRun("ok", _exit_text(proc.returncode), bytes(events), bytes(log),
                    log_bytes)


def _exit_text(code: int | None) -> str:
    """How a child ended; bubblewrap reports a signal ``N`` as exit code ``128+N``.

    >>> _exit_text(-9), _exit_text(134)
    ('killed by SIGKILL', 'exit code 134, killed by SIGABRT')
    """
    number = -code if code is not None and code < 0 else (code or 0) - 128
    try:
        name = f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"exit code {code}"
    return name if code < 0 else f"exit code {code}, {name}"


# ---------------------------------------------------------------------------
# Reading what came back
# ---------------------------------------------------------------------------

@dataclass
class Outcome:
    """The validated events of one child.

    Returned by :func:`parse_events`.

    Attributes:
        done: whether the child reported that it finished.
        cell_errors: ``(cell number, error text)`` for each cell that raised.
        values: the decoded answer by ``(qid, case)`` (case ``0`` for compute).
        errors: the error text by ``(qid, case)`` for a call that raised.
        missing: by qid, why a function or variable was not found.
        ignored: how many malformed lines were dropped.
    """

    done: bool = False
    cell_errors: list[tuple[int, str]] = field(default_factory=list)
    values: dict[tuple[str, int], Any] = field(default_factory=dict)
    errors: dict[tuple[str, int], str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    ignored: int = 0


def parse_events(data: bytes, tasks: dict[str, Task]) -> Outcome:
    """Validate and decode the child's result lines (the first event wins).

    Lines that are not exactly one of the protocol's events (see
    :mod:`mbgd._grade_worker`), name an unknown question or case, or hold a value
    that :func:`mbgd.exercises.from_plain` rejects are ignored and counted.

    >>> tasks = {"q1": Task("q1", "f", cases=[[1.0]])}
    >>> data = b'{"q": "q1", "case": 0, "value": 2.0}\\nnot json\\n'
    >>> out = parse_events(data, tasks)
    >>> out.values, out.ignored
    ({('q1', 0): 2.0}, 1)
    """
    out = Outcome()
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            if len(line) > MAX_EVENT:
                raise ValueError("line too long")
            _apply_event(json.loads(line), tasks, out)
        except (ValueError, RecursionError, TypeError, KeyError):
            out.ignored += 1
    return out


def _apply_event(event: Any, tasks: dict[str, Task], out: Outcome) -> None:
    if type(event) is not dict:
        raise ValueError("not an event")
    keys = sorted(event)
    if keys == ["done"] and event["done"] is True:
        out.done = True
        return
    if keys == ["cell", "error"] and type(event["cell"]) is int:
        if len(out.cell_errors) < 50:
            out.cell_errors.append((event["cell"], _text(event["error"])))
        return
    qid = event.get("q")
    if type(qid) is not str or qid not in tasks:
        raise ValueError("unknown question")
    task = tasks[qid]
    implement = bool(task.cases)
    if keys == ["missing", "q"]:
        out.missing.setdefault(qid, _text(event["missing"]))
        return
    if implement and keys in (["case", "q", "value"], ["case", "error", "q"]):
        case = event["case"]
        if type(case) is not int or not 0 <= case < len(task.cases):
            raise ValueError("unknown case")
        key = (qid, case)
    elif not implement and keys in (["q", "value"], ["error", "q"]):
        key = (qid, 0)
    else:
        raise ValueError("not an event")
    if key in out.values or key in out.errors:
        return  # the first report of a case wins
    if "value" in event:
        out.values[key] = from_plain(event["value"])
    else:
        out.errors[key] = _text(event["error"])


def _text(value: Any, limit: int = 500) -> str:
    if type(value) is not str:
        raise ValueError("not a string")
    return value[:limit]


# ---------------------------------------------------------------------------
# Scoring and feedback
# ---------------------------------------------------------------------------

@dataclass
class Row:
    """One submission's line of the gradebook, and its feedback.

    Attributes:
        submission: the file's name as given.
        status: ``ok``, ``timeout``, ``crashed``, ``output flood``,
            ``unreadable`` or ``error`` (a grader failure on this submission).
        points: automatic points per question; ``None`` for an explain answer
            left to the instructor.
        total: the sum of automatic points.
        reason: why the status is not ``ok`` or why nothing scored; else empty.
        feedback: the Markdown feedback text.
        feedback_file: the feedback's path in the output folder, e.g.
            ``"feedback/alice.md"`` (set by :func:`grade`; else empty).

    Returned by :func:`grade_submission` and :func:`grade`.
    """

    submission: str
    status: str
    points: dict[str, float | None]
    total: float
    reason: str
    feedback: str = ""
    feedback_file: str = ""


@dataclass
class Graded:
    """One question's result.

    Built by :func:`grade_submission` for each question, to score and explain it.

    Attributes:
        points: the points earned; ``None`` for an explain answer left to the
            instructor.
        summary: one line for the feedback table, e.g. ``"4 of 6 cases passed"``.
        detail: Markdown lines about the first failing case (or the answer text).
        note: a short code for the gradebook reason when it scores 0.
    """

    points: float | None
    summary: str
    detail: list[str] = field(default_factory=list)
    note: str = ""  # a short code for the gradebook reason when it scores 0


def grade_submission(path: str | os.PathLike, reference: Reference,
                     tasks: dict[str, Task], sandbox: Sandbox, limits: Limits,
                     name: str | None = None) -> Row:
    """Grade one submitted notebook; never raises for a bad submission.

    Args:
        path: the submitted notebook.
        reference: the solution (:func:`load_reference`).
        tasks: the grading cases (:func:`make_tasks`).
        sandbox: the confinement (:func:`find_sandbox`).
        limits: the resource limits (:class:`Limits`).

    Returns:
        The submission's :class:`Row`, with its feedback (``feedback_file`` unset).

    Example:
        The released student notebook, unanswered, scores 0 (about a second):

        >>> ref = load_reference("solutions/part1_principles.ipynb")  # doctest: +SKIP
        >>> tasks = make_tasks(ref, seed=0)  # doctest: +SKIP
        >>> row = grade_submission("exercises/part1_principles.ipynb", ref, tasks,
        ...                        find_sandbox("none"), Limits())  # doctest: +SKIP
        >>> row.status, row.total, row.reason.split(",")[0]  # doctest: +SKIP
        ('ok', 0.0, 'scored 0: q1 not answered')
    """
    name = Path(path).name if name is None else name
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        return _unreadable(name, reference, str(exc))
    request = {"cells": notebook_code(nb),
               "calls": [{"q": t.qid, "name": t.name, "cases": t.cases}
                         for t in tasks.values() if t.cases],
               "values": [{"q": t.qid, "name": t.name}
                          for t in tasks.values() if not t.cases]}
    child = run_child(request, sandbox, limits)
    outcome = parse_events(child.events, tasks)
    status, reason = child.status, child.reason
    if status == "ok" and not outcome.done:
        status = "crashed"
        reason = (f"the Python process ended ({child.reason}) before reporting all "
                  "answers; answers reported before that count")
    elif status == "ok":
        reason = ""
    cells = answer_cells(nb)
    raised = dict(outcome.cell_errors)  # by cell number, counted from 1
    graded = {}
    for qid, question in reference.questions.items():
        spec = reference.specs[qid]
        if question.kind == "explain":
            graded[qid] = _grade_explain(nb, cells.get(qid), question)
        else:
            cell_error = raised.get(cells[qid] + 1) if qid in cells else None
            graded[qid] = _grade_code(tasks[qid], spec, question, outcome, status,
                                      cell_error)
    total = sum(g.points or 0.0 for g in graded.values())
    if status == "ok" and total == 0:
        notes = [f"{q} {g.note}" for q, g in graded.items() if g.note]
        reason = "scored 0: " + (", ".join(notes) or "no automatic questions")
    elif status == "ok":  # what the instructor should look at by hand
        lost = [q for q, g in graded.items() if g.note == "no answer cell"]
        if lost:
            reason = (f"{', '.join(lost)}: no answer cell found (look for an "
                      "answer without its marker line)")
    other = _named_set(nb)
    if other not in (None, reference.exercise_set):
        reason = (f"this notebook is exercise set {other!r}, graded against "
                  f"{reference.exercise_set!r}" + (f"; {reason}" if reason else ""))
    row = Row(name, status, {q: g.points for q, g in graded.items()}, total, reason)
    row.feedback = _feedback(row, reference, graded, outcome, child, sandbox)
    return row


def _named_set(nb: dict) -> str | None:
    """The exercise set a notebook's metadata names (released notebooks keep it;
    an editor may strip it), or ``None``."""
    meta = nb.get("metadata", {})
    meta = meta.get("mbgd") if isinstance(meta, dict) else None
    name = meta.get("exercise_set") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def _unreadable(name: str, reference: Reference, why: str) -> Row:
    points = {q: 0.0 for q in reference.questions}
    row = Row(name, "unreadable", points, 0.0, why)
    row.feedback = (f"# Feedback on {name}\n\nYour notebook could not be read, so "
                    f"nothing was graded: {why}.\n\nPlease upload the complete "
                    "`.ipynb` file again.\n")
    return row


def _grade_explain(nb: dict, index: int | None, question: Question) -> Graded:
    if index is None:
        return Graded(0.0, "no answer cell found", note="no answer cell")
    text = answer_text(nb["cells"][index])
    if text is None:
        return Graded(0.0, "no answer written", note="no answer")
    return Graded(None, f"graded by hand ({question.points:g} points)",
                  detail=[_fenced(text)])


def _grade_code(task: Task, spec, question: Question, outcome: Outcome,
                status: str, cell_error: str | None) -> Graded:
    """Score a code question; ``cell_error``: what its answer cell raised, if any."""
    qid = task.qid
    if qid in outcome.missing:  # the child's own wording is not shown
        if cell_error is not None and _note(f"raised {cell_error}") == "not answered":
            return Graded(0.0, f"not answered: the answer cell still raises "
                          f"NotImplementedError, so {task.name} is not defined",
                          note="not answered")
        return Graded(0.0, f"{task.name} is not defined", note="not defined")
    total = len(task.expected)
    passed, first_bad = 0, None
    for i, expected in enumerate(task.expected):
        key = (qid, i)
        if key in outcome.values:
            try:
                why = compare(expected, outcome.values[key], rtol=spec.rtol,
                              atol=spec.atol)
            except Exception as exc:  # a comparison must never stop the batch
                why = f"cannot compare ({type(exc).__name__})"
        elif key in outcome.errors:
            why = f"raised {outcome.errors[key]}"
        else:
            why = ("not run: an earlier case failed or the process stopped"
                   if status == "ok" else f"not run ({status})")
        if why is None:
            passed += 1
        elif first_bad is None:
            first_bad = (i, why)
    points = question.points * passed / total
    if isinstance(spec, Implement):
        summary = f"{passed} of {total} cases passed"
    else:
        summary = "correct" if passed else "not correct"
    detail = []
    if first_bad is not None:
        i, why = first_bad
        if task.cases:
            args = ", ".join(show(a) for a in from_plain(task.cases[i]))
            detail.append(f"First failing case ({i + 1} of {total}): "
                          f"{_code(f'{task.name}({args})')}")
        detail.append(f"- expected: {_code(show(task.expected[i]))}")
        got = outcome.values.get((qid, i))
        if got is not None:
            detail.append(f"- got: {_code(show(got))}")
        detail.append(f"- {why}" if why.startswith(("values differ", "value differs",
                                                     "dtype", "shape", "not run"))
                      else "\n" + _fenced(why))
    return Graded(points, summary, detail, "" if passed else _note(first_bad[1]))


def _note(why: str) -> str:
    if why.startswith("raised NotImplementedError"):
        return "not answered"
    return next((n for n in ("raised", "not run") if why.startswith(n)), "wrong")


def _fenced(text: str) -> str:
    """Untrusted text as a Markdown code block that it cannot close."""
    text = re.sub(r"[^\S\n\t ]|[\x00-\x08\x0b-\x1f\x7f]", "?", text)
    return f"{_fence(text, 3)}text\n{text}\n{_fence(text, 3)}"


def _code(text: str) -> str:
    """Text as inline Markdown code that it cannot close.

    >>> _code("f(x)"), _code("a`b")
    ('`f(x)`', '`` a`b ``')
    """
    text = " ".join(text.split())
    fence = _fence(text, 1)
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _fence(text: str, shortest: int) -> str:
    runs = (len(m) for m in re.findall(r"`+", text))
    return "`" * max(shortest, 1 + max(runs, default=0))


def _feedback(row: Row, reference: Reference, graded: dict[str, Graded],
              outcome: Outcome, child: ChildRun, sandbox: Sandbox) -> str:
    auto_max = sum(q.points for q in reference.questions.values()
                   if q.kind != "explain")
    manual = sum(q.points for q in reference.questions.values()
                 if q.kind == "explain")
    out = [f"# Feedback on {row.submission}", "",
           f"Automatic points: **{_fmt(row.total)} of {_fmt(auto_max)}**"
           + (f"; explain questions ({_fmt(manual)} points) are graded by hand."
              if manual else "."),
           f"Status: {row.status}" + (f" ({row.reason})" if row.reason else ""),
           "", "Your functions were run on fresh inputs drawn at grading time; "
           "the public checks in the notebook do not count.", "",
           "| question | kind | points | result |", "|---|---|---|---|"]
    for qid, question in reference.questions.items():
        g = graded[qid]
        pts = "by hand" if g.points is None else f"{_fmt(g.points)} of " \
              f"{_fmt(question.points)}"
        out.append(f"| {qid} | {question.kind} | {pts} | {g.summary} |")
    for qid, g in graded.items():
        if g.detail:
            out += ["", f"## {qid}", "", *g.detail]
    if outcome.cell_errors:
        out += ["", "## Cells that raised an error", ""]
        out += [f"- cell {n}:" + "\n\n" + _fenced(e) for n, e in outcome.cell_errors]
    if child.log_bytes:
        more = (f" (first {LOG_KEPT} of {child.log_bytes} bytes)"
                if child.log_bytes > LOG_KEPT else "")
        out += ["", f"## Output of your notebook{more}", "",
                _fenced(child.log.decode("utf-8", errors="replace"))]
    if outcome.ignored:
        out += ["", f"{outcome.ignored} malformed result lines were ignored."]
    out += ["", f"_Sandbox: {sandbox.note}._", ""]
    return "\n".join(out)


def _fmt(x: float) -> str:
    """Points as text: at most three decimals, no trailing zeros.

    >>> _fmt(2.0), _fmt(1.5), _fmt(2 / 3)
    ('2', '1.5', '0.667')
    """
    return f"{round(x, 3):g}"


# ---------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------

def grade(solution: str | os.PathLike, submissions: Sequence[str | os.PathLike],
          out: str | os.PathLike, *, jobs: int = 1,
          extra_cases: str | os.PathLike | None = None, seed: int | None = None,
          limits: Limits = Limits(), sandbox: str = "auto",
          progress: bool | None = None,
          names: Sequence[str] | None = None) -> list[Row]:
    """Grade ``submissions`` against ``solution``; write the gradebook and feedback.

    Every argument and input file is checked, the solution run and the cases
    drawn before anything is written; a :class:`GradingError` leaves ``out`` as
    it was.

    Args:
        solution: the solution notebook (from ``solutions/``).
        submissions: the students' notebooks, a non-empty list of existing files
            (not one path as a str); each gets a gradebook row. None may be the
            solution file itself.
        out: output folder, new or empty and not the folder of an input file
            (created if missing): ``gradebook.csv``, ``feedback/<name>.md`` and
            ``grading.json``.
        jobs: submissions graded at the same time, ``>= 1`` (default 1).
        extra_cases: optional JSON file of instructor-only cases (see
            :func:`read_extra_cases`); keep it outside the repository.
        seed: seed of the grading cases; ``None`` (default) draws one now.
        limits: resource limits of each submission (:class:`Limits`).
        sandbox: ``"auto"``, ``"bwrap"`` or ``"none"`` (see :func:`find_sandbox`).
        progress: show a progress bar (``None``: follow ``$MBGD_PROGRESS``).
        names: the gradebook name of each submission, distinct (default: each
            file's name); ``mbgd grade`` passes paths relative to a folder given.

    Returns:
        The rows, in the order of ``submissions``.

    Raises:
        GradingError: for a problem on the instructor's side (a missing input
            file, the solution fails, the extra cases are malformed, ``out`` is
            not empty or an output would overwrite an input).

    Example:
        Grading takes seconds (the solution runs, then one child per submission):

        >>> rows = grade("solutions/part1_principles.ipynb",  # doctest: +SKIP
        ...              ["exercises/part1_principles.ipynb"], "/tmp/graded", seed=0)
        >>> [(row.submission, row.status, row.total) for row in rows]  # doctest: +SKIP
        [('part1_principles.ipynb', 'ok', 0.0)]
        >>> sorted(p.name for p in Path("/tmp/graded").iterdir())  # doctest: +SKIP
        ['feedback', 'gradebook.csv', 'grading.json']
    """
    jobs = check_int("jobs", jobs, low=1)
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a Limits; got {limits!r}")
    seed = secrets.randbits(62) if seed is None else check_int("seed", seed, low=0)
    check_choice("sandbox", sandbox, SANDBOX_MODES)
    check_type("progress", progress, (bool, type(None)), "True, False or None")
    try:
        solution = _existing_file("solution", solution)
        submissions = _paths("submissions", submissions)
        inputs = [solution, *submissions]
        if extra_cases is not None:
            inputs.append(_existing_file("extra_cases", extra_cases))
    except NotebookError as exc:
        raise GradingError(str(exc)) from None
    out = Path(check_type("out", out, (str, os.PathLike), "a path"))
    if names is None:
        names = [p.name for p in submissions]
    names = _row_names(names, len(submissions))
    feedback_names = _feedback_names(names)
    _refuse_overwrite(inputs, [out / "gradebook.csv", out / "grading.json",
                               *(out / "feedback" / n for n in feedback_names)])
    _check_out(out, inputs)
    _refuse_solutions(solution, submissions)
    if extra_cases is not None:
        _read_json(extra_cases)  # a missing or malformed file stops us here
    chosen = find_sandbox(sandbox, private=[*inputs, out])
    reference = load_reference(solution)
    extra = read_extra_cases(extra_cases, reference) if extra_cases else None
    tasks = make_tasks(reference, seed, extra)
    (out / "feedback").mkdir(parents=True, exist_ok=True)  # nothing written before

    def one(path: Path, name: str) -> Row:
        try:
            return grade_submission(path, reference, tasks, chosen, limits, name)
        except Exception as exc:  # a grader bug must not lose the submission
            row = Row(name, "error", {q: 0.0 for q in reference.questions},
                      0.0, f"the grader failed: {type(exc).__name__}: {exc}")
            row.feedback = f"# Feedback on {name}\n\n{row.reason}\n"
            return row

    rows: list[Row | None] = [None] * len(submissions)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(one, p, n): i
                   for i, (p, n) in enumerate(zip(submissions, names))}
        for future in progress_bar(as_completed(futures), total=len(futures),
                                   desc="grading", progress=progress):
            rows[futures[future]] = future.result()
    for row, name in zip(rows, feedback_names):
        row.feedback_file = f"feedback/{name}"
        write_atomic(out / row.feedback_file, row.feedback)
    write_atomic(out / "gradebook.csv", gradebook_csv(rows, reference, chosen))
    info = {"seed": seed, "exercise_set": reference.exercise_set,
            "solution": solution.name, "submissions": len(rows),
            "sandbox": chosen.kind, "sandbox_note": chosen.note,
            "limits": vars(limits), "cases": {q: len(t.expected)
                                              for q, t in tasks.items()}}
    write_atomic(out / "grading.json", json.dumps(info, indent=1) + "\n")
    return rows


def _row_names(names, count: int) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence) or not all(
            isinstance(n, str) and n for n in names):
        raise TypeError(f"names must be a list of non-empty strings; got {names!r}")
    if len(names) != count:
        raise ValueError(f"names must have one entry per submission ({count}); got "
                         f"{len(names)}")
    return list(names)


def _feedback_names(names: list[str]) -> list[str]:
    """A distinct, safe ``.md`` file name for each row name."""
    out, seen = [], set()
    for name in names:
        stem = name.removesuffix(".ipynb")
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip(".") or "submission"
        name, n = f"{stem}.md", 1
        while name in seen:
            n += 1
            name = f"{stem}-{n}.md"
        seen.add(name)
        out.append(name)
    return out


def _check_out(out: Path, inputs: list[Path]) -> None:
    """``out`` must be a new or empty folder, and not the folder of an input."""
    if out.exists() and not out.is_dir():
        raise GradingError(f"out must be a folder; got {str(out)!r} (a file)")
    for path in inputs:
        if path.resolve().parent == out.resolve():
            raise GradingError(f"out must not be the folder of an input file; got "
                               f"{str(out)!r} (it holds {path.name})")
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if held:
        raise GradingError(
            f"out must be a new or empty folder, so that no earlier gradebook or "
            f"feedback is overwritten; got {str(out)!r} (it holds {held[0]!r}"
            + (f" and {len(held) - 1} more)" if len(held) > 1 else ")"))


def _refuse_solutions(solution: Path, submissions: list[Path]) -> None:
    """A submission may not be the solution file itself.

    Any other notebook is graded, even one that holds solution regions: what a
    submission contains must never stop the batch (a student could plant the
    markers), and such a row shows the instructor what was handed in.
    """
    for path in submissions:
        if path.resolve() == solution.resolve():
            raise GradingError(
                f"submissions must not include the solution; got {str(path)!r}")


def _refuse_overwrite(inputs: list[Path], targets: list[Path]) -> None:
    protected = {p.resolve() for p in inputs}
    for target in targets:
        if target.resolve() in protected:
            raise GradingError(f"output {target} would overwrite an input file; "
                               "choose another --out folder")


def gradebook_csv(rows: Sequence[Row], reference: Reference, sandbox: Sandbox) -> str:
    """The gradebook as CSV text: one row per submission.

    Columns: ``submission, status, <one per question>, total, auto_max,
    manual_max, reason, feedback, sandbox``. ``total`` counts automatic points
    only; an explain question's cell is empty when an answer awaits the
    instructor's points, ``0`` when none was written. Text that a spreadsheet
    would read as a formula is prefixed with ``'``.

    Example:
        >>> questions = {"q1": Question("q1", "implement", 2, ("P1",), 4),
        ...              "q8": Question("q8", "explain", 2, ("P8",), 9)}
        >>> ref = Reference("part1", questions, {})
        >>> rows = [Row("ann.ipynb", "ok", {"q1": 1.5, "q8": None}, 1.5, ""),
        ...         Row("=1+1.ipynb", "unreadable", {"q1": 0, "q8": 0}, 0, "not JSON")]
        >>> print(gradebook_csv(rows, ref, find_sandbox("none")), end="")
        submission,status,q1,q8,total,auto_max,manual_max,reason,feedback,sandbox
        ann.ipynb,ok,1.5,,1.5,2,2,,,none
        '=1+1.ipynb,unreadable,0,0,0,2,2,not JSON,,none
    """
    qids = list(reference.questions)
    auto_max = sum(q.points for q in reference.questions.values()
                   if q.kind != "explain")
    manual_max = sum(q.points for q in reference.questions.values()
                     if q.kind == "explain")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["submission", "status", *qids, "total", "auto_max",
                     "manual_max", "reason", "feedback", "sandbox"])
    for row in rows:
        cells = [row.submission, row.status,
                 *("" if row.points.get(q) is None else _fmt(row.points[q])
                   for q in qids),
                 _fmt(row.total), _fmt(auto_max), _fmt(manual_max), row.reason,
                 row.feedback_file, sandbox.kind]
        writer.writerow([_no_formula(c) for c in cells])
    return buf.getvalue()


def _no_formula(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
