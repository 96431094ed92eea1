r"""Exercise notebooks: markers, the student release, and public self-checks.

One source of truth: a notebook in ``solutions/`` holds the questions and their
solutions; the student notebook in ``exercises/`` is generated from it by
:func:`release` (the command ``mbgd release``) and never edited by hand.

**Markers.** An answer cell carries its question twice, because Colab strips cell
metadata:

* in the cell metadata, ``"mbgd": {"question": "q1", "points": 2, "kind":
  "implement", "practises": ["P1"]}`` (``kind`` is ``implement``: a function the
  grader calls on fresh inputs; ``compute``: a value; ``explain``: free text that
  the instructor reads);
* on the cell's first line, ``# mbgd: answer q1`` in a code cell or
  ``<!-- mbgd: answer q1 -->`` in a markdown cell.

Solution regions are delimited by ``### BEGIN SOLUTION`` / ``### END SOLUTION``
(code) or ``<!-- BEGIN SOLUTION -->`` / ``<!-- END SOLUTION -->`` (markdown). The
release replaces a code region by ``raise NotImplementedError("q1: write your
answer here")`` at the region's indentation and a markdown region by
:data:`EXPLAIN_PLACEHOLDER`, and clears outputs. A code cell that lost a region
gets the ``raises-exception`` tag (honoured by nbclient, myst-nb and nbval), so the
student notebook runs from top to bottom; code that uses an answer therefore
belongs in the answer's own cell.

**Self-checks.** ``check = checker("part1")`` gives ``check("q1", answer)``: it runs
an answer on the question's *public* cases (kept here, with their expected
outputs) and prints specific feedback. Public checks never count toward the grade:
the grader (:mod:`mbgd.grading`) compares against the instructor's solution on
fresh inputs drawn from each question's input generator at grading time. This
module holds no reference solution.

**Plain values.** Answers cross process boundaries as JSON-ready *plain values*:
``None``, bools, ints, floats, strings, lists, and tensors as
``{"tensor": {"dtype", "shape", "data"}}``. :func:`to_plain` encodes,
:func:`from_plain` decodes strictly (types, sizes, depth), and :func:`compare`
judges a decoded answer against a decoded expected value.

>>> check = checker("part1")
>>> check("q1", lambda p, lr: p)
q1: case 1 of 3 failed: gd_step(tensor([1., 1.]), 0.1)
  expected: tensor([1.6, 0.4]) (float64, shape (2,))
  got:      tensor([1., 1.]) (float64, shape (2,))
  values differ: largest difference 0.6 at index (0,)
q1: 1 of 3 public checks passed (public checks never count toward the grade).

Book section: the graded notebook at the end of each part.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ._checks import check_choice, check_int, check_real, check_type

__all__ = [
    "KINDS",
    "EXPLAIN_PLACEHOLDER",
    "NotebookError",
    "Question",
    "read_notebook",
    "write_notebook",
    "write_atomic",
    "cell_source",
    "cell_question",
    "answer_cells",
    "answer_text",
    "solution_questions",
    "release_notebook",
    "release",
    "to_plain",
    "from_plain",
    "compare",
    "show",
    "Implement",
    "Compute",
    "Explain",
    "EXERCISE_SETS",
    "get_exercise_set",
    "check_answer",
    "checker",
]

KINDS = ("implement", "compute", "explain")
EXPLAIN_PLACEHOLDER = "_Write your answer here._"
STUB = 'raise NotImplementedError("{qid}: write your answer here")'
MAX_NOTEBOOK_BYTES = 32 << 20

_QID = r"[A-Za-z][A-Za-z0-9_]*"
_CODE_MARKER = re.compile(rf"^\s*#\s*mbgd:\s*answer\s+({_QID})\s*$")
_MD_MARKER = re.compile(rf"^\s*<!--\s*mbgd:\s*answer\s+({_QID})\s*-->\s*$")
_BEGIN = {"code": re.compile(r"^(\s*)###\s*BEGIN SOLUTION\s*$"),
          "markdown": re.compile(r"^(\s*)<!--\s*BEGIN SOLUTION\s*-->\s*$")}
_END = {"code": re.compile(r"^\s*###\s*END SOLUTION\s*$"),
        "markdown": re.compile(r"^\s*<!--\s*END SOLUTION\s*-->\s*$")}
_SYLLABUS_ID = re.compile(r"^[PADX][0-9]{1,2}$")
_PUBLIC_NOTE = "(public checks never count toward the grade)"


class NotebookError(ValueError):
    """Raised by :func:`read_notebook`, :func:`solution_questions`, :func:`release`."""


# ---------------------------------------------------------------------------
# Notebooks and markers
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    """A question as the solution notebook declares it.

    Returned by :func:`solution_questions` (the values of its dict).

    Attributes:
        qid: the question's id, e.g. ``"q1"``.
        kind: ``"implement"``, ``"compute"`` or ``"explain"``.
        points: the points it is worth, ``> 0``.
        practises: the syllabus IDs it practises, e.g. ``("P7",)``.
        cell: index of its answer cell in the notebook.
    """

    qid: str
    kind: str
    points: float
    practises: tuple[str, ...]
    cell: int


def read_notebook(path: str | os.PathLike) -> dict:
    """Read an nbformat-4 notebook as a plain dict, strictly.

    Raises :class:`NotebookError` naming the problem for a file that is too large,
    not JSON (a truncated upload, say) or not shaped like a notebook.

    Args:
        path: the ``.ipynb`` file.

    Returns:
        The notebook as ``json.load`` gives it (a ``dict`` with a list of cells).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "cut.ipynb"
        ...     _ = path.write_text('{"cells": [')  # a truncated upload
        ...     read_notebook(path)
        Traceback (most recent call last):
        ...
        mbgd.exercises.NotebookError: invalid JSON at line 1 column 12: Expecting value
    """
    path = Path(check_type("path", path, (str, os.PathLike), "a path"))
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(
                f"notebook must be at most {MAX_NOTEBOOK_BYTES} bytes; got {size}")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise NotebookError(f"cannot read {path.name}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise NotebookError(f"notebook is not UTF-8 text ({exc.reason})") from exc
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise NotebookError("invalid JSON: nested too deeply") from exc
    _check_notebook_shape(nb)
    return nb


def _check_notebook_shape(nb: Any) -> None:
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("not an nbformat-4 notebook: no list of cells")
    for i, cell in enumerate(nb["cells"]):
        ok = (isinstance(cell, dict) and isinstance(cell.get("cell_type"), str)
              and isinstance(cell.get("source", ""), (str, list))
              and isinstance(cell.get("metadata", {}), dict))
        if ok and isinstance(cell.get("source"), list):
            ok = all(isinstance(line, str) for line in cell["source"])
        if not ok:
            raise NotebookError(f"cell {i + 1} is not a notebook cell")


def write_notebook(nb: dict, path: str | os.PathLike) -> Path:
    """Write ``nb`` as nbformat does (indent 1, sorted keys), atomically.

    Sources are stored as lists of lines, like ``nbformat.write``. The file is
    written to a temporary name beside ``path`` and then renamed.

    Returns:
        ``path``, as a :class:`~pathlib.Path`.

    Example:
        >>> import tempfile
        >>> nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "a\\nb"}]}
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_notebook(nb, Path(tmp) / "a.ipynb")
        ...     text, back = path.read_text(), read_notebook(path)
        >>> text.splitlines()[:2], back["cells"][0]["source"]
        (['{', ' "cells": ['], ['a\\n', 'b'])
    """
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        cell["source"] = cell_source(cell).splitlines(keepends=True)
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return write_atomic(Path(path), text)


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file, and no temporary file is left
    behind, even when writing fails. Returns ``path``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = write_atomic(Path(tmp) / "out.txt", "hello\\n")
        ...     print(path.name, repr(path.read_text()), os.listdir(tmp))
        out.txt 'hello\\n' ['out.txt']
    """
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def cell_source(cell: dict) -> str:
    """The source of a notebook cell as one string.

    >>> cell_source({"cell_type": "code", "source": ["a = 1\\n", "b = 2"]})
    'a = 1\\nb = 2'
    """
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def cell_question(cell: dict) -> str | None:
    """The question a cell answers: its first-line marker, else its metadata.

    The marker wins over the metadata when they disagree (a student sees and
    edits the marker; the metadata is invisible and may be stale or stripped).

    >>> cell_question({"cell_type": "code", "source": "# mbgd: answer q3\\nx = 1"})
    'q3'
    >>> cell_question({"cell_type": "markdown", "source": "Hi",
    ...                "metadata": {"mbgd": {"question": "q2"}}})
    'q2'
    """
    lines = [ln for ln in cell_source(cell).splitlines() if ln.strip()]
    marker = _CODE_MARKER if cell.get("cell_type") == "code" else _MD_MARKER
    if lines:
        found = marker.match(lines[0])
        if found:
            return found.group(1)
    meta = cell.get("metadata", {})
    meta = meta.get("mbgd") if isinstance(meta, dict) else None
    qid = meta.get("question") if isinstance(meta, dict) else None
    return qid if isinstance(qid, str) and re.fullmatch(_QID, qid) else None


def answer_cells(nb: dict) -> dict[str, int]:
    """Map each question id to the index of its answer cell.

    A cell belongs to a question by its marker or, when the marker is missing, by
    its metadata (see :func:`cell_question`). When several cells claim one
    question (a duplicated cell), the **last** one in notebook order wins, as the
    last definition wins when the notebook runs from top to bottom.

    >>> nb = {"cells": [{"cell_type": "code", "source": "# mbgd: answer q1"},
    ...                 {"cell_type": "code", "source": "# mbgd: answer q1\\n2"}]}
    >>> answer_cells(nb)
    {'q1': 1}
    """
    found: dict[str, int] = {}
    for i, cell in enumerate(nb["cells"]):
        qid = cell_question(cell)
        if qid is not None:
            found[qid] = i
    return found


def answer_text(cell: dict) -> str | None:
    """The written answer of an *explain* cell, or ``None`` when there is none.

    The marker line and any solution-region markers are dropped; an empty answer
    or the untouched :data:`EXPLAIN_PLACEHOLDER` counts as none.

    >>> answer_text({"cell_type": "markdown",
    ...              "source": "<!-- mbgd: answer q8 -->\\nBecause."})
    'Because.'
    >>> answer_text({"cell_type": "markdown",
    ...              "source": "<!-- mbgd: answer q8 -->\\n" + EXPLAIN_PLACEHOLDER})
    """
    lines = cell_source(cell).splitlines()
    if lines and _MD_MARKER.match(lines[0]):
        lines = lines[1:]
    text = "\n".join(ln for ln in lines if not (_BEGIN["markdown"].match(ln)
                                               or _END["markdown"].match(ln)))
    text = text.strip()
    return None if text in ("", EXPLAIN_PLACEHOLDER) else text


def solution_questions(nb: dict) -> dict[str, Question]:
    """The questions of a solution notebook, in notebook order, checked strictly.

    Every answer cell of a solution must carry both the metadata and the marker,
    and they must agree; a question appears once. Raises :class:`NotebookError`
    naming the cell otherwise.

    Returns:
        ``{qid: Question}``, in notebook order.

    Example:
        >>> cell = {"cell_type": "code", "source": "# mbgd: answer q1\\nx = 2",
        ...         "metadata": {"mbgd": {"question": "q1", "kind": "compute",
        ...                               "points": 2, "practises": ["P4"]}}}
        >>> solution_questions({"cells": [cell]})  # doctest: +NORMALIZE_WHITESPACE
        {'q1': Question(qid='q1', kind='compute', points=2.0, practises=('P4',),
                        cell=0)}
        >>> cell["source"] = "x = 2"  # the marker line is missing
        >>> solution_questions({"cells": [cell]})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mbgd.exercises.NotebookError: cell 1 (question 'q1') must start with its ...
    """
    questions: dict[str, Question] = {}
    for i, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {}).get("mbgd", {})
        if not isinstance(meta, dict) or "question" not in meta:
            if cell_question(cell) is not None:
                raise NotebookError(
                    f"cell {i + 1} has an answer marker but no mbgd metadata")
            continue
        qid, kind = meta.get("question"), meta.get("kind")
        where = f"cell {i + 1} (question {qid!r})"
        if cell_question(cell) != qid or not _first_line_is_marker(cell):
            raise NotebookError(
                f"{where} must start with its marker line "
                f"{_marker_text(cell, qid)!r}")
        if kind not in KINDS:
            raise NotebookError(f"{where}: kind must be one of {KINDS}; got {kind!r}")
        if (kind == "explain") != (cell.get("cell_type") == "markdown"):
            raise NotebookError(
                f"{where}: explain answers go in markdown cells, others in code")
        points = meta.get("points")
        if (isinstance(points, bool) or not isinstance(points, (int, float))
                or not points > 0):
            raise NotebookError(
                f"{where}: points must be a number > 0; got {points!r}")
        practises = meta.get("practises")
        if (not isinstance(practises, list) or not practises
                or not all(isinstance(p, str) and _SYLLABUS_ID.match(p)
                           for p in practises)):
            raise NotebookError(
                f"{where}: practises must be a non-empty list of syllabus IDs "
                f"such as 'P7'; got {practises!r}")
        if qid in questions:
            raise NotebookError(f"{where}: question {qid!r} appears twice")
        questions[qid] = Question(qid, kind, float(points), tuple(practises), i)
    return questions


def _first_line_is_marker(cell: dict) -> bool:
    lines = [ln for ln in cell_source(cell).splitlines() if ln.strip()]
    marker = _CODE_MARKER if cell.get("cell_type") == "code" else _MD_MARKER
    return bool(lines) and bool(marker.match(lines[0]))


def _marker_text(cell: dict, qid: str) -> str:
    if cell.get("cell_type") == "code":
        return f"# mbgd: answer {qid}"
    return f"<!-- mbgd: answer {qid} -->"


# ---------------------------------------------------------------------------
# Release
# ---------------------------------------------------------------------------

def release_notebook(nb: dict) -> dict:
    """Return the student version of a solution notebook (``nb`` is not changed).

    Solution regions are replaced (see the module docstring), outputs, execution
    counts and execution timings cleared, and code cells that lost a region tagged
    ``raises-exception``. The questions are validated with
    :func:`solution_questions` first.

    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"mbgd": {
    ...     "question": "q1", "kind": "compute", "points": 1, "practises": ["P1"]}},
    ...     "source": "# mbgd: answer q1\\n### BEGIN SOLUTION\\nx = 2\\n"
    ...               "### END SOLUTION\\n", "outputs": [], "execution_count": 3}]}
    >>> cell = release_notebook(nb)["cells"][0]
    >>> print(cell_source(cell))
    # mbgd: answer q1
    raise NotImplementedError("q1: write your answer here")
    >>> cell["metadata"]["tags"], cell["execution_count"]
    (['raises-exception'], None)
    """
    solution_questions(nb)
    out = copy.deepcopy(nb)
    for i, cell in enumerate(out["cells"]):
        kind = cell.get("cell_type")
        if kind not in _BEGIN:
            continue
        qid = cell_question(cell) or "this question"
        source, replaced = _strip_regions(cell_source(cell), kind, qid, i)
        cell["source"] = source
        if kind == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell["metadata"].pop("execution", None)  # timings of the solution's run
            tags = [t for t in cell["metadata"].get("tags", [])
                    if t != "raises-exception"]
            if replaced:
                tags.append("raises-exception")
            if tags:
                cell["metadata"]["tags"] = tags
            else:
                cell["metadata"].pop("tags", None)
    return out


def _strip_regions(source: str, kind: str, qid: str, index: int) -> tuple[str, bool]:
    lines, kept, replaced = source.splitlines(), [], False
    inside = None  # indentation of the open region
    for n, line in enumerate(lines, 1):
        begin, end = _BEGIN[kind].match(line), _END[kind].match(line)
        if begin:
            if inside is not None:
                raise NotebookError(
                    f"cell {index + 1} line {n}: nested BEGIN SOLUTION")
            inside, replaced = begin.group(1), True
            if kind == "code":
                kept.append(inside + STUB.format(qid=qid))
            else:
                kept.append(EXPLAIN_PLACEHOLDER)
        elif end:
            if inside is None:
                raise NotebookError(
                    f"cell {index + 1} line {n}: END SOLUTION without BEGIN")
            inside = None
        elif inside is None:
            kept.append(line)
    if inside is not None:
        raise NotebookError(f"cell {index + 1}: BEGIN SOLUTION is never closed")
    return "\n".join(kept), replaced


def release(solutions: Sequence[str | os.PathLike], out_dir: str | os.PathLike
            ) -> list[Path]:
    """Write the student version of each solution notebook into ``out_dir``.

    Every solution is read and checked before anything is written, so a bad one
    leaves ``out_dir`` as it was.

    Args:
        solutions: paths of solution notebooks, a non-empty list (not one path
            as a str); file names must be distinct.
        out_dir: folder for the student notebooks (created if missing), not the
            folder of a solution; each keeps its solution's file name. A solution
            is never overwritten.

    Returns:
        The paths written, in the order of ``solutions``.

    Raises:
        NotebookError: naming the solution, for a missing, unreadable or
            malformed notebook, one without solution regions, two solutions of
            one name, or an ``out_dir`` that would overwrite a solution.

    Example:
        >>> import nbformat, tempfile
        >>> sol = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        ...     "# mbgd: answer q1\\n### BEGIN SOLUTION\\nx = 2\\n### END SOLUTION",
        ...     metadata={"mbgd": {"question": "q1", "kind": "compute", "points": 1,
        ...                        "practises": ["P1"]}})])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     nbformat.write(sol, Path(tmp) / "part0.ipynb")
        ...     [path] = release([Path(tmp) / "part0.ipynb"], Path(tmp) / "exercises")
        ...     student = read_notebook(path)
        >>> path.name, cell_source(student["cells"][0]).splitlines()[1]
        ('part0.ipynb', 'raise NotImplementedError("q1: write your answer here")')
    """
    sources = _paths("solutions", solutions)
    out = Path(check_type("out_dir", out_dir, (str, os.PathLike), "a path"))
    if out.exists() and not out.is_dir():
        raise NotebookError(f"out_dir must be a folder; got {str(out)!r} (a file)")
    released, names = [], set()
    for src in sources:
        if src.name in names:
            raise NotebookError(
                f"solutions must have distinct file names; got {src.name!r} twice")
        names.add(src.name)
        if out.exists() and src.parent.resolve() == out.resolve():
            raise NotebookError(
                f"out_dir must differ from the folder of {src}; got {str(out)!r}")
        try:
            nb = read_notebook(src)
            if not _holds_solutions(nb):
                raise NotebookError(
                    "must hold BEGIN SOLUTION regions; got a notebook without any "
                    "(a student's notebook, already released?)")
            released.append(release_notebook(nb))
        except NotebookError as exc:
            raise NotebookError(f"solution {src}: {exc}") from exc
    out.mkdir(parents=True, exist_ok=True)
    return [write_notebook(nb, out / src.name) for nb, src in zip(released, sources)]


def _paths(name: str, paths: Any) -> list[Path]:
    """Check a non-empty list of existing files; a lone path is refused."""
    if isinstance(paths, (str, bytes, os.PathLike)) or not isinstance(
            paths, Iterable):
        raise TypeError(f"{name} must be a list of paths; got {paths!r}")
    paths = list(paths)
    if not paths:
        raise ValueError(f"{name} must be a non-empty list of paths; got {paths!r}")
    return [_existing_file(name, p, "existing files") for p in paths]


def _existing_file(name: str, path: Any, rule: str = "an existing file") -> Path:
    """Check that ``path`` names a file; raise :class:`NotebookError` if not."""
    path = Path(check_type(name, path, (str, os.PathLike), "a path"))
    if not path.is_file():
        why = "a folder" if path.is_dir() else "no such file"
        if not path.exists() and re.search(r"[*?[]", str(path)):
            why += "; a pattern that matched nothing?"
        raise NotebookError(f"{name} must be {rule}; got {str(path)!r} ({why})")
    return path


def _holds_solutions(nb: dict) -> bool:
    """Whether an answer cell of ``nb`` holds a solution region."""
    for cell in nb["cells"]:
        kind = cell.get("cell_type")
        if kind in _BEGIN and cell_question(cell) is not None and any(
                _BEGIN[kind].match(line) for line in cell_source(cell).splitlines()):
            return True
    return False


# ---------------------------------------------------------------------------
# Plain values
# ---------------------------------------------------------------------------

_DTYPES = {name: getattr(torch, name) for name in (
    "float64", "float32", "float16", "bfloat16",
    "int64", "int32", "int16", "int8", "uint8", "bool")}
_MAX_ITEMS = 1_000_000
_MAX_DEPTH = 8
_MAX_STR = 10_000


def to_plain(value: Any) -> Any:
    """Encode an answer as a plain, JSON-ready value.

    Numbers become ``int``/``float`` (bools stay bools), tensors and numpy arrays
    ``{"tensor": {"dtype", "shape", "data"}}`` with ``data`` the flat row-major
    list, tuples and lists lists. Anything else raises ``TypeError``.

    >>> to_plain((torch.tensor([1.5, 2.0]), 3))
    [{'tensor': {'dtype': 'float32', 'shape': [2], 'data': [1.5, 2.0]}}, 3]
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        value = torch.as_tensor(value)
    if isinstance(value, Tensor):
        t = value.detach().cpu()
        name = str(t.dtype).removeprefix("torch.")
        if name not in _DTYPES:
            raise TypeError(f"answer must be a real or bool tensor; got dtype {name}")
        return {"tensor": {"dtype": name, "shape": list(t.shape),
                           "data": t.reshape(-1).tolist()}}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    raise TypeError("answer must be a number, a tensor, or a tuple or list of "
                    f"them; got {type(value).__name__}")


def from_plain(plain: Any, *, max_items: int = _MAX_ITEMS) -> Any:
    """Decode a plain value strictly: tensors come back as ``torch.Tensor``.

    Only exact JSON types are accepted (no subclasses), ints must fit in 64 bits,
    strings and nesting are bounded, and at most ``max_items`` numbers in total.
    Raises ``ValueError`` for anything else, so that a decoded value holds no
    foreign object.

    >>> from_plain({"tensor": {"dtype": "float64", "shape": [2], "data": [1, 2]}})
    tensor([1., 2.], dtype=torch.float64)
    >>> from_plain({"tensor": {"dtype": "float64", "shape": [3], "data": [1]}})
    Traceback (most recent call last):
    ...
    ValueError: tensor data must hold 3 numbers for shape [3]; got 1
    """
    check_int("max_items", max_items, low=0)
    budget = [max_items]

    def spend(n: int) -> None:
        budget[0] -= n
        if budget[0] < 0:
            raise ValueError(f"value must hold at most {max_items} numbers")

    def walk(node: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError(f"value must be nested at most {_MAX_DEPTH} deep")
        kind = type(node)
        if node is None or kind in (bool, float):
            spend(1)
            return node
        if kind is int:
            if not -(2**63) <= node < 2**63:
                raise ValueError("integers must fit in 64 bits")
            spend(1)
            return node
        if kind is str:
            if len(node) > _MAX_STR:
                raise ValueError(f"strings must be at most {_MAX_STR} characters")
            return node
        if kind is list:
            spend(len(node))
            return [walk(item, depth + 1) for item in node]
        if kind is dict and list(node) == ["tensor"]:
            return _tensor_from_plain(node["tensor"], spend)
        raise ValueError(f"not a plain value: {kind.__name__}")

    return walk(plain, 0)


def _tensor_from_plain(spec: Any, spend: Callable[[int], None]) -> Tensor:
    if type(spec) is not dict or sorted(spec) != ["data", "dtype", "shape"]:
        raise ValueError("a tensor must have exactly the keys dtype, shape, data")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if type(dtype) is not str or dtype not in _DTYPES:
        raise ValueError(
            f"tensor dtype must be one of {sorted(_DTYPES)}; got {dtype!r}")
    if (type(shape) is not list or len(shape) > _MAX_DEPTH
            or not all(type(s) is int and s >= 0 for s in shape)):
        raise ValueError(f"tensor shape must be a short list of sizes; got {shape!r}")
    if any(s > _MAX_ITEMS for s in shape):
        raise ValueError(f"tensor must hold at most {_MAX_ITEMS} numbers; "
                         f"got shape {shape}")
    if type(data) is not list:
        raise ValueError("tensor data must be a flat list of numbers")
    numel = math.prod(shape)
    if numel != len(data):
        raise ValueError(
            f"tensor data must hold {numel} numbers for shape {shape}; "
            f"got {len(data)}")
    spend(numel)
    allowed = ((bool,) if dtype == "bool" else
               (int,) if dtype.startswith(("int", "uint")) else (int, float))
    if not all(type(x) in allowed for x in data):
        raise ValueError(f"tensor data must hold only {allowed[-1].__name__}s "
                         f"for dtype {dtype}")
    try:
        return torch.tensor(data, dtype=_DTYPES[dtype]).reshape(shape)
    except (RuntimeError, OverflowError) as exc:
        raise ValueError(f"tensor data does not fit dtype {dtype}") from exc


def compare(expected: Any, got: Any, *, rtol: float = 1e-6, atol: float = 1e-9,
            values: bool = True) -> str | None:
    """Why a decoded answer does not match, or ``None`` when it does.

    Both arguments are decoded plain values (see :func:`from_plain`). Scalars (numbers
    and 0-d tensors) compare by value with ``|got - expected| <= max(rtol *
    |expected|, atol)``-style closeness (:func:`math.isclose`); tensors of one or
    more dimensions must have the expected dtype and shape, then be close
    elementwise (:func:`torch.isclose`, exactly equal for integer and bool dtypes);
    sequences must have the same length and match item by item. NaN never
    matches. With ``values=False`` only the form is checked (types, dtypes,
    shapes, lengths).

    >>> compare(torch.zeros(2, dtype=torch.float64), torch.zeros(3))
    'dtype differs: expected float64, got float32'
    >>> compare(0.5, torch.tensor(0.5000001)) is None
    True
    """
    check_real("rtol", rtol, low=0.0)
    check_real("atol", atol, low=0.0)
    if _is_scalar(expected) and _is_scalar(got):
        e, g = _scalar(expected), _scalar(got)
        if isinstance(e, bool) != isinstance(g, bool):
            return f"expected {_kind(expected)}, got {_kind(got)}"
        if not values or (math.isclose(g, e, rel_tol=rtol, abs_tol=atol)
                          if not isinstance(e, bool) else g == e):
            return None
        return f"value differs: expected {show(expected)}, got {show(got)}"
    if isinstance(expected, Tensor):
        if not isinstance(got, Tensor):
            return f"expected {_kind(expected)}, got {_kind(got)}"
        if got.dtype != expected.dtype:
            return (f"dtype differs: expected {_dtype(expected)}, "
                    f"got {_dtype(got)}")
        if got.shape != expected.shape:
            return (f"shape differs: expected {tuple(expected.shape)}, "
                    f"got {tuple(got.shape)}")
        return _tensor_mismatch(expected, got, rtol, atol) if values else None
    if isinstance(expected, list):
        if not isinstance(got, list):
            return f"expected {_kind(expected)}, got {_kind(got)}"
        if len(got) != len(expected):
            return f"expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            why = compare(e, g, rtol=rtol, atol=atol, values=values)
            if why:
                return f"item {i}: {why}"
        return None
    if type(got) is type(expected) and (not values or got == expected):
        return None
    return f"expected {show(expected)}, got {show(got)}"


def _is_scalar(x: Any) -> bool:
    return type(x) in (bool, int, float) or (isinstance(x, Tensor) and x.ndim == 0)


def _scalar(x: Any) -> bool | float:
    if isinstance(x, Tensor):
        x = x.item()
    return x if isinstance(x, bool) else float(x)


def _tensor_mismatch(expected: Tensor, got: Tensor, rtol: float, atol: float
                     ) -> str | None:
    if expected.numel() == 0:
        return None
    if expected.dtype.is_floating_point:
        e, g = expected.double(), got.double()
        bad = ~torch.isclose(g, e, rtol=rtol, atol=atol)
        diff = (g - e).abs().nan_to_num(nan=math.inf)
    else:
        bad = got != expected
        diff = (got.double() - expected.double()).abs()
    if not bool(bad.any()):
        return None
    worst = int(torch.where(bad, diff, -1.0).argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst),
                                                      expected.shape))
    return (f"values differ: largest difference {float(diff.reshape(-1)[worst]):.3g}"
            f" at index {index}")


def _dtype(t: Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def _kind(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"a {x.ndim}-d tensor" if x.ndim else "a number (0-d tensor)"
    if isinstance(x, list):
        return f"a sequence of {len(x)}"
    if isinstance(x, bool):
        return "a bool"
    if isinstance(x, (int, float)):
        return "a number"
    return "nothing" if x is None else type(x).__name__


def show(value: Any, limit: int = 8) -> str:
    """A short, deterministic text for a decoded value (tensors show their form).

    >>> show((torch.tensor([1.0, 2.5], dtype=torch.float64), 0.1))
    '(tensor([1., 2.5]) (float64, shape (2,)), 0.1)'
    """
    if isinstance(value, Tensor):
        flat = value.detach().reshape(-1).tolist()
        items = ", ".join(_num(x) for x in flat[:limit])
        items += ", ..." if len(flat) > limit else ""
        text = f"tensor([{items}])" if value.ndim else f"tensor({items})"
        return f"{text} ({_dtype(value)}, shape {tuple(value.shape)})"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(show(v, limit) for v in value) + ")"
    if isinstance(value, (bool, int, float)):
        return _num(value)
    return repr(value)


def _num(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, float):
        return repr(x)
    text = f"{x:.6g}"
    return text + "." if re.fullmatch(r"-?\d+", text) else text


# ---------------------------------------------------------------------------
# Question specs (no solutions here: only inputs, public cases and tolerances)
# ---------------------------------------------------------------------------

F64 = torch.float64
Args = tuple


@dataclass(frozen=True)
class Implement:
    """An *implement* question: a function the grader calls on fresh inputs.

    Attributes:
        name: the function's name in the student's notebook.
        signature: how the question writes the call, e.g. ``"gd_step(p, lr)"``.
        inputs: ``inputs(gen, i) -> args``: the arguments of grading case ``i``,
            drawn with the ``torch.Generator`` ``gen`` (CPU, float64 tensors).
        public: ``((args, expected), ...)``: the public cases of :func:`checker`.
        cases: how many grading cases are drawn, ``>= 1``.
        rtol, atol: tolerances of :func:`compare`.

    Example:
        A question "double a vector" with one public case:

        >>> def inputs(gen, i):  # grading case i: one float64 vector, shape (3,)
        ...     return (torch.randn(3, generator=gen, dtype=F64),)
        >>> public = (((torch.tensor([1.0, -2.0]),), torch.tensor([2.0, -4.0])),)
        >>> spec = Implement("double", "double(x)", inputs, public, cases=4)
        >>> print(*check_answer(spec, "q1", lambda x: 2 * x))
        q1: 1 of 1 public checks passed (public checks never count toward the grade).
    """

    name: str
    signature: str
    inputs: Callable[[torch.Generator, int], Args]
    public: tuple[tuple[Args, Any], ...]
    cases: int = 6
    rtol: float = 1e-6
    atol: float = 1e-9
    kind = "implement"

    def __post_init__(self):
        check_type("name", self.name, str, "a str")
        check_type("signature", self.signature, str, "a str")
        if not callable(self.inputs):
            raise TypeError(f"inputs must be callable; got {self.inputs!r}")
        check_type("public", self.public, tuple, "a tuple of (args, expected)")
        check_int("cases", self.cases, low=1)
        check_real("rtol", self.rtol, low=0.0)
        check_real("atol", self.atol, low=0.0)


@dataclass(frozen=True)
class Compute:
    """A *compute* question: a value the student assigns to ``name``.

    Attributes:
        name: the variable's name, e.g. ``"answer_q2"``.
        template: a value of the expected form (only its form is used by the
            public check, e.g. ``(0.0, 0.0)`` for two numbers).
        rtol, atol: tolerances of :func:`compare`.

    Example:
        >>> spec = Compute("answer_q2", template=(0.0, 0.0))
        >>> print(*check_answer(spec, "q2", (0.5, 3)))
        q2: answer_q2 has the expected form; its value is checked only when grading.
        >>> print(*check_answer(spec, "q2", 0.5))  # doctest: +NORMALIZE_WHITESPACE
        q2: answer_q2 does not have the expected form (0., 0.):
        expected a sequence of 2, got a number
        >>> spec = Compute("answer_q6", template=(0, 0))  # two whole numbers
        >>> lines = check_answer(spec, "q6", (8000, 1537.4))
        >>> print(*lines)  # doctest: +NORMALIZE_WHITESPACE
        q6: answer_q6 does not have the expected form (0, 0): entry[1] must be a whole
        number; got 1537.4
    """

    name: str
    template: Any
    rtol: float = 1e-6
    atol: float = 1e-9
    kind = "compute"

    def __post_init__(self):
        check_type("name", self.name, str, "a str")
        check_real("rtol", self.rtol, low=0.0)
        check_real("atol", self.atol, low=0.0)


@dataclass(frozen=True)
class Explain:
    """An *explain* question: free text, read and graded by the instructor.

    Example:
        >>> print(*check_answer(Explain(), "q8", "Because the variance ..."))
        q8 is read by the instructor: there is no automatic check.
    """

    kind = "explain"


Spec = Implement | Compute | Explain


def _t(values: Any, dtype: torch.dtype = F64) -> Tensor:
    return torch.tensor(values, dtype=dtype)


def _randn(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=gen, dtype=F64)


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen, dtype=F64))


def _randint(gen: torch.Generator, low: int, high: int) -> int:
    """An int in the closed range ``[low, high]``."""
    return int(torch.randint(low, high + 1, (), generator=gen))


def _spd(gen: torch.Generator, d: int) -> Tensor:
    m = _randn(gen, d, d)
    return m @ m.T + 0.1 * torch.eye(d, dtype=F64)


def _signs(gen: torch.Generator, n: int) -> Tensor:
    return torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).to(F64)


def _gd_step_inputs(gen, i):
    return 10 * torch.rand(2, generator=gen, dtype=F64) - 5, _uniform(gen, 0.01, 0.3)


def _backtrack_inputs(gen, i):
    # On a quadratic the test accepts t <= 2 (1 - c) |g|^2 / g^T A g. A large c
    # and a gradient far from norm 1 make the c-term decide the accepted step,
    # so that a wrong sufficient-decrease term (|g| for |g|^2, say) shows.
    d = _randint(gen, 2, 4)
    return (_spd(gen, d), _randn(gen, d), 4 * _randn(gen, d),
            _uniform(gen, 0.5, 2.0), (0.5, 0.8)[i % 2], (0.45, 0.3, 1e-4)[i % 3])


def _minibatch_grad_inputs(gen, i):
    n, d = _randint(gen, 5, 20), _randint(gen, 1, 4)
    b = _randint(gen, 1, 8)
    return (_randn(gen, n, d), _randn(gen, n), _randn(gen, d),
            torch.randint(0, n, (b,), generator=gen))


def _mean_variance_inputs(gen, i):
    # Even cases draw with replacement, odd ones without (then 2 <= b < n, so
    # that the finite-population correction is not 1).
    n = _randint(gen, 5, 30)
    v = _uniform(gen, 0.5, 3.0) * _randn(gen, n) + _uniform(gen, -2.0, 2.0)
    replace = i % 2 == 0
    b = _randint(gen, 1, n) if replace else _randint(gen, 2, n - 1)
    return v, b, replace


def _noise_scale_inputs(gen, i):
    n, d = _randint(gen, 5, 40), _randint(gen, 1, 4)
    return (_uniform(gen, 0.5, 2.0) * _randn(gen, n, d) + 2 * _randn(gen, d),)


def _heavy_ball_inputs(gen, i):
    d = _randint(gen, 1, 5)
    return (_randn(gen, d), _randn(gen, d), _randn(gen, d),
            _uniform(gen, 0.01, 0.5), _uniform(gen, 0.0, 0.99))


def _adam_inputs(gen, i):
    d = _randint(gen, 1, 6)
    exp_avg_sq = 0.1 * torch.rand(d, generator=gen, dtype=F64)
    return (_randn(gen, d), _randn(gen, d), 0.1 * _randn(gen, d), exp_avg_sq,
            _randint(gen, 1, 50), _uniform(gen, 1e-3, 0.1), _uniform(gen, 0.8, 0.95),
            _uniform(gen, 0.9, 0.9999), (1e-8, 1e-3)[i % 2])


def _amsgrad_inputs(gen, i):
    param, grad, exp_avg, exp_avg_sq, *rest = _adam_inputs(gen, i)
    scale = 1 + 2 * torch.rand(exp_avg_sq.shape, generator=gen, dtype=F64)
    return (param, grad, exp_avg, exp_avg_sq, exp_avg_sq * scale, *rest)


def _clip_inputs(gen, i):
    d = _randint(gen, 2, 6)
    return _uniform(gen, 0.1, 3.0) * _randn(gen, d), _uniform(gen, 0.5, 3.0)


def _hinge_inputs(gen, i):
    b, d = _randint(gen, 2, 10), _randint(gen, 2, 4)
    return _randn(gen, d), _randn(gen, b, d), _signs(gen, b), _uniform(gen, 0.0, 0.1)


def _accumulate_inputs(gen, i):
    k, d = _randint(gen, 2, 5), _randint(gen, 1, 4)
    return _randn(gen, k, d), torch.randint(1, 10, (k,), generator=gen)


EXERCISE_SETS: dict[str, dict[str, Spec]] = {
    # solutions/part1_principles.ipynb
    "part1": {
        "q1": Implement(
            "gd_step", "gd_step(p, lr)", _gd_step_inputs,
            public=(((_t([1.0, 1.0]), 0.1), _t([1.6, 0.4])),
                    ((_t([7.0, -8.0]), 0.25), _t([7.0, -8.0])),
                    ((_t([0.0, 0.0]), 0.05), _t([0.6, -0.1])))),
        "q2": Compute("answer_q2", template=(0.0, 0.0, 0.0)),
        "q3": Implement(
            "backtrack", "backtrack(A, b, x, lr0, shrink, c)", _backtrack_inputs,
            public=(((_t([[10.0, 0.0], [0.0, 1.0]]), _t([0.0, 0.0]), _t([1.0, 1.0]),
                      1.0, 0.5, 1e-4), 0.125),
                    ((_t([[2.0, 1.0], [1.0, 3.0]]), _t([1.0, 0.0]), _t([2.0, -1.0]),
                      2.0, 0.8, 0.3), 0.8192000000000003))),
        "q4": Implement(
            "minibatch_grad", "minibatch_grad(X, y, w, idx)", _minibatch_grad_inputs,
            public=(((_t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), _t([1.0, 2.0, 0.0]),
                      _t([1.0, 1.0]), _t([0, 2], torch.int64)), _t([1.0, 1.0])),
                    ((_t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), _t([1.0, 2.0, 0.0]),
                      _t([1.0, 1.0]), _t([1, 1, 2], torch.int64)),
                     _t([0.6666666666666666, 0.0])))),
        "q5": Implement(
            "mean_variance", "mean_variance(v, b, replace)", _mean_variance_inputs,
            public=(((_t([1.0, 2.0, 3.0, 4.0]), 2, True), 0.625),
                    ((_t([1.0, 2.0, 3.0, 4.0]), 2, False), 0.4166666666666667),
                    ((_t([0.0, 0.0, 6.0]), 3, False), 0.0))),
        "q6": Compute("answer_q6", template=(0, 0)),
        "q7": Implement(
            "noise_scale", "noise_scale(G)", _noise_scale_inputs,
            public=(((_t([[1.0], [3.0]]),), 0.25),
                    ((_t([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]),),
                     0.6666666666666666))),
        "q8": Explain(),
        "q9": Explain(),
    },
    # solutions/part2_adaptive.ipynb
    "part2": {
        "q1": Implement(
            "heavy_ball", "heavy_ball(x, x_prev, grad, lr, momentum)",
            _heavy_ball_inputs,
            public=(((_t([1.0, 1.0]), _t([1.0, 1.0]), _t([10.0, 1.0]), 0.05, 0.9),
                     _t([0.5, 0.95])),
                    ((_t([0.5, 0.95]), _t([1.0, 1.0]), _t([5.0, 0.95]), 0.05, 0.9),
                     _t([-0.2, 0.8575])))),
        "q2": Implement(
            "adam_step",
            "adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps)",
            _adam_inputs,
            public=(((_t([1.0, -2.0]), _t([0.5, -1.0]), _t([0.0, 0.0]), _t([0.0, 0.0]),
                      1, 0.1, 0.9, 0.999, 1e-8),
                     (_t([0.900000002, -1.900000001]),
                      _t([0.04999999999999999, -0.09999999999999998]),
                      _t([0.0002500000000000002, 0.0010000000000000009]))),
                    ((_t([0.5]), _t([2.0]), _t([0.1]), _t([0.04]), 3, 0.01, 0.9, 0.99,
                      1e-8),
                     (_t([0.4934633127515674]), _t([0.29]),
                      _t([0.07960000000000003]))),
                    # eps of the size of sqrt(v_hat): eps inside the root shows
                    ((_t([1.0, -0.5]), _t([0.01, -0.002]), _t([0.0, 0.0]),
                      _t([0.0, 0.0]), 1, 0.1, 0.9, 0.999, 1e-3),
                     (_t([0.9090909090909092, -0.43333333333333335]),
                      _t([0.001, -0.0002]), _t([1e-7, 4e-9]))))),
        "q3": Implement(
            "amsgrad_step",
            "amsgrad_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, "
            "lr, beta1, beta2, eps)",
            _amsgrad_inputs,
            public=(((_t([0.5, 0.5]), _t([2.0, 0.1]), _t([0.1, 0.1]), _t([0.04, 0.04]),
                      _t([0.05, 0.05]), 3, 0.01, 0.9, 0.99, 1e-8),
                     (_t([0.4934633127515674, 0.4971559892116129]), _t([0.29, 0.1]),
                      _t([0.07960000000000003, 0.039700000000000006]),
                      _t([0.07960000000000003, 0.05]))),)),
        "q4": Compute("answer_q4", template=(0.0, 0.0)),
        "q5": Implement(
            "clip_by_norm", "clip_by_norm(g, max_norm)", _clip_inputs, rtol=1e-5,
            public=(((_t([3.0, 4.0]), 1.0), _t([0.6, 0.8])),
                    ((_t([0.3, 0.4]), 1.0), _t([0.3, 0.4])))),
        "q6": Compute("answer_q6", template=0.0),
        "q7": Implement(
            "hinge_subgrad", "hinge_subgrad(w, X, y, lam)", _hinge_inputs,
            public=(((_t([1.0, 0.0]), _t([[2.0, 0.0], [0.5, 1.0]]), _t([1.0, 1.0]),
                      0.1), _t([-0.15, -0.5])),
                    ((_t([1.0, -1.0]), _t([[1.0, 1.0], [2.0, -1.0]]),
                      _t([-1.0, 1.0]), 0.0), _t([0.5, 0.5])))),
        "q8": Implement(
            "accumulate", "accumulate(micro_means, sizes)", _accumulate_inputs,
            public=(((_t([[1.0, 0.0], [0.0, 1.0]]), _t([1, 3], torch.int64)),
                     _t([0.25, 0.75])),
                    ((_t([[2.0], [4.0], [0.0]]), _t([2, 2, 4], torch.int64)),
                     _t([1.5])))),
        "q9": Explain(),
        "q10": Explain(),
    },
}


def get_exercise_set(name: str) -> dict[str, Spec]:
    """The question specs of an exercise set, by name (``"part1"``, ...).

    >>> sorted(get_exercise_set("part1"))[:3]
    ['q1', 'q2', 'q3']
    """
    check_type("exercise_set", name, str, "a str")
    check_choice("exercise_set", name, EXERCISE_SETS)
    return EXERCISE_SETS[name]


# ---------------------------------------------------------------------------
# Public self-checks
# ---------------------------------------------------------------------------

def _normalise(value: Any) -> Any:
    """An answer as the grader sees it: encoded, then decoded."""
    return from_plain(to_plain(value))


def _number_form(template: Any, answer: Any, where: str = "") -> str | None:
    """What the form check adds for numbers: finite, and whole where the
    template holds an int (``answer`` already matches the template's shape)."""
    if isinstance(template, (tuple, list)):
        return next((why for i, (t, a) in enumerate(zip(template, answer))
                     if (why := _number_form(t, a, f"{where}[{i}]"))), None)
    if isinstance(answer, Tensor) and answer.ndim == 0:
        answer = answer.item()
    if isinstance(answer, float) and not math.isfinite(answer):
        return f"entry{where} must be a finite number; got {answer!r}"
    if type(template) is int and not (isinstance(answer, int) or (
            isinstance(answer, float) and answer.is_integer())):
        return f"entry{where} must be a whole number; got {answer!r}"
    return None


def check_answer(spec: Spec, qid: str, answer: Any) -> list[str]:
    """Run one answer against its public cases; return the feedback lines.

    The lines are what :func:`checker`'s ``check`` prints. An *implement* answer
    runs on each public case (on copies of the arguments) and the first failing
    case is reported in full; a *compute* answer is checked for its form only;
    an *explain* answer is not checked. Public checks never count toward the
    grade.

    Args:
        spec: the question's spec (:class:`Implement`, :class:`Compute` or
            :class:`Explain`).
        qid: the question's id, used in the messages.
        answer: the student's function (implement) or value (compute).

    Returns:
        The feedback, one ``str`` per line.

    Example:
        >>> spec = get_exercise_set("part2")["q5"]  # clip_by_norm(g, max_norm)
        >>> print("\\n".join(check_answer(spec, "q5", lambda g, max_norm: g)))
        q5: case 1 of 2 failed: clip_by_norm(tensor([3., 4.]), 1.)
          expected: tensor([0.6, 0.8]) (float64, shape (2,))
          got:      tensor([3., 4.]) (float64, shape (2,))
          values differ: largest difference 3.2 at index (1,)
        q5: 1 of 2 public checks passed (public checks never count toward the grade).
    """
    check_type("spec", spec, (Implement, Compute, Explain),
               "an Implement, Compute or Explain")
    check_type("qid", qid, str, "a str")
    if isinstance(spec, Explain):
        return [f"{qid} is read by the instructor: there is no automatic check."]
    if isinstance(spec, Compute):
        try:
            why = compare(_normalise(spec.template), _normalise(answer), values=False)
            why = why or _number_form(spec.template, answer)
        except (TypeError, ValueError) as exc:
            why = str(exc)
        if why:
            return [f"{qid}: {spec.name} does not have the expected form "
                    f"{show(spec.template)}: {why}"]
        return [f"{qid}: {spec.name} has the expected form; its value is checked "
                "only when grading."]
    if not callable(answer):
        return [f"{qid}: expected the function {spec.name}, got "
                f"{type(answer).__name__}"]
    why = _signature_mismatch(answer, spec)
    if why is not None:
        return [f"{qid}: {why}"]
    lines, passed = [], 0
    for n, (args, expected) in enumerate(spec.public, 1):
        why = _run_public_case(answer, args, expected, spec)
        if why is None:
            passed += 1
        elif why == "not answered":
            return [f"{qid}: not answered yet ({spec.name} raises "
                    "NotImplementedError)."]
        elif not lines:  # report the first failing case in full
            call = f"{spec.name}({', '.join(show(a) for a in args)})"
            call = re.sub(r" \((float64|int64), shape \(\d*,?\)\)", "", call)
            lines.append(f"{qid}: case {n} of {len(spec.public)} failed: {call}")
            lines.extend("  " + line for line in why.splitlines())
    total = len(spec.public)
    lines.append(f"{qid}: {passed} of {total} public checks passed {_PUBLIC_NOTE}.")
    return lines


def _signature_mismatch(fn: Callable, spec: Implement) -> str | None:
    """Why ``fn`` cannot take the question's arguments, or ``None``."""
    if not spec.public:
        return None
    args = spec.public[0][0]
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: just call it
        return None
    try:
        signature.bind(*args)
    except TypeError:
        name = getattr(fn, "__name__", type(fn).__name__)
        return (f"{spec.name} must take {len(args)} arguments, as in "
                f"{spec.signature}; got {name}{signature}")
    return None


def _run_public_case(fn: Callable, args: Args, expected: Any, spec: Implement
                     ) -> str | None:
    try:
        got = fn(*copy.deepcopy(args))
    except NotImplementedError:
        return "not answered"
    except Exception as exc:  # the student's code: report, do not stop
        return f"raised {type(exc).__name__}: {exc}"
    try:
        got = _normalise(got)
    except (TypeError, ValueError) as exc:
        return f"cannot check the result: {exc}"
    expected = _normalise(expected)
    why = compare(expected, got, rtol=spec.rtol, atol=spec.atol)
    if why is None:
        return None
    return (f"expected: {show(expected)}\ngot:      {show(got)}\n{why}")


def checker(exercise_set: str) -> Callable[[str, Any], None]:
    """Return ``check(question, answer)`` for the notebook of ``exercise_set``.

    ``check`` prints immediate, specific feedback from the question's public cases:
    which case failed, the expected and the obtained value with dtype and shape.
    For a *compute* question it checks only the answer's form; for an *explain*
    question there is nothing to check.

    >>> check = checker("part1")
    >>> check("q5", lambda v, b, replace: 0.625)
    q5: case 2 of 3 failed: mean_variance(tensor([1., 2., 3., 4.]), 2, False)
      expected: 0.416667
      got:      0.625
      value differs: expected 0.416667, got 0.625
    q5: 1 of 3 public checks passed (public checks never count toward the grade).
    """
    specs = get_exercise_set(exercise_set)

    def check(question: str, answer: Any) -> None:
        check_type("question", question, str, "a question id such as 'q1'")
        check_choice("question", question, specs)
        print("\n".join(check_answer(specs[question], question, answer)))

    return check
