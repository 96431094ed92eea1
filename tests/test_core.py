"""Unit tests of the library's plumbing: checks, device, seeding, progress."""

import re

import pytest
import torch

from mbgd._checks import check_choice, check_int, check_real, check_shape
from mbgd.device import default_device, resolve_device
from mbgd.progress import progress_bar, progress_enabled
from mbgd.seeding import as_generator

BAD_INPUT = [
    (check_int, ("steps", 1.5), {"low": 0}, TypeError,
     "steps must be an int >= 0; got 1.5"),
    (check_int, ("steps", True), {}, TypeError, "steps must be an int; got True"),
    (check_int, ("n", 11), {"low": 1, "high": 10}, ValueError,
     "n must be an int with 1 <= value <= 10; got 11"),
    (check_real, ("lr", 0.0), {"low": 0.0, "bounds": "(]"}, ValueError,
     "lr must be a real number > 0.0; got 0.0"),
    (check_real, ("lr", float("nan")), {"low": 0.0}, ValueError,
     "lr must be a real number >= 0.0; got nan"),
    (check_real, ("beta", 1.0), {"low": 0.0, "high": 1.0, "bounds": "()"}, ValueError,
     "beta must be a real number with 0.0 < value < 1.0; got 1.0"),
    (check_real, ("lr", "0.1"), {}, TypeError, "lr must be a real number; got '0.1'"),
    (check_choice, ("mode", "x", ("a", "b")), {}, ValueError,
     "mode must be one of 'a', 'b'; got 'x'"),
    (check_shape, ("x0", torch.zeros(2, 3), (2, None, 1)), {}, ValueError,
     "x0 must have shape (2, *, 1); got shape (2, 3)"),
    (as_generator, (torch.Generator(),), {"device": "nonsense"}, ValueError,
     "device must name a torch device such as 'cpu' or 'cuda'; got 'nonsense'"),
    (resolve_device, (f"cuda:{torch.cuda.device_count()}",), {}, ValueError,
     "device must name a device this machine has; "
     f"got 'cuda:{torch.cuda.device_count()}' but "),
    (progress_bar, (None,), {"progress": False}, TypeError,
     "iterable must be an iterable; got None"),
    (progress_bar, (range(3),), {"total": -1, "progress": False}, ValueError,
     "total must be an int >= 0; got -1"),
    (progress_bar, (range(3),), {"desc": 3, "progress": False}, TypeError,
     "desc must be a str or None; got 3"),
]


@pytest.mark.parametrize("fn, args, kwargs, exc, message", BAD_INPUT)
def test_checks_name_argument_rule_and_value(fn, args, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        fn(*args, **kwargs)


def test_checks_accept_valid_values():
    assert check_real("beta", 0.5, low=0.0, high=1.0, bounds="()") == 0.5
    assert check_int("n", 10, low=1, high=10) == 10


def test_default_device_follows_environment(monkeypatch):
    monkeypatch.setenv("MBGD_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    monkeypatch.setenv("MBGD_DEVICE", "meta")
    assert default_device() == torch.device("meta")
    monkeypatch.delenv("MBGD_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type == expected


def test_default_device_rejects_bad_environment(monkeypatch):
    monkeypatch.setenv("MBGD_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="MBGD_DEVICE must name a torch device"):
        default_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("MBGD_DEVICE", "cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            default_device()


def test_resolve_device_validates():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(TypeError,
                       match="device must be a str, a torch.device or None"):
        resolve_device(3)
    with pytest.raises(ValueError, match="device must name a torch device"):
        resolve_device("toaster")


def test_seed_normalisation():
    a = torch.rand(4, generator=as_generator(7))
    b = torch.rand(4, generator=as_generator(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, torch.rand(4, generator=as_generator(8)))
    g = as_generator(3)
    assert as_generator(g) is g  # a generator is used as is, so callers can share it
    with pytest.raises(TypeError,
                       match="seed must be an int, a torch.Generator or None"):
        as_generator(1.0)
    with pytest.raises(ValueError,
                       match="seed must be an int with 0 <= seed < 2\\*\\*63"):
        as_generator(-1)


def test_seed_none_does_not_touch_global_state():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    as_generator(None)
    as_generator(5)
    assert torch.equal(torch.rand(3), expected)


def test_progress_switch(monkeypatch):
    monkeypatch.setenv("MBGD_PROGRESS", "0")
    assert progress_enabled(None) is False
    assert progress_enabled(True) is True
    items = range(3)
    assert progress_bar(items) is items  # no wrapper at all when silenced
    monkeypatch.setenv("MBGD_PROGRESS", "1")
    assert progress_enabled(None) is True
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        progress_enabled("yes")


def test_the_package_lists_every_submodule_and_loads_them_on_use():
    import pkgutil

    import mbgd

    public = {m.name for m in pkgutil.iter_modules(mbgd.__path__)
              if not m.name.startswith("_")}
    assert set(mbgd.SUBMODULES) == public
    assert mbgd.landscapes.robot_arm().name == "robot arm"
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        mbgd.nonsense  # noqa: B018
