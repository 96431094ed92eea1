"""mbgd: the support library of the course on mini-batch gradient descent.

Submodules load on first use, so ``import mbgd`` is cheap and
``mbgd.trajectory.run`` works without importing the submodule first:

>>> import mbgd
>>> mbgd.trajectory.run.__name__
'run'

The chapters' 2-D pictures: :mod:`mbgd.landscapes`, :mod:`mbgd.steps`,
:mod:`mbgd.trajectory`, :mod:`mbgd.plotting`. Optimizers and training:
:mod:`mbgd.optim`, :mod:`mbgd.data`, :mod:`mbgd.noise`, :mod:`mbgd.train`,
:mod:`mbgd.schedules`. The explorers: :mod:`mbgd.explore` and one module per
chapter topic (:mod:`mbgd.descent`, :mod:`mbgd.estimator`,
:mod:`mbgd.batch_effects`, :mod:`mbgd.sgd_dynamics`, :mod:`mbgd.momentum`,
:mod:`mbgd.race`). Exercises and grading: :mod:`mbgd.exercises`,
:mod:`mbgd.grading`, :mod:`mbgd.cli`. Plumbing: :mod:`mbgd.device`,
:mod:`mbgd.seeding`, :mod:`mbgd.progress`.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mbgd")
except PackageNotFoundError:  # run from a source tree that was not installed
    __version__ = "unknown"

SUBMODULES = (
    "batch_effects", "cli", "data", "descent", "device", "estimator", "exercises",
    "explore", "grading", "landscapes", "momentum", "noise", "optim", "plotting",
    "progress", "race", "schedules", "seeding", "sgd_dynamics", "steps", "train",
    "trajectory",
)


def __getattr__(name: str):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *SUBMODULES])
