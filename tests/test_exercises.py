"""Exercise notebooks: one source of truth, markers, release, plain values, checks."""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mbgd.exercises import (
    EXERCISE_SETS,
    EXPLAIN_PLACEHOLDER,
    Compute,
    Implement,
    NotebookError,
    answer_cells,
    cell_question,
    cell_source,
    check_answer,
    checker,
    compare,
    from_plain,
    read_notebook,
    release,
    release_notebook,
    solution_questions,
    to_plain,
)
from mbgd.grading import load_reference

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
F64 = torch.float64
SYLLABUS_IDS = {line.split("\t")[0] for line in
                (ROOT / "tests/data/syllabus.tsv").read_text().splitlines()
                if line and not line.startswith("#")}


def ids(paths):
    return [p.name for p in paths]


@pytest.fixture(scope="module")
def references():
    return {p.name: load_reference(p) for p in SOLUTIONS}


def test_parts_one_and_two_have_solution_notebooks():
    assert {"part1_principles.ipynb", "part2_adaptive.ipynb"} <= set(ids(SOLUTIONS))


# ---------------------------------------------------------------- one source of truth

def test_exercises_are_the_release_of_the_solutions(tmp_path):
    written = release(SOLUTIONS, tmp_path)
    for path in written:
        stored = ROOT / "exercises" / path.name
        assert stored.exists(), f"exercises/{path.name} is missing: run mbgd release"
        assert stored.read_bytes() == path.read_bytes(), (
            f"exercises/{path.name} is stale: run "
            "`mbgd release solutions/*.ipynb --out exercises`")
    assert {p.name for p in (ROOT / "exercises").glob("*.ipynb")} == \
        {p.name for p in written}


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_release_removes_solutions_and_outputs_only(path):
    solution = read_notebook(path)
    student = read_notebook(ROOT / "exercises" / path.name)
    questions = solution_questions(solution)
    assert len(student["cells"]) == len(solution["cells"])
    for i, (old, new) in enumerate(zip(solution["cells"], student["cells"])):
        src, new_src = cell_source(old), cell_source(new)
        assert "SOLUTION" not in new_src
        if new["cell_type"] == "code":
            assert new["outputs"] == [] and new["execution_count"] is None
        if "BEGIN SOLUTION" not in src:
            assert new_src == src, f"cell {i + 1} changed but holds no solution"
            continue
        qid = cell_question(old)
        assert questions[qid].cell == i
        if new["cell_type"] == "code":
            assert f'raise NotImplementedError("{qid}: write your answer here")' \
                in new_src
            assert "raises-exception" in new["metadata"]["tags"]
        else:
            assert EXPLAIN_PLACEHOLDER in new_src
        assert new_src.splitlines()[0] == src.splitlines()[0]  # the marker stays
        assert new["metadata"]["mbgd"] == old["metadata"]["mbgd"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_questions_mix_kinds_and_name_syllabus_ids(path):
    nb = read_notebook(path)
    questions = solution_questions(nb)
    name = nb["metadata"]["mbgd"]["exercise_set"]
    assert len(questions) >= 6
    assert {q.kind for q in questions.values()} == {"implement", "compute", "explain"}
    for q in questions.values():
        assert set(q.practises) <= SYLLABUS_IDS, q
    specs = EXERCISE_SETS[name]
    assert {q: x.kind for q, x in questions.items()} == \
        {q: s.kind for q, s in specs.items()}
    assert list(questions) == [f"q{i}" for i in range(1, len(questions) + 1)]


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_public_cases_agree_with_the_solution(path, references):
    ref = references[path.name]
    for qid, spec in ref.specs.items():
        if not isinstance(spec, Implement):
            continue
        fn = ref.namespace[spec.name]
        for args, expected in spec.public:
            got = from_plain(to_plain(fn(*copy.deepcopy(args))))
            why = compare(from_plain(to_plain(expected)), got, rtol=1e-12, atol=1e-15)
            assert why is None, f"{qid} public case {args}: {why}"
        lines = check_answer(spec, qid, fn)
        assert lines[-1].startswith(f"{qid}: {len(spec.public)} of "
                                    f"{len(spec.public)} public checks passed")


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_compute_answers_have_their_template_form(path, references):
    ref = references[path.name]
    for qid, spec in ref.specs.items():
        if isinstance(spec, Compute):
            lines = check_answer(spec, qid, ref.namespace[spec.name])
            assert "has the expected form" in lines[0], lines


@pytest.mark.parametrize("name", sorted(EXERCISE_SETS))
def test_input_generators_are_seeded_and_vary(name):
    for qid, spec in EXERCISE_SETS[name].items():
        if not isinstance(spec, Implement):
            continue
        draw = [to_plain(list(spec.inputs(torch.Generator().manual_seed(7), i)))
                for i in range(2)]
        again = to_plain(list(spec.inputs(torch.Generator().manual_seed(7), 0)))
        other = to_plain(list(spec.inputs(torch.Generator().manual_seed(8), 0)))
        assert draw[0] == again and draw[0] != other, qid
        assert json.loads(json.dumps(draw)) == draw  # plain values are JSON


def test_mean_variance_cases_alternate_replacement_and_keep_the_correction():
    spec = EXERCISE_SETS["part1"]["q5"]
    gen = torch.Generator().manual_seed(0)
    for i in range(20):
        v, b, replace = spec.inputs(gen, i)
        assert replace == (i % 2 == 0)
        if not replace:
            assert 2 <= b < v.numel()  # a correction factor below 1


# ---------------------------------------------------------------- markers

def md(source, meta=None):
    return {"cell_type": "markdown", "source": source, "metadata": meta or {}}


def code(source, meta=None):
    return {"cell_type": "code", "source": source, "metadata": meta or {},
            "outputs": [], "execution_count": None}


def test_marker_wins_over_metadata_and_metadata_is_the_fallback():
    meta = {"mbgd": {"question": "q2"}}
    assert cell_question(code("# mbgd: answer q1\nx = 1", meta)) == "q1"
    assert cell_question(code("x = 1", meta)) == "q2"
    assert cell_question(md("<!-- mbgd: answer q9 -->\ntext")) == "q9"
    assert cell_question(md("# mbgd: answer q9")) is None  # a heading, not a marker
    assert cell_question(code("\n\n  #  mbgd:  answer  q3  \n")) == "q3"
    assert cell_question(code("x = 1  # mbgd: answer q3")) is None


def test_the_last_cell_of_a_question_wins():
    nb = {"cells": [code("# mbgd: answer q1"), md("<!-- mbgd: answer q2 -->"),
                    code("y = 2", {"mbgd": {"question": "q1"}}), code("z = 3")]}
    assert answer_cells(nb) == {"q1": 2, "q2": 1}


def solution(*cells, **meta):
    nb = {"cells": list(cells), "metadata": {"mbgd": {"exercise_set": "part1"}}}
    nb["metadata"].update(meta)
    return nb


GOOD = {"question": "q1", "points": 2, "kind": "compute", "practises": ["P1"]}


@pytest.mark.parametrize("cell, message", [
    (code("x = 1", {"mbgd": GOOD}), "must start with its marker line"),
    (code("# mbgd: answer q2\nx = 1", {"mbgd": GOOD}), "must start with its marker"),
    (code("# mbgd: answer q1", {"mbgd": {**GOOD, "kind": "guess"}}), "kind must be"),
    (code("# mbgd: answer q1", {"mbgd": {**GOOD, "kind": "explain"}}),
     "explain answers go in markdown cells"),
    (code("# mbgd: answer q1", {"mbgd": {**GOOD, "points": 0}}), "points must be"),
    (code("# mbgd: answer q1", {"mbgd": {**GOOD, "points": True}}), "points must be"),
    (code("# mbgd: answer q1", {"mbgd": {**GOOD, "practises": []}}), "practises"),
    (code("# mbgd: answer q1", {"mbgd": {**GOOD, "practises": ["Z9"]}}),
     "practises"),
    (code("# mbgd: answer q1"), "has an answer marker but no mbgd metadata"),
])
def test_solution_questions_are_checked_strictly(cell, message):
    with pytest.raises(NotebookError, match=message):
        solution_questions(solution(cell))


def test_a_question_may_not_appear_twice_in_a_solution():
    cell = code("# mbgd: answer q1", {"mbgd": GOOD})
    with pytest.raises(NotebookError, match="appears twice"):
        solution_questions(solution(cell, copy.deepcopy(cell)))


@pytest.mark.parametrize("source, message", [
    ("# mbgd: answer q1\n### BEGIN SOLUTION\nx = 1", "never closed"),
    ("# mbgd: answer q1\n### END SOLUTION", "END SOLUTION without BEGIN"),
    ("# mbgd: answer q1\n### BEGIN SOLUTION\n### BEGIN SOLUTION", "nested"),
])
def test_release_rejects_unbalanced_regions(source, message):
    with pytest.raises(NotebookError, match=message):
        release_notebook(solution(code(source, {"mbgd": GOOD})))


def test_release_keeps_indentation_tags_and_the_solution():
    cell = code("# mbgd: answer q1\ndef f(x):\n    ### BEGIN SOLUTION\n    return x\n"
                "    ### END SOLUTION\n\ncheck('q1', f)",
                {"mbgd": GOOD, "tags": ["keep-me"]})
    cell["outputs"], cell["execution_count"] = [{"output_type": "stream"}], 4
    nb = solution(cell)
    before = copy.deepcopy(nb)
    out = release_notebook(nb)["cells"][0]
    assert nb == before
    assert cell_source(out) == ('# mbgd: answer q1\ndef f(x):\n    raise '
                                'NotImplementedError("q1: write your answer here")\n\n'
                                "check('q1', f)")
    assert out["metadata"]["tags"] == ["keep-me", "raises-exception"]
    assert out["outputs"] == [] and out["execution_count"] is None


def test_release_never_overwrites_its_input(tmp_path):
    path = tmp_path / "s.ipynb"
    path.write_text(json.dumps(solution(code("x = 1"))))
    with pytest.raises(NotebookError, match="out_dir must differ"):
        release([path], tmp_path)


@pytest.mark.parametrize("make, error, message", [
    (lambda t: ([t / "s.ipynb", t / "nope.ipynb"], t / "ex"), NotebookError,
     "solutions must be existing files; got '.*nope.ipynb' .no such file."),
    (lambda t: ([t / "s.ipynb", t / "d"], t / "ex"), NotebookError,
     "solutions must be existing files; got '.*d' .a folder."),
    (lambda t: ([t / "*.ipynbx"], t / "ex"), NotebookError,
     "a pattern that matched nothing"),
    (lambda t: ([t / "s.ipynb", t / "d/s.ipynb"], t / "ex"), NotebookError,
     "solutions must have distinct file names; got 's.ipynb' twice"),
    (lambda t: ([t / "s.ipynb", t / "notes.txt"], t / "ex"), NotebookError,
     "solution .*notes.txt: invalid JSON at line 1"),
    (lambda t: ([t / "s.ipynb"], t / "notes.txt"), NotebookError,
     "out_dir must be a folder; got '.*notes.txt' .a file."),
    (lambda t: (str(t / "s.ipynb"), t / "ex"), TypeError,
     "solutions must be a list of paths; got '"),
    (lambda t: ([], t / "ex"), ValueError, "solutions must be a non-empty list"),
    (lambda t: ([t / "s.ipynb"], None), TypeError, "out_dir must be a path; got None"),
    (lambda t: ([t / "s.ipynb", t / "released.ipynb"], t / "ex"), NotebookError,
     "solution .*released.ipynb: must hold BEGIN SOLUTION regions; got a notebook "
     "without any .a student's notebook, already released.."),
])
def test_release_rejects_bad_input_before_writing(tmp_path, make, error, message):
    good = json.dumps(solution(code("# mbgd: answer q1\n### BEGIN SOLUTION\n"
                                    "x = 1\n### END SOLUTION", {"mbgd": GOOD})))
    (tmp_path / "s.ipynb").write_text(good)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "s.ipynb").write_text(good)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "released.ipynb").write_text(json.dumps(solution(code(
        '# mbgd: answer q1\nraise NotImplementedError("q1")', {"mbgd": GOOD}))))
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(error, match=message):
        release(*make(tmp_path))
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


@pytest.mark.parametrize("text, message", [
    ('{"cells": [', "invalid JSON at line 1"),
    ("[]", "not an nbformat-4 notebook"),
    ('{"cells": [{"cell_type": "code", "source": [1]}]}', "cell 1 is not"),
    ("\udcff", "not UTF-8"),
])
def test_read_notebook_names_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    with pytest.raises(NotebookError, match=message):
        read_notebook(path)


def test_read_notebook_rejects_a_non_path():
    with pytest.raises(TypeError, match="path must be a path; got None"):
        read_notebook(None)


# ---------------------------------------------------------------- plain values

def test_plain_values_round_trip():
    value = (torch.arange(6, dtype=F64).reshape(2, 3), 3, 0.5, True, None, "x",
             [torch.tensor(7, dtype=torch.int64), np.array([1.5, 2.5])],
             torch.tensor([True, False]), torch.tensor([1.0], dtype=torch.bfloat16))
    plain = to_plain(value)
    back = from_plain(json.loads(json.dumps(plain)))
    assert compare(from_plain(plain), back, rtol=0, atol=0) is None
    assert back[0].dtype == F64 and back[0].shape == (2, 3)
    assert back[6][1].dtype == F64  # numpy arrays become tensors


@pytest.mark.parametrize("value", [1j, {"a": 1}, object(), torch.zeros(2, 2,
                                   dtype=torch.complex64), {1, 2}])
def test_to_plain_refuses_other_types(value):
    with pytest.raises(TypeError, match="answer must be"):
        to_plain(value)


def tensor(dtype="float64", shape=(2,), data=(1.0, 2.0)):
    return {"tensor": {"dtype": dtype, "shape": list(shape), "data": list(data)}}


@pytest.mark.parametrize("plain, message", [
    ({"tensor": {"dtype": "float64", "shape": [1], "data": [1.0], "x": 1}},
     "exactly the keys"),
    (tensor(dtype="complex64"), "dtype must be one of"),
    (tensor(dtype="torch.float64"), "dtype must be one of"),
    (tensor(shape=(3,)), "must hold 3 numbers"),
    (tensor(shape=(-2,)), "shape must be"),
    (tensor(shape=(2.0,)), "shape must be"),
    (tensor(data=(1.0, "2")), "only floats"),
    (tensor(data=(1.0, True)), "only floats"),
    (tensor(dtype="int64", data=(1, 2.5)), "only ints"),
    (tensor(dtype="int8", data=(1, 300)), "does not fit"),
    (tensor(dtype="bool", data=(1, 0)), "only bools"),
    ({"tensor": {"dtype": "float64", "shape": [2], "data": [[1.0], [2.0]]}},
     "only floats"),
    ({"float": 1.0}, "not a plain value: dict"),
    (2**64, "fit in 64 bits"),
    ("x" * 10_001, "at most 10000 characters"),
    ([[[[[[[[[[1]]]]]]]]]], "nested at most"),
    (list(range(1_000_001)), "at most 1000000 numbers"),
    (tensor(shape=(1000, 1001), data=()), "must hold 1001000 numbers"),
    (tensor(shape=(2_000_000,), data=()),
     r"tensor must hold at most 1000000 numbers; got shape \[2000000\]"),
])
def test_from_plain_is_strict(plain, message):
    with pytest.raises(ValueError, match=message):
        from_plain(plain)


def test_from_plain_accepts_no_subclasses():
    class Sneaky(float):
        pass

    with pytest.raises(ValueError, match="not a plain value: Sneaky"):
        from_plain([Sneaky(1.0)])


@pytest.mark.parametrize("expected, got, why", [
    (0.5, torch.tensor(0.5, dtype=torch.float32), None),
    (torch.tensor(2.0, dtype=F64), 2, None),
    (1.0, 1.0 + 1e-5, "value differs"),
    (1.0, math.nan, "value differs"),
    (True, 1, "expected a bool, got a number"),
    (torch.zeros(2, dtype=F64), [0.0, 0.0], "expected a 1-d tensor, got a sequence"),
    (torch.zeros(2, dtype=F64), torch.zeros(2), "dtype differs: expected float64, got "
     "float32"),
    (torch.zeros(2, dtype=F64), torch.zeros(3, dtype=F64), "shape differs: expected "
     r"\(2,\), got \(3,\)"),
    (torch.tensor([1.0, 2.0], dtype=F64), torch.tensor([1.0, 2.5], dtype=F64),
     r"largest difference 0.5 at index \(1,\)"),
    (torch.tensor([1, 2]), torch.tensor([1, 3]), "largest difference 1 at index"),
    (torch.tensor([1.0], dtype=F64), torch.tensor([math.nan], dtype=F64),
     "largest difference inf"),
    ([1.0, 2.0], [1.0], "expected 2 items, got 1"),
    ([1.0, torch.zeros(1, dtype=F64)], [1.0, torch.ones(1, dtype=F64)], "item 1: "),
    ("a", "b", "expected 'a', got 'b'"),
])
def test_compare(expected, got, why):
    result = compare(expected, got)
    if why is None:
        assert result is None
    else:
        assert result is not None and re.search(why, result), result


@pytest.mark.parametrize("call, error, message", [
    (lambda: compare(1.0, 1.0, rtol=-1), ValueError,
     "rtol must be a real number >= 0.0; got -1"),
    (lambda: compare(1.0, 1.0, atol=math.nan), ValueError,
     "atol must be a real number >= 0.0; got nan"),
    (lambda: from_plain([1], max_items=-1), ValueError,
     "max_items must be an int >= 0; got -1"),
    (lambda: Implement("f", "f(x)", lambda g, i: (), (), cases=0), ValueError,
     "cases must be an int >= 1; got 0"),
    (lambda: Implement("f", "f(x)", None, ()), TypeError,
     "inputs must be callable; got None"),
    (lambda: Compute("v", 0.0, rtol=-1e-6), ValueError,
     "rtol must be a real number >= 0.0; got -1e-06"),
    (lambda: check_answer("q1", "q1", abs), TypeError,
     "spec must be an Implement, Compute or Explain; got 'q1'"),
    (lambda: check_answer(EXERCISE_SETS["part1"]["q1"], None, abs), TypeError,
     "qid must be a str; got None"),
])
def test_plain_values_and_specs_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_compare_form_only_ignores_values():
    assert compare([1.0, torch.zeros(2, dtype=F64)], [5, torch.ones(2, dtype=F64)],
                   values=False) is None
    assert compare([1.0, 2.0], [1.0], values=False) == "expected 2 items, got 1"


# ---------------------------------------------------------------- check()

def test_check_reports_dtype_shape_and_the_failing_input(capsys):
    check = checker("part1")
    check("q1", lambda p, lr: (p - lr).float())
    out = capsys.readouterr().out
    assert "q1: case 1 of 3 failed: gd_step(tensor([1., 1.]), 0.1)" in out
    assert "expected: tensor([1.6, 0.4]) (float64, shape (2,))" in out
    assert "dtype differs: expected float64, got float32" in out
    assert out.rstrip().endswith(
        "q1: 0 of 3 public checks passed (public checks never count toward the "
        "grade).")


@pytest.mark.parametrize("qid, answer, first", [
    ("q1", lambda p, lr: p[:1], "q1: case 1 of 3 failed"),
    ("q3", lambda *a: 1 / 0, "  raised ZeroDivisionError: division by zero"),
    ("q1", 3, "q1: expected the function gd_step, got int"),
    ("q2", (1.0, 2.0), "q2: answer_q2 does not have the expected form (0., 0., 0.): "
     "expected 3 items, got 2"),
    ("q2", (1.0, 2.0, "x"), "q2: answer_q2 does not have the expected form"),
    ("q2", (1.0, 2.0, object()), "answer must be a number"),
    ("q6", (8000, 1537), "q6: answer_q6 has the expected form; its value is checked "
     "only when grading."),
    ("q6", (8000.0, torch.tensor(1537)), "q6: answer_q6 has the expected form"),
    ("q6", (8000, 1537.4), "q6: answer_q6 does not have the expected form (0, 0): "
     "entry[1] must be a whole number; got 1537.4"),
    ("q2", (0.002, 0.001998, float("nan")), "q2: answer_q2 does not have the "
     "expected form (0., 0., 0.): entry[2] must be a finite number; got nan"),
    ("q8", "anything", "q8 is read by the instructor: there is no automatic check."),
    # a function with the wrong arguments is named before any case runs
    ("q1", lambda p: p, "q1: gd_step must take 2 arguments, as in gd_step(p, lr); "
     "got <lambda>(p)"),
    ("q1", lambda p, lr, x: p, "q1: gd_step must take 2 arguments, as in "
     "gd_step(p, lr); got <lambda>(p, lr, x)"),
    ("q1", lambda p, *, lr: p, "got <lambda>(p, *, lr)"),
    ("q1", lambda p, lr=0.1: p + lr, "q1: 0 of 3 public checks passed"),
    ("q1", lambda *args: args[0], "q1: 1 of 3 public checks passed"),
    # values of the wrong type, shape or dtype say so
    ("q1", lambda p, lr: p[None], "shape differs: expected (2,), got (1, 2)"),
    ("q1", lambda p, lr: p.tolist(), "expected a 1-d tensor, got a sequence of 2"),
    ("q1", lambda p, lr: {"p": p}, "cannot check the result: answer must be a "
     "number, a tensor, or a tuple or list of them; got dict"),
    ("q5", lambda v, b, replace: True, "expected a number, got a bool"),
    ("q2", torch.zeros(3, dtype=F64), "expected a sequence of 3, got a 1-d tensor"),
    ("q2", torch.zeros(2_000_000), "tensor must hold at most 1000000 numbers"),
])
def test_check_messages(qid, answer, first):
    lines = check_answer(EXERCISE_SETS["part1"][qid], qid, answer)
    assert any(first in line for line in lines), lines


def test_check_says_when_a_question_is_not_answered(capsys):
    def gd_step(p, lr):
        raise NotImplementedError("q1: write your answer here")

    checker("part1")("q1", gd_step)
    assert capsys.readouterr().out == \
        "q1: not answered yet (gd_step raises NotImplementedError).\n"


def test_check_does_not_let_the_answer_change_the_public_cases():
    spec = EXERCISE_SETS["part1"]["q1"]
    before = to_plain(spec.public)

    def gd_step(p, lr):
        return p.mul_(0)

    check_answer(spec, "q1", gd_step)
    assert to_plain(spec.public) == before


def test_checker_rejects_unknown_names():
    with pytest.raises(ValueError, match="exercise_set must be one of"):
        checker("part9")
    with pytest.raises(ValueError, match="question must be one of"):
        checker("part1")("q99", None)
    with pytest.raises(TypeError, match="question must be a question id such as "
                       "'q1'; got 1"):
        checker("part1")(1, None)
