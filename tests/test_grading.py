"""The grader against broken and hostile submissions (``tests/submissions/``).

All fixtures are graded in one ``mbgd grade`` run (``-j 2``, short time limits),
against ``solutions/part1_principles.ipynb``, with instructor-only extra cases
written outside the repository. Each fixture must get exactly the row below.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mbgd.exercises import to_plain
from mbgd.grading import (
    GradingError,
    Limits,
    Task,
    _feedback_names,
    find_sandbox,
    grade,
    gradebook_csv,
    load_reference,
    make_tasks,
    notebook_code,
    parse_events,
    read_extra_cases,
)

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "part1_principles.ipynb"
SUBMISSIONS = ROOT / "tests" / "submissions"
QIDS = [f"q{i}" for i in range(1, 10)]
SECONDS = "15"  # wall clock per submission (generous: CI machines can be loaded)
# Instructor-only cases: one more for q1 and q3 (7 cases each instead of 6).
EXTRA = {"q1": [[{"tensor": [1.0, 1.0]}, 0.1]],
         "q3": [[{"tensor": [[3.0, 0.0], [0.0, 1.0]]}, {"tensor": [0.0, 0.0]},
                 {"tensor": [1.0, 1.0]}, 1.0, 0.5, 1e-4]]}


def row(status, total, **points):
    """A gradebook row: unlisted questions score "0"; "" is left to the instructor."""
    return {"status": status, "total": total,
            **{q: points.get(q, "0") for q in QIDS}}


FULL = {"q1": "2", "q2": "2", "q3": "3", "q4": "2", "q5": "3", "q6": "2", "q7": "2"}
EXPECTED = {
    "correct.ipynb": row("ok", "16", **FULL, q8="", q9=""),
    # Metadata stripped (as Colab does): found by the marker comments.
    "stripped.ipynb": row("ok", "16", **FULL, q8="", q9=""),
    # Answers reversed; q1's wrong copy first (the last definition wins); q9's
    # answer first and a placeholder last (the last marked cell wins: no answer).
    "reordered.ipynb": row("ok", "16", **FULL, q8=""),
    # q1 right; q2 wrong; q3 one shrink too many; q5 right only with replacement
    # (3 of 6 cases); q6 right; q7 1/(n-1); q8 answered; q9 placeholder.
    "wrong.ipynb": row("ok", "5.5", q1="2", q5="1.5", q6="2", q8=""),
    "truncated.ipynb": row("unreadable", "0"),
    # A cell raising, q3 raising, SystemExit and sys.exit() in cells: later cells run.
    "crash_exception.ipynb": row("ok", "5", q1="2", q5="3"),
    "crash_abort.ipynb": row("crashed", "0"),
    # A looping cell and a looping q3 are stopped by the per-call limit.
    "hang_call.ipynb": row("ok", "5", q1="2", q5="3"),
    # Ignores SIGALRM and loops: killed at the wall-clock limit.
    "hang_forever.ipynb": row("timeout", "0"),
    "memory_hog.ipynb": row("ok", "5", q1="2", q5="3"),
    "output_flood.ipynb": row("output flood", "0"),
    # Patched torch, math, builtins, the checker and the encoder: only q1 counts.
    "monkeypatch.ipynb": row("ok", "2", q1="2"),
    # Lying __eq__ / __float__, a lying tensor subclass, numbers.Real registration.
    "lying.ipynb": row("ok", "0"),
    # Fake result lines on every descriptor, fake gradebooks, then os._exit(0).
    "forged_results.ipynb": row("ok", "0"),
    # Walks the disk and /proc for the solution, to run its code.
    "disk_search.ipynb": row("ok", "0"),
}
NEEDS_SANDBOX = {"forged_results.ipynb", "disk_search.ipynb"}  # they write/search


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def sandbox():
    return find_sandbox("auto")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox):
    """Grade every fixture once, through the console entry point."""
    tmp = tmp_path_factory.mktemp("grading")
    extra = tmp / "extra.json"
    extra.write_text(json.dumps(EXTRA))
    names = sorted(n for n in EXPECTED
                   if sandbox.kind == "bwrap" or n not in NEEDS_SANDBOX)
    before = digest(SUBMISSIONS)
    out = tmp / "out"
    done = subprocess.run(
        [sys.executable, "-m", "mbgd.cli", "grade", str(SOLUTION),
         *(str(SUBMISSIONS / n) for n in names), "--out", str(out), "-j", "2",
         "--timeout", SECONDS, "--call-timeout", "2", "--memory", "1024",
         "--extra-cases", str(extra), "--seed", "12345", "--no-progress"],
        capture_output=True, text=True, timeout=300, cwd=tmp)
    assert done.returncode == 0, done.stderr
    with open(out / "gradebook.csv", newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    return {"out": out, "rows": rows, "names": names, "before": before,
            "stdout": done.stdout}


def test_fixtures_and_expectations_match():
    assert {p.name for p in SUBMISSIONS.glob("*.ipynb")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_submission_gets_exactly_its_score(graded, sandbox, name):
    if name not in graded["names"]:
        pytest.skip(f"needs bubblewrap; sandbox here: {sandbox.note}")
    got = graded["rows"][name]
    want = EXPECTED[name]
    assert {k: got[k] for k in want} == want, got["reason"]
    assert got["auto_max"] == "16" and got["manual_max"] == "4"
    assert got["sandbox"] == sandbox.kind
    if got["total"] == "0" or got["status"] != "ok":
        assert got["reason"], "a row that scores 0 or fails must say why"


def test_reasons_name_the_cause(graded):
    rows = graded["rows"]
    assert rows["truncated.ipynb"]["reason"].startswith("invalid JSON at line")
    assert "killed by SIGABRT" in rows["crash_abort.ipynb"]["reason"]
    assert rows["hang_forever.ipynb"]["reason"].startswith(
        f"ran longer than {SECONDS} s")
    assert rows["output_flood.ipynb"]["reason"].startswith("printed more than 64 MiB")
    assert rows["lying.ipynb"]["reason"].startswith("scored 0: q1 wrong, q2 wrong")
    assert rows["correct.ipynb"]["reason"] == ""


def test_outputs_are_complete_and_inputs_untouched(graded):
    out = graded["out"]
    names = graded["names"]
    assert sorted(p.name for p in out.iterdir()) == \
        ["feedback", "gradebook.csv", "grading.json"]
    assert sorted(p.name for p in (out / "feedback").iterdir()) == \
        sorted(n.replace(".ipynb", ".md") for n in names)
    assert list(graded["rows"]) == names  # one row each, in the order given
    assert digest(SUBMISSIONS) == graded["before"]  # nothing written or changed
    info = json.loads((out / "grading.json").read_text())
    assert info["seed"] == 12345 and info["exercise_set"] == "part1"
    assert info["cases"] == {"q1": 7, "q2": 1, "q3": 7, "q4": 6, "q5": 6, "q6": 1,
                             "q7": 6}
    assert f"graded {len(names)} submissions" in graded["stdout"]


def feedback(graded, name):
    return (graded["out"] / "feedback" / name.replace(".ipynb", ".md")).read_text()


def test_feedback_is_specific(graded):
    text = feedback(graded, "correct.ipynb")
    assert "Automatic points: **16 of 16**" in text
    assert "Chebyshev asks for b = 8000" in text  # the explain answer, for the reader
    assert "BEGIN SOLUTION" not in text
    text = feedback(graded, "wrong.ipynb")
    assert "| q5 | implement | 1.5 of 3 | 3 of 6 cases passed |" in text
    assert "| q4 | implement | 0 of 2 | minibatch_grad is not defined |" in text
    text = feedback(graded, "crash_exception.ipynb")
    assert "ZeroDivisionError: division by zero" in text
    assert "raised ValueError: not today" in text
    text = feedback(graded, "monkeypatch.ipynb")
    assert "- got: `0.125`" in text  # the forged encoder's answer, judged here
    text = feedback(graded, "hang_call.ipynb")
    assert "TimeLimitExceeded: stopped after 2 s" in text
    text = feedback(graded, "memory_hog.ipynb")
    assert "MemoryError" in text


def test_the_sandbox_hides_the_instructors_files(graded, sandbox):
    if sandbox.kind != "bwrap":
        pytest.skip(f"needs bubblewrap; sandbox here: {sandbox.note}")
    text = feedback(graded, "disk_search.ipynb")
    assert "found 0 instructor files: []" in text
    listing = re.search(r"visible at /: (\[.*?\])", text)
    assert listing, text
    visible = set(ast.literal_eval(listing.group(1)))
    # The system folders the sandbox binds, plus the top folder of each shared
    # path (the Python install, the venv and mbgd): nothing else of the host.
    allowed = {"bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr"}
    allowed |= {Path(folder).parts[1] for folder in sandbox.shared}
    assert {"dev", "proc", "tmp", "usr"} <= visible <= allowed, visible
    forged = feedback(graded, "forged_results.ipynb")
    assert "submission,total" not in (graded["out"] / "gradebook.csv").read_text()
    assert "q1 wrong" in graded["rows"]["forged_results.ipynb"]["reason"], forged


# ---------------------------------------------------------------- units

@pytest.fixture(scope="module")
def reference():
    return load_reference(SOLUTION)


def test_make_tasks_checks_its_seed(reference):
    with pytest.raises(ValueError, match="seed must be an int >= 0; got -1"):
        make_tasks(reference, -1)
    with pytest.raises(TypeError, match="seed must be an int >= 0; got '1'"):
        make_tasks(reference, "1")


def test_cases_are_fresh_for_each_seed_and_reproducible(reference):
    a, b = make_tasks(reference, 1), make_tasks(reference, 2)
    assert a["q1"].cases != b["q1"].cases
    assert make_tasks(reference, 1)["q1"].cases == a["q1"].cases
    public = to_plain([list(args) for args, _ in reference.specs["q1"].public])
    assert not any(case in public for case in a["q1"].cases)


@pytest.mark.parametrize("data, message", [
    ({"q2": [[1.0]]}, "'q2' is not an implement question"),
    ({"q9": [[1.0]]}, "'q9' is not an implement question"),
    ({"q1": [1.0]}, "q1 must be a list of argument lists"),
    ({"q1": [[{"tensor": [1.0], "dtype": "float99"}, 0.1]]}, "unknown dtype"),
    ({"q1": [[{"tensor": [1.0], "colour": "red"}, 0.1]]}, "a tensor is written"),
    ([1, 2], "must be a JSON object"),
])
def test_extra_cases_are_validated(tmp_path, reference, data, message):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(data))
    with pytest.raises(GradingError, match=message):
        read_extra_cases(path, reference)


def test_a_failing_extra_case_stops_before_grading(tmp_path, reference):
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"q1": [[{"tensor": [1.0, 2.0, 3.0]}, 0.1]]}))
    with pytest.raises(GradingError, match="the solution's gd_step .q1. failed on "
                       "grading case 7"):
        make_tasks(reference, 0, read_extra_cases(path, reference))


def test_parse_events_is_strict():
    tasks = {"q1": Task("q1", "f", cases=[[1.0], [2.0], [3.0]]),
             "q2": Task("q2", "v")}
    lines = [
        {"q": "q1", "case": 0, "value": 1.0},
        {"q": "q1", "case": 0, "value": 5.0},  # a second report: ignored
        {"q": "q1", "case": 1, "error": "ValueError: no"},
        {"q": "q2", "value": [1, 2]},
        {"cell": 3, "error": "ZeroDivisionError"},
        {"done": True},
        # malformed: each is ignored and counted
        {"q": "q1", "case": 3, "value": 1.0},  # no such case
        {"q": "q1", "case": True, "value": 1.0},  # bool is not a case number
        {"q": "q3", "value": 1.0},  # no such question
        {"q": "q2", "case": 0, "value": 1.0},  # q2 takes no cases
        {"q": "q1", "case": 2, "value": {"float": 1.0}},  # not a plain value
        {"q": "q1", "case": 1, "value": 1.0, "extra": 1},
        {"done": 1},
        [1, 2],
    ]
    data = b"\n".join(json.dumps(x).encode() for x in lines)
    data += b"\n\x00garbage\n" + b"[" * 100_000 + b"\n" + b'{"cell": 1, "error": 2}\n'
    out = parse_events(data, tasks)
    assert out.values == {("q1", 0): 1.0, ("q2", 0): [1, 2]}
    assert out.errors == {("q1", 1): "ValueError: no"}
    assert out.cell_errors == [(3, "ZeroDivisionError")]
    assert out.done and out.ignored == 11


def test_notebook_code_neutralises_magics():
    nb = {"cells": [
        {"cell_type": "code", "source": "%%time\nx = 1\n!ls\n  %matplotlib inline"},
        {"cell_type": "markdown", "source": "%not code"},
        {"cell_type": "code", "source": ["y = 2\n", "if y:\n", "    !pip install z"]}]}
    assert notebook_code(nb) == [(1, "x = 1\npass\n  pass"),
                                 (3, "y = 2\nif y:\n    pass")]


def test_feedback_names_never_collide():
    names = ["alice.ipynb", "alice.ipynb", "mia/part1.ipynb", "x y.ipynb",
             ".hidden.ipynb", "alice-2.ipynb", "notes.txt"]
    assert _feedback_names(names) == ["alice.md", "alice-2.md", "mia_part1.md",
                                      "x_y.md", "hidden.md", "alice-2-2.md",
                                      "notes.txt.md"]


def test_gradebook_defuses_spreadsheet_formulas(reference):
    from mbgd.grading import Row, Sandbox

    rows = [Row("=HYPERLINK(1).ipynb", "ok", {q: 0.0 for q in QIDS}, 0.0, "-x")]
    text = gradebook_csv(rows, reference, Sandbox("none", "none"))
    line = text.splitlines()[1]
    assert line.startswith("'=HYPERLINK(1).ipynb,ok,") and ",'-x," in line


def test_outputs_never_overwrite_inputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    bad = out / "gradebook.csv"
    bad.write_text("{}")
    with pytest.raises(GradingError, match="would overwrite an input"):
        grade(SOLUTION, [bad], out, sandbox="none")
    assert bad.read_text() == "{}"


STUDENT = ROOT / "exercises" / SOLUTION.name
OTHER_SOLUTION = ROOT / "solutions" / "part2_adaptive.ipynb"
WRONG = SUBMISSIONS / "wrong.ipynb"


@pytest.mark.parametrize("change, error, message", [
    ({"solution": "nope.ipynb"}, GradingError,
     "solution must be an existing file; got '.*nope.ipynb' .no such file."),
    ({"solution": "."}, GradingError, "solution must be an existing file; got "
     "'.*' .a folder."),
    ({"solution": STUDENT}, GradingError, "must hold BEGIN SOLUTION regions; got a "
     "notebook without any .a student's notebook.."),
    ({"submissions": str(WRONG)}, TypeError, "submissions must be a list of paths"),
    ({"submissions": []}, ValueError, "submissions must be a non-empty list"),
    ({"submissions": [WRONG, "nope.ipynb"]}, GradingError,
     "submissions must be existing files; got '.*nope.ipynb' .no such file."),
    ({"submissions": ["*.ipynbx"]}, GradingError, "a pattern that matched nothing"),
    ({"submissions": [WRONG, SOLUTION]}, GradingError,
     "submissions must not include the solution; got '"),
    ({"out": "notes.txt"}, GradingError,
     "out must be a folder; got '.*notes.txt' .a file."),
    ({"out": "full"}, GradingError, "out must be a new or empty folder, so that no "
     "earlier gradebook or feedback is overwritten; got '.*full' .it holds "
     "'gradebook.csv'."),
    ({"out": SUBMISSIONS}, GradingError, "out must not be the folder of an input "
     "file; got '.*submissions' .it holds wrong.ipynb."),
    ({"extra_cases": "nope.json"}, GradingError,
     "extra_cases must be an existing file; got '.*nope.json' .no such file."),
    ({"extra_cases": "notes.txt"}, GradingError,
     "extra cases .*notes.txt: invalid JSON at line 1 column 1: Expecting value"),
    ({"extra_cases": "nan.json"}, GradingError, r"the solution's gd_step \(q1\) "
     r"must return a value without NaN on grading case 7; got tensor\(\[nan"),
    ({"progress": "yes"}, TypeError, "progress must be True, False or None; got "
     "'yes'"),
    ({"jobs": 0}, ValueError, "jobs must be an int >= 1; got 0"),
])
def test_grade_rejects_bad_input_before_writing(tmp_path, change, error, message):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "gradebook.csv").write_text("submission,q8\nann,2\n")
    (tmp_path / "nan.json").write_text('{"q1": [[{"tensor": [NaN, 1.0]}, 0.0]]}')
    kwargs = {"solution": SOLUTION, "submissions": [WRONG], "out": "out",
              "sandbox": "none", "progress": False, **change}
    for key in ("solution", "out", "extra_cases"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = tmp_path / kwargs[key]
    if isinstance(kwargs["submissions"], list):
        kwargs["submissions"] = [tmp_path / p if isinstance(p, str) else p
                                 for p in kwargs["submissions"]]
    before = digest_tree(tmp_path), digest(SUBMISSIONS)
    with pytest.raises(error, match=message):
        grade(**kwargs)
    assert (digest_tree(tmp_path), digest(SUBMISSIONS)) == before  # nothing written


def digest_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() if p.is_file() else "/"
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("args, message", [
    (["-j", "0"], "argument -j/--jobs: must be an int >= 1; got '0'"),
    (["-j", "-1"], "argument -j/--jobs: must be an int >= 1; got '-1'"),
    (["--timeout", "nan"], "argument --timeout: must be a number > 0; got 'nan'"),
    (["--timeout", "-5"], "argument --timeout: must be a number > 0; got '-5'"),
    (["--call-timeout", "abc"],
     "argument --call-timeout: must be a number > 0; got 'abc'"),
    (["--memory", "100"], "argument --memory: must be an int >= 256; got '100'"),
    (["--seed", "-3"], "argument --seed: must be an int >= 0; got '-3'"),
    (["--extra-cases", "nope.json"],
     "mbgd grade: error: extra_cases must be an existing file; got 'nope.json' "
     "(no such file)"),
    (["--out", "subs/graded"], "mbgd grade: error: --out must not lie inside a "
     "SUBMISSION folder; got 'subs/graded' (inside 'subs')"),
    (["empty"], "mbgd grade: error: SUBMISSION must be a notebook or a folder of "
     "notebooks; got 'empty' (a folder without files)"),
    (["subs/*.ipynbx"], "mbgd grade: error: submissions must be existing files; got "
     "'subs/*.ipynbx' (no such file; a pattern that matched nothing?)"),
])
def test_grade_command_errors_are_one_line_and_write_nothing(tmp_path, monkeypatch,
                                                            capsys, args, message):
    from mbgd.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "wrong.ipynb").write_bytes(WRONG.read_bytes())
    (tmp_path / "empty").mkdir()
    before = digest_tree(tmp_path)
    argv = ["grade", str(SOLUTION), *(args if args[0] in ("empty", "subs/*.ipynbx")
                                      else ["subs"]),
            "--out", "out", "--sandbox", "none", "--no-progress"]
    if args[0] not in ("empty", "subs/*.ipynbx"):
        argv += args
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith(message), err
    assert "Traceback" not in err
    assert message.startswith("argument") or len(err.splitlines()) == 1, err
    assert digest_tree(tmp_path) == before


def test_a_folder_stands_for_every_file_below_it(tmp_path, monkeypatch, capsys):
    """An LMS export: one folder per student, stray files, a checkpoint folder.
    Every file gets a row named by its path in the folder; hidden ones none."""
    from mbgd.cli import main

    monkeypatch.chdir(tmp_path)
    for rel in ("subs/mia/part1.ipynb", "subs/noah/part1.ipynb", "subs/ok.ipynb",
                "subs/.ipynb_checkpoints/ok-checkpoint.ipynb"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(WRONG.read_bytes())
    (tmp_path / "subs" / "notes.txt").write_text("my answers are in the email")
    assert main(["grade", str(SOLUTION), "subs", "--out", "out", "--seed", "3",
                 "--sandbox", "none", "--no-progress"]) == 0
    assert "graded 4 submissions" in capsys.readouterr().out
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["mia/part1.ipynb", "noah/part1.ipynb", "notes.txt",
                          "ok.ipynb"]
    assert rows["notes.txt"]["status"] == "unreadable"
    assert {rows[n]["total"] for n in rows if n != "notes.txt"} == {"5.5"}
    assert sorted(p.name for p in (tmp_path / "out" / "feedback").iterdir()) == [
        "mia_part1.md", "noah_part1.md", "notes.txt.md", "ok.md"]


def test_a_notebook_of_another_set_is_flagged(tmp_path, monkeypatch, capsys):
    from mbgd.cli import main

    monkeypatch.chdir(tmp_path)
    released = ROOT / "exercises" / "part2_adaptive.ipynb"
    assert main(["grade", str(SOLUTION), str(released), str(WRONG), "--out", "out",
                 "--seed", "3", "--sandbox", "none", "--no-progress"]) == 0
    assert "warning: 1 of 2 notebooks name another exercise set than the " \
        "solution's ('part1')" in capsys.readouterr().err
    with open(tmp_path / "out" / "gradebook.csv", newline="") as f:
        reasons = [r["reason"] for r in csv.DictReader(f)]
    assert reasons[0].startswith("this notebook is exercise set 'part2', graded "
                                 "against 'part1'; scored 0: ")
    assert reasons[1] == ""  # wrong.ipynb scores 5.5: no reason


def test_an_explain_answer_without_its_marker_is_pointed_out(tmp_path):
    nb = json.loads((SUBMISSIONS / "correct.ipynb").read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if "mbgd: answer q8" in text:
            cell["source"] = text.replace("<!-- mbgd: answer q8 -->", "")
            cell["metadata"].pop("mbgd", None)
    path = tmp_path / "unmarked.ipynb"
    path.write_text(json.dumps(nb))
    (row,) = grade(SOLUTION, [path], tmp_path / "out", seed=3, sandbox="none",
                   progress=False, limits=Limits(timeout=60, call_timeout=10))
    assert row.total == 16.0
    assert row.reason == ("q8: no answer cell found (look for an answer without "
                          "its marker line)")


def test_solution_must_name_its_exercise_set(tmp_path):
    nb = json.loads(SOLUTION.read_text())
    nb["metadata"].pop("mbgd")
    path = tmp_path / "solution.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(GradingError, match="must name its exercise set"):
        load_reference(path)


def test_fallback_without_a_sandbox_still_grades(tmp_path):
    """sandbox="none": same scores, and every row says that no sandbox was used."""
    names = ["wrong.ipynb", "truncated.ipynb"]
    rows = grade(SOLUTION, [SUBMISSIONS / n for n in names], tmp_path, jobs=2,
                 seed=3, sandbox="none", progress=False,
                 limits=Limits(timeout=60, call_timeout=10, memory_mb=1024))
    assert [(r.status, r.total) for r in rows] == [("ok", 5.5), ("unreadable", 0.0)]
    text = (tmp_path / "gradebook.csv").read_text()
    assert text.splitlines()[1].endswith(",none")
    assert "none (requested)" in json.loads(
        (tmp_path / "grading.json").read_text())["sandbox_note"]


def test_a_submission_holding_solution_regions_is_graded_not_refused(tmp_path):
    """A student may plant BEGIN SOLUTION markers (or hand in the wrong notebook);
    the batch goes on and the notebook gets its own row."""
    rows = grade(SOLUTION, [SUBMISSIONS / "wrong.ipynb", OTHER_SOLUTION], tmp_path,
                 seed=3, sandbox="none", progress=False,
                 limits=Limits(timeout=60, call_timeout=10))
    assert [(r.submission, r.status) for r in rows] == [
        ("wrong.ipynb", "ok"), ("part2_adaptive.ipynb", "ok")]
    assert rows[0].total == 5.5 and rows[1].total == 0.0


def test_an_unanswered_notebook_says_not_answered_for_every_kind(tmp_path):
    """The released notebook as it is: implement stubs raise when called, and
    compute stubs raise in their cell, so the variable never exists; both are
    "not answered", not "not defined"."""
    released = ROOT / "exercises" / SOLUTION.name
    (row,) = grade(SOLUTION, [released], tmp_path, seed=0, sandbox="none",
                   progress=False, limits=Limits(timeout=60, call_timeout=10))
    assert (row.status, row.total) == ("ok", 0.0)
    notes = row.reason.removeprefix("scored 0: ").split(", ")
    assert notes == [f"q{i} not answered" for i in range(1, 8)] + [
        "q8 no answer", "q9 no answer"], row.reason
    text = (tmp_path / "feedback" / "part1_principles.md").read_text()
    assert "not answered: the answer cell still raises NotImplementedError, so " \
        "answer_q2 is not defined" in text


def test_limits_are_validated():
    with pytest.raises(ValueError, match="timeout must be a real number > 0.0"):
        Limits(timeout=0)
    with pytest.raises(ValueError, match="memory_mb must be an int >= 256"):
        Limits(memory_mb=10)
    with pytest.raises(ValueError, match="sandbox must be one of"):
        find_sandbox("docker")


def test_instructor_files_may_not_sit_in_a_shared_folder(sandbox):
    import mbgd

    if sandbox.kind != "bwrap":
        pytest.skip(f"needs bubblewrap; sandbox here: {sandbox.note}")
    inside = Path(list(mbgd.__path__)[0]) / "solution.ipynb"
    with pytest.raises(GradingError, match="shares with student code"):
        find_sandbox("auto", private=[inside])


def test_tensor_inputs_reach_the_reference_as_float64(reference):
    task = make_tasks(reference, 0)["q4"]  # minibatch_grad(X, y, w, idx)
    assert [a["tensor"]["dtype"] for a in task.cases[0]] == \
        ["float64", "float64", "float64", "int64"]
    assert all(isinstance(e, torch.Tensor) and e.dtype == torch.float64
               for e in task.expected)
