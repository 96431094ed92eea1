"""Child process of :mod:`mbgd.grading`: run one submission, report raw outputs.

The grader starts ``python -I -u -m mbgd._grade_worker`` (isolated, unbuffered) in
a fresh, empty temporary folder (inside bubblewrap when the machine allows) and
writes one JSON request to its stdin::

    {"cells": [[cell_number, code], ...],
     "calls": [{"q": "q1", "name": "gd_step", "cases": [[arg, ...], ...]}, ...],
     "values": [{"q": "q2", "name": "answer_q2"}, ...],
     "limits": {"memory_mb": 2048, "cpu_s": 121, "call_s": 20.0},
     "result_fd": 5}

The worker sets its resource limits, runs the cells in order in one namespace
(each in its own ``try``, with a time limit, so one failing cell does not stop
the later ones), then calls each function on each case and reads each value,
writing one JSON line per event to the file descriptor ``result_fd``::

    {"cell": 7, "error": "ZeroDivisionError: division by zero"}
    {"q": "q1", "case": 0, "value": <plain value>}   or  ..., "error": "..."}
    {"q": "q1", "missing": "gd_step is not defined"}
    {"q": "q2", "value": <plain value>}               or  {"q": "q2", "error": "..."}
    {"done": true}

Nothing here is trusted: the submission runs in this process and may change
anything, this module included. The grader validates every line, decodes values
with :func:`mbgd.exercises.from_plain` and compares them itself.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from contextlib import contextmanager
from typing import Any

MAX_EVENT = 1 << 20  # bytes in one result line; the grader drops longer ones
FILE_SIZE = 16 << 20  # RLIMIT_FSIZE: largest file the submission may write
OPEN_FILES = 256  # RLIMIT_NOFILE
PROCESSES = 4096  # RLIMIT_NPROC (counted per user; not enforced for root)


class TimeLimitExceeded(BaseException):
    """Raised by SIGALRM; a BaseException so that ``except Exception`` misses it."""


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    _set_limits(request["limits"])
    out = os.fdopen(request["result_fd"], "wb", buffering=0)

    def send(event: dict) -> None:
        line = json.dumps(event).encode() + b"\n"
        if len(line) > MAX_EVENT:
            event = {k: v for k, v in event.items() if k not in ("value", "error")}
            event["error"] = f"answer too large to send ({len(line)} bytes)"
            line = json.dumps(event).encode() + b"\n"
        out.write(line)

    import torch

    from mbgd.exercises import from_plain, to_plain

    torch.set_num_threads(1)
    call_s = float(request["limits"]["call_s"])
    namespace: dict[str, Any] = {"__name__": "__main__", "display": print}
    for number, code in request["cells"]:
        error = _run(lambda: exec(compile(code, f"<cell {number}>", "exec"),
                                  namespace), call_s)
        if error is not None:
            send({"cell": number, "error": error})
    for call in request["calls"]:
        fn = namespace.get(call["name"])
        if not callable(fn):
            send({"q": call["q"], "missing": f"{call['name']} is not defined"
                  + ("" if fn is None else " as a function")})
            continue
        for i, args in enumerate(call["cases"]):
            box: list = []
            error = _run(lambda: box.append(to_plain(fn(*from_plain(args)))), call_s)
            if error is None:
                send({"q": call["q"], "case": i, "value": box[0]})
                continue
            send({"q": call["q"], "case": i, "error": error})
            if error.startswith("TimeLimitExceeded"):
                break  # the remaining cases would most likely hang as well
    for value in request["values"]:
        if value["name"] not in namespace:
            send({"q": value["q"], "missing": f"{value['name']} is not defined"})
            continue
        box = []
        error = _run(lambda: box.append(to_plain(namespace[value["name"]])), call_s)
        send({"q": value["q"], **({"value": box[0]} if error is None
                                  else {"error": error})})
    send({"done": True})
    os._exit(0)  # skip the submission's atexit handlers and finalisers


def _set_limits(limits: dict) -> None:
    memory = int(limits["memory_mb"]) << 20
    cpu = int(limits["cpu_s"])
    for which, value in ((resource.RLIMIT_AS, (memory, memory)),
                         (resource.RLIMIT_CPU, (cpu, cpu + 1)),
                         (resource.RLIMIT_FSIZE, (FILE_SIZE, FILE_SIZE)),
                         (resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES)),
                         (resource.RLIMIT_NPROC, (PROCESSES, PROCESSES)),
                         (resource.RLIMIT_CORE, (0, 0))):
        soft, hard = resource.getrlimit(which)
        value = tuple(v if h == resource.RLIM_INFINITY else min(v, h)
                      for v, h in zip(value, (hard, hard)))
        resource.setrlimit(which, value)


def _run(action, seconds: float) -> str | None:
    """Run ``action()`` under a time limit; return ``None`` or the error's text."""
    try:
        with _time_limit(seconds):
            action()
    except BaseException as exc:  # the submission's code: report everything
        return _describe(exc)
    return None


@contextmanager
def _time_limit(seconds: float):
    def stop(signum, frame):
        raise TimeLimitExceeded(f"stopped after {seconds:g} s")

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # a lying __str__ must not stop the report
        text = "an exception whose message cannot be shown"
    return text[:500]


if __name__ == "__main__":
    main()
