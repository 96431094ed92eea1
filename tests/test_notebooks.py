"""Checks of every notebook: metadata, bootstrap cell, stored outputs, determinism.

nbval (run by `make test`) compares a fresh run's text outputs with the stored ones;
the tests here add what nbval does not check: the syllabus metadata, the Colab cell,
size and line limits, alt text, and a second, bit-for-bit comparison that includes
images and HTML, with the wall time of each run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from execute import coalesce_streams, execute  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").rglob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
STORED = CHAPTERS + SOLUTIONS  # notebooks stored with their outputs
ALL = STORED + EXERCISES
SYLLABUS = dict(line.split("\t") for line in
                (ROOT / "tests/data/syllabus.tsv").read_text().splitlines()
                if line and not line.startswith("#"))
MAX_BYTES = 2_000_000
MAX_SECONDS = 60
IGNORE_TAGS = {"nbval-ignore-output", "raises-exception"}


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def bootstrap_source() -> str:
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return ("# On Colab: install mbgd from the course repository "
            "(nothing elsewhere).\n"
            "import sys\n"
            'if "google.colab" in sys.modules:\n'
            f'    %pip install -q "mbgd @ git+{url}"')


def test_there_are_notebooks():
    assert CHAPTERS, "no chapter notebooks found"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_lists_valid_syllabus_ids(path):
    covers = read(path).cells[0].metadata.get("mbgd", {}).get("covers")
    assert covers, "the first cell must carry mbgd.covers"
    unknown = [c for c in covers if c not in SYLLABUS]
    assert not unknown, f"unknown syllabus IDs: {unknown}"


def test_no_syllabus_id_is_covered_twice():
    seen: dict[str, str] = {}
    for path in CHAPTERS:
        for topic in read(path).cells[0].metadata.get("mbgd", {}).get("covers", []):
            assert topic not in seen, (
                f"{topic} covered by {seen.get(topic)} and {path}")
            seen[topic] = path.name


def test_every_chapter_in_the_toc_and_every_notebook_page_exists():
    toc = (ROOT / "_toc.yml").read_text()
    missing = [p for p in CHAPTERS
               if str(p.relative_to(ROOT).with_suffix("")) not in toc]
    assert not missing, f"chapters not in _toc.yml: {missing}"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_first_code_cell_is_the_colab_bootstrap(path):
    assert code_cells(read(path))[0].source == bootstrap_source()


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_size_and_line_length(path):
    assert path.stat().st_size < MAX_BYTES
    for cell in code_cells(read(path)):
        long = [line for line in cell.source.splitlines() if len(line) > 80]
        assert not long, f"code lines over 80 characters: {long}"


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_stored_outputs_are_complete_and_clean(path):
    nb = read(path)
    for i, cell in enumerate(code_cells(nb)):
        tags = set(cell.metadata.get("tags", []))
        assert cell.execution_count is not None, f"code cell {i} was never executed"
        for out in cell.outputs:
            if "raises-exception" in tags:
                continue
            assert out.output_type != "error", f"cell {i} stored an error"
            assert not (out.output_type == "stream" and out.name == "stderr"), \
                f"cell {i} wrote to stderr: {out.text[:200]}"
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"0x[0-9a-f]{8,}", text), f"cell {i}: memory address"
            assert "it/s]" not in text, f"cell {i}: a progress bar was stored"
            if "image/png" in out.get("data", {}):
                alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
                assert len(alt) > 20, f"cell {i}: figure without alt text"


def comparable(nb):
    """Outputs to compare: every cell but those whose output may legitimately vary."""
    return [(c.source, coalesce_streams(c.outputs) if "raises-exception" not in
             set(c.metadata.get("tags", [])) else [o.output_type for o in c.outputs])
            for c in code_cells(nb)
            if not IGNORE_TAGS & set(c.metadata.get("tags", []))
            or "raises-exception" in set(c.metadata.get("tags", []))]


def strip_volatile(outputs):
    clean = []
    for out in outputs:
        if isinstance(out, str):
            clean.append(out)
            continue
        out = {k: v for k, v in out.items()
               if k not in {"execution_count", "metadata"}}
        clean.append(out)
    return clean


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_rerun_is_identical_bit_for_bit_and_fast(path, tmp_path):
    stored = read(path)
    fresh, seconds = execute(stored, path.parent)
    assert seconds < MAX_SECONDS, f"took {seconds:.0f} s (limit {MAX_SECONDS} s)"
    for (src, old), (_, new) in zip(comparable(stored), comparable(fresh)):
        assert strip_volatile(new) == strip_volatile(old), \
            f"outputs changed on re-run in cell:\n{src[:300]}"


def test_written_parts_cover_their_syllabus_once():
    """A part with chapters covers every syllabus ID of its letter exactly once."""
    letters = {"principles": "P", "adaptive": "A", "distributed": "D",
               "applications": "X"}
    for part, letter in letters.items():
        chapters = sorted((ROOT / "chapters" / part).glob("*.ipynb"))
        if not chapters:
            continue  # a part not written yet
        covered = [t for p in chapters
                   for t in read(p).cells[0].metadata["mbgd"]["covers"]]
        wanted = sorted(t for t in SYLLABUS if t.startswith(letter))
        assert sorted(covered) == wanted, f"{part}: covers {sorted(covered)}"
