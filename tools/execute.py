"""Execute notebooks in place, the way their stored outputs are produced.

Usage: python tools/execute.py NOTEBOOK.ipynb...  (or: make execute NB="...")

Outputs must be reproducible bit for bit, so this script fixes everything a run
depends on besides the code: MBGD_PROGRESS=0 (no progress bars), MBGD_DEVICE=cpu,
PYTHONHASHSEED=0, and no stored widget state (a page with widget state would load
the widget manager from a CDN). The tests call :func:`execute` to re-run each
notebook and compare with what is stored.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ENV = {"MBGD_PROGRESS": "0", "MBGD_DEVICE": "cpu", "PYTHONHASHSEED": "0",
       "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
CELL_TIMEOUT = 120


def execute(nb: nbformat.NotebookNode,
            cwd: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run a copy of ``nb`` in ``cwd``; return it and the wall time in seconds."""
    nb = copy.deepcopy(nb)
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)
    try:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd)}},
                                store_widget_state=False)
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb, elapsed


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs of the same name (as nbval compares them):
    how the kernel splits a cell's printing into messages depends on timing."""
    merged: list = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1]["name"] == out["name"]):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        done, elapsed = execute(nb, path.parent)
        nbformat.write(done, path)
        size = path.stat().st_size / 1e6
        print(f"{path}: executed in {elapsed:.1f} s, {size:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
