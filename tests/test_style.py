"""Style rule: Python source lines are at most 87 characters long."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("mbgd", "tests", "benchmarks", "tools", "_ext")
MAX_LENGTH = 87


def test_lines_are_at_most_87_characters():
    long = [
        f"{path.relative_to(ROOT)}:{i} ({len(line)} chars)"
        for path in sorted(ROOT.glob("*.py")) + [
            p for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]
        for i, line in enumerate(path.read_text(encoding="utf8").splitlines(), 1)
        if len(line) > MAX_LENGTH
    ]
    assert not long, "lines longer than 87 characters:\n" + "\n".join(long)
