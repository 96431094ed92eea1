"""mbgd.optim against torch.optim, step by step in float64.

Every case runs both libraries side by side on the same parameters and gradients
and compares, after every step, the parameters, the set of state keys and every
state entry. The parameters include an empty tensor, one whose gradient is
``None`` for the first two steps (its state starts late) and one whose gradient is
``None`` at one step in the middle, in a second parameter group with its own lr.
"""

from __future__ import annotations

import copy
import inspect
import re

import pytest
import torch
from torch.testing import assert_close

from mbgd import optim

STEPS = 7
TOL = {"rtol": 1e-12, "atol": 1e-14}
NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]

# (optimizer, kwargs): crosses the options of each optimizer.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "nesterov": True, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.7, "weight_decay": 0.2, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.3, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.8, "momentum": 0.5, "centered": True,
                 "maximize": True, "eps": 1e-4}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-3, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.1,
              "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True, "betas": (0.5, 0.6)}),
]
CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]

SHAPES = {"w": (3, 4), "b": (4,), "empty": (0, 3), "late": (2, 2), "gap": (5,)}
NO_GRAD_AT = {"late": {0, 1}, "gap": {3}}  # steps at which p.grad is None


def _tensors(seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {
        n: torch.randn(s, generator=gen, dtype=torch.float64)
        for n, s in SHAPES.items()
    }


def _gradients(steps: int) -> list[dict[str, torch.Tensor]]:
    """Random gradients whose scale changes from step to step (so AMSGrad's
    maximum and the running averages both matter)."""
    gen = torch.Generator().manual_seed(1)
    out = []
    for k in range(steps):
        scale = torch.exp(2 * torch.randn(len(SHAPES), generator=gen))
        out.append({
            n: g * s
            for (n, g), s in zip(_tensors(100 + k).items(), scale.tolist())
        })
    return out


class Run:
    """One optimizer on its own copy of the parameters."""

    def __init__(self, make, kwargs, float32=()):
        self.params = {
            n: t.to(torch.float32 if n in float32 else t.dtype).requires_grad_()
            for n, t in _tensors(0).items()
        }
        first = [self.params[n] for n in ("w", "b", "empty", "late")]
        groups = [{"params": first}, {"params": [self.params["gap"]], "lr": 0.02}]
        self.opt = make(groups, **kwargs)

    def step(self, k: int, grads: dict[str, torch.Tensor]) -> None:
        for n, p in self.params.items():
            p.grad = None if k in NO_GRAD_AT.get(n, ()) else grads[n].clone()
        self.opt.step()

    def state(self, n: str) -> dict[str, torch.Tensor]:
        return self.opt.state.get(self.params[n], {})


def _assert_same(ours: Run, ref: Run, where: str, **tol) -> None:
    for n in SHAPES:
        assert_close(ours.params[n], ref.params[n], **tol,
                     msg=lambda m: f"{where}, param {n!r}: {m}")
        assert set(ours.state(n)) == set(ref.state(n)), f"{where}, state of {n!r}"
        for key, value in ref.state(n).items():
            assert_close(ours.state(n)[key], value, **tol,
                         msg=lambda m: f"{where}, state {key!r} of {n!r}: {m}")


def _compare(ours: Run, ref: Run, steps: int = STEPS, first: int = 0, **tol) -> None:
    tol = tol or TOL
    grads = _gradients(first + steps)
    for k in range(first, first + steps):
        ours.step(k, grads[k])
        ref.step(k, grads[k])
        _assert_same(ours, ref, f"step {k + 1}", **tol)


@pytest.mark.parametrize("foreach", [False, True], ids=["single", "multi"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_matches_torch_step_by_step(name, kwargs, foreach):
    kwargs = {**kwargs, "foreach": foreach}
    _compare(Run(getattr(optim, name), kwargs),
             Run(getattr(torch.optim, name), kwargs))


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_multi_tensor_path_matches_single_tensor_path(name, kwargs):
    cls = getattr(optim, name)
    _compare(Run(cls, {**kwargs, "foreach": True}),
             Run(cls, {**kwargs, "foreach": False}))


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_multi_tensor_path_with_mixed_dtypes(name, kwargs):
    """float32 and float64 parameters in one group go to separate foreach calls."""
    cls = getattr(optim, name)
    ours = Run(cls, {**kwargs, "foreach": True}, float32=("w",))
    ref = Run(cls, {**kwargs, "foreach": False}, float32=("w",))
    grads = _gradients(STEPS)
    for k in range(STEPS):
        grads[k]["w"] = grads[k]["w"].float()
        ours.step(k, grads[k])
        ref.step(k, grads[k])
    _assert_same(ours, ref, "after all steps", rtol=1e-5, atol=1e-6)
    assert ours.params["w"].dtype == torch.float32


SAME_OPS = [case for case in CASES if case[0] in ("SGD", "RMSprop")]


@pytest.mark.parametrize("name, kwargs", SAME_OPS, ids=[c[0] for c in SAME_OPS])
def test_multi_tensor_path_is_bitwise_torch_foreach_in_float32(name, kwargs):
    """Where mbgd's multi-tensor path does torch's operations (SGD, RMSprop), the
    results are identical bit for bit: passing numbers as 0-d tensors (for speed
    on the CPU) changes nothing."""
    kwargs = {**kwargs, "foreach": True}
    every = tuple(SHAPES)
    ours = Run(getattr(optim, name), kwargs, float32=every)
    ref = Run(getattr(torch.optim, name), kwargs, float32=every)
    grads = _gradients(STEPS)
    for k in range(STEPS):
        grads32 = {n: g.float() for n, g in grads[k].items()}
        ours.step(k, grads32)
        ref.step(k, grads32)
    _assert_same(ours, ref, "after all steps", rtol=0, atol=0)


@pytest.mark.parametrize("foreach", [False, True], ids=["single", "multi"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_gradients_are_left_unchanged(name, kwargs, foreach):
    """torch's multi-tensor Nesterov SGD adds into p.grad; mbgd never does."""
    run = Run(getattr(optim, name), {**kwargs, "foreach": foreach})
    grads = _gradients(2)
    for k in range(2):
        run.step(k, grads[k])
        for n, p in run.params.items():
            if p.grad is not None:
                assert torch.equal(p.grad, grads[k][n]), n


@pytest.mark.parametrize("foreach", [False, True], ids=["single", "multi"])
def test_sgd_momentum_buffer_is_minus_velocity_over_lr(foreach):
    """The book's heavy ball v <- mu v - lr g, x <- x + v (written out here) gives
    torch-convention SGD's iterates, with v_k = -lr * momentum_buffer_k."""
    gen = torch.Generator().manual_seed(3)
    q = torch.randn(3, 3, generator=gen, dtype=torch.float64)
    A = q @ q.T + torch.eye(3, dtype=torch.float64)
    b = torch.randn(3, generator=gen, dtype=torch.float64)
    lr, mu = 0.5 / float(torch.linalg.eigvalsh(A)[-1]), 0.8
    x = torch.randn(3, generator=gen, dtype=torch.float64)
    v = torch.zeros(3, dtype=torch.float64)
    w = x.clone().requires_grad_()
    opt = optim.SGD([w], lr=lr, momentum=mu, foreach=foreach)
    for k in range(3 * STEPS):
        v = mu * v - lr * (A @ x - b)
        x = x + v
        w.grad = A @ w.detach() - b
        opt.step()
        assert_close(w.detach(), x, **TOL, msg=lambda m: f"step {k + 1}: {m}")
        assert_close(-lr * opt.state[w]["momentum_buffer"], v, **TOL)


@pytest.mark.parametrize("name, kwargs", CASES, ids=CASE_IDS)
def test_state_dict_round_trips_with_torch(name, kwargs):
    """A torch state_dict loads into mbgd's optimizer (and back): same keys.

    (Deep copies: ``load_state_dict`` shares the state tensors it is given.)"""
    ref = Run(getattr(torch.optim, name), kwargs)
    grads = _gradients(STEPS)
    for k in range(3):
        ref.step(k, grads[k])
    ours = Run(getattr(optim, name), kwargs)
    with torch.no_grad():
        for n, p in ours.params.items():
            p.copy_(ref.params[n])
    ours.opt.load_state_dict(copy.deepcopy(ref.opt.state_dict()))
    _compare(ours, ref, steps=2, first=3)

    back = Run(getattr(torch.optim, name), kwargs)
    with torch.no_grad():
        for n, p in back.params.items():
            p.copy_(ours.params[n])
    back.opt.load_state_dict(copy.deepcopy(ours.opt.state_dict()))
    _compare(back, ours, steps=2, first=5)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_argument_names_match_torch(name):
    p = [torch.zeros(2, requires_grad=True)]
    ours = getattr(optim, name)(p).defaults
    ref = getattr(torch.optim, name)(p).defaults
    assert ours == {k: ref[k] for k in ours}
    assert set(ref) - set(ours) <= {"capturable", "differentiable", "fused"}
    ours_args = inspect.signature(getattr(optim, name)).parameters
    ref_args = inspect.signature(getattr(torch.optim, name)).parameters
    assert set(ours_args) <= set(ref_args)
    for arg, param in ours_args.items():
        assert param.default == ref_args[arg].default, arg


def test_step_returns_the_closure_loss():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 5.0
    assert opt.state[w]["step"].item() == 1.0


P = [torch.zeros(2, requires_grad=True)]
INVALID = [
    (optim.SGD, {"lr": -0.1}, ValueError, "lr must be a real number >= 0.0; got -0.1"),
    (optim.SGD, {"lr": float("nan")}, ValueError,
     "lr must be a real number >= 0.0; got nan"),
    (optim.SGD, {"lr": "0.1"}, TypeError,
     "lr must be a real number >= 0.0; got '0.1'"),
    (optim.SGD, {"momentum": -0.5}, ValueError,
     "momentum must be a real number >= 0.0; got -0.5"),
    (optim.SGD, {"dampening": 1.5}, ValueError,
     "dampening must be a real number with 0.0 <= value <= 1.0; got 1.5"),
    (optim.SGD, {"weight_decay": -1e-4}, ValueError,
     "weight_decay must be a real number >= 0.0; got -0.0001"),
    (optim.SGD, {"nesterov": True}, ValueError,
     "momentum must be a real number > 0.0 when nesterov=True; got 0.0"),
    (optim.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, ValueError,
     "dampening must be 0.0 when nesterov=True; got 0.1"),
    (optim.SGD, {"nesterov": 1}, TypeError,
     "nesterov must be a bool (True or False); got 1"),
    (optim.SGD, {"foreach": "yes"}, TypeError,
     "foreach must be None, True or False; got 'yes'"),
    (optim.SGD, {"maximize": None}, TypeError,
     "maximize must be a bool (True or False); got None"),
    (optim.Adagrad, {"lr_decay": -1.0}, ValueError,
     "lr_decay must be a real number >= 0.0; got -1.0"),
    (optim.Adagrad, {"initial_accumulator_value": -0.1}, ValueError,
     "initial_accumulator_value must be a real number >= 0.0; got -0.1"),
    (optim.Adagrad, {"eps": -1e-10}, ValueError,
     "eps must be a real number >= 0.0; got -1e-10"),
    (optim.RMSprop, {"alpha": 1.5}, ValueError,
     "alpha must be a real number with 0.0 <= value <= 1.0; got 1.5"),
    (optim.RMSprop, {"momentum": -0.1}, ValueError,
     "momentum must be a real number >= 0.0; got -0.1"),
    (optim.RMSprop, {"centered": "yes"}, TypeError,
     "centered must be a bool (True or False); got 'yes'"),
    (optim.Adadelta, {"rho": 1.1}, ValueError,
     "rho must be a real number with 0.0 <= value <= 1.0; got 1.1"),
    (optim.Adadelta, {"lr": -1}, ValueError,
     "lr must be a real number >= 0.0; got -1.0"),
    (optim.Adam, {"betas": (0.9, 1.0)}, ValueError,
     "betas[1] must be a real number with 0.0 <= value < 1.0; got 1.0"),
    (optim.Adam, {"betas": (-0.1, 0.999)}, ValueError,
     "betas[0] must be a real number with 0.0 <= value < 1.0; got -0.1"),
    (optim.Adam, {"betas": 0.9}, TypeError,
     "betas must be a pair of real numbers (beta1, beta2); got 0.9"),
    (optim.Adam, {"betas": (0.9,)}, ValueError,
     "betas must be a pair of real numbers (beta1, beta2); got (0.9,)"),
    (optim.Adam, {"amsgrad": 0}, TypeError,
     "amsgrad must be a bool (True or False); got 0"),
    (optim.Adam, {"lr": torch.tensor(0.5)}, TypeError,
     "lr must be a real number >= 0.0; got tensor(0.5000)"),
    (optim.AdamW, {"weight_decay": -0.01}, ValueError,
     "weight_decay must be a real number >= 0.0; got -0.01"),
]


@pytest.mark.parametrize("cls, kwargs, exc, message", INVALID,
                         ids=[f"{c.__name__}-{k}" for c, k, _, _ in INVALID])
def test_invalid_arguments(cls, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        cls(P, **kwargs)


X, G = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.5])
INVALID_FUNCTIONAL = [  # the functional updates check what the classes check
    (lambda: optim.sgd_update_(X.clone(), G, {}, lr=-1.0), ValueError,
     "lr must be a real number >= 0.0; got -1.0"),
    (lambda: optim.sgd_update_(X.clone(), G, {}, lr=0.1, nesterov=True), ValueError,
     "momentum must be a real number > 0.0 when nesterov=True; got 0.0"),
    (lambda: optim.sgd_update_(X.clone(), torch.ones(1), {}, lr=0.1), ValueError,
     "grad must have the shape of param, (2,); got shape (1,)"),
    (lambda: optim.sgd_update_([1.0, 2.0], G, {}, lr=0.1), TypeError,
     "param must be a floating-point torch.Tensor; got [1.0, 2.0]"),
    (lambda: optim.sgd_update_(X.clone(), [0.5, 0.5], {}, lr=0.1), TypeError,
     "grad must be a torch.Tensor shaped like param; got [0.5, 0.5]"),
    (lambda: optim.sgd_update_(X.clone(), G, None, lr=0.1), TypeError,
     "state must be a dict of tensors (from {} at the start); got None"),
    (lambda: optim.adagrad_update_(X.clone(), G, {}, lr=0.1), ValueError,
     "state must hold ['step', 'sum'] for these options (make it with "
     "adagrad_init); got keys []"),
    (lambda: optim.adagrad_update_(X.clone(), G, optim.adagrad_init(X), lr_decay=-2),
     ValueError, "lr_decay must be a real number >= 0.0; got -2.0"),
    (lambda: optim.rmsprop_update_(X.clone(), G, optim.rmsprop_init(X), alpha=2.0),
     ValueError, "alpha must be a real number with 0.0 <= value <= 1.0; got 2.0"),
    (lambda: optim.rmsprop_update_(X.clone(), G, optim.rmsprop_init(X), momentum=0.9),
     ValueError, "state must hold ['momentum_buffer'] for these options (make it "
     "with rmsprop_init); got keys ['square_avg', 'step']"),
    (lambda: optim.adadelta_update_(X.clone(), G, optim.adadelta_init(X), rho=-1.0),
     ValueError, "rho must be a real number with 0.0 <= value <= 1.0; got -1.0"),
    (lambda: optim.adam_update_(X.clone(), G, optim.adam_init(X), betas=(1.0, 0.9)),
     ValueError, "betas[0] must be a real number with 0.0 <= value < 1.0; got 1.0"),
    (lambda: optim.adam_update_(X.clone(), G, optim.adam_init(X), amsgrad=True),
     ValueError, "state must hold ['max_exp_avg_sq'] for these options"),
    (lambda: optim.adagrad_init(X, initial_accumulator_value=-1.0), ValueError,
     "initial_accumulator_value must be a real number >= 0.0; got -1.0"),
    (lambda: optim.rmsprop_init(X, momentum=-1.0), ValueError,
     "momentum must be a real number >= 0.0; got -1.0"),
    (lambda: optim.rmsprop_init(X, centered=1), TypeError,
     "centered must be a bool (True or False); got 1"),
    (lambda: optim.adam_init(X, amsgrad="no"), TypeError,
     "amsgrad must be a bool (True or False); got 'no'"),
    (lambda: optim.adam_init(torch.tensor([1, 2])), TypeError,
     "param must be a floating-point torch.Tensor; got dtype torch.int64"),
    (lambda: optim.adadelta_init(None), TypeError,
     "param must be a floating-point torch.Tensor; got None"),
]


@pytest.mark.parametrize("call, exc, message", INVALID_FUNCTIONAL)
def test_invalid_functional_arguments(call, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        call()


def test_invalid_group_option_is_rejected_before_the_group_is_added():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=re.escape(
            "dampening must be a real number with 0.0 <= value <= 1.0; got -1")):
        opt.add_param_group({"params": [b], "dampening": -1})
    with pytest.raises(ValueError, match=re.escape(
            "momentum must be a real number > 0.0 when nesterov=True; got 0.0")):
        opt.add_param_group({"params": [b], "nesterov": True, "momentum": 0.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [b], "lr": 1})
    assert opt.param_groups[1]["lr"] == 1.0 and opt.param_groups[1]["momentum"] == 0.9


def test_integer_params_and_sparse_gradients_are_rejected():
    with pytest.raises(TypeError, match=re.escape(
            "params must be floating-point tensors; got dtype torch.int64")):
        optim.Adagrad([torch.zeros(2, dtype=torch.int64)])
    emb = torch.nn.Embedding(4, 2, sparse=True)
    emb(torch.tensor([1])).sum().backward()
    opt = optim.SGD(emb.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match="SGD does not support sparse gradients"):
        opt.step()


@pytest.mark.parametrize("update, init, options", [
    (optim.sgd_update_, lambda x: {}, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.adagrad_update_, optim.adagrad_init, {"lr": 0.1, "lr_decay": 0.01}),
    (optim.rmsprop_update_, lambda x: optim.rmsprop_init(x, centered=True),
     {"lr": 0.01, "centered": True}),
    (optim.adadelta_update_, optim.adadelta_init, {"rho": 0.5}),
    (optim.adam_update_, lambda x: optim.adam_init(x, amsgrad=True),
     {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
])
def test_a_prepared_update_takes_the_same_steps(update, init, options):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, generator=gen, dtype=torch.float64)
    y, a, b = x.clone(), init(x), init(x)
    fn = optim.prepare_update(update, options)
    for _ in range(STEPS):
        g = torch.randn(3, generator=gen, dtype=torch.float64)
        update(x, g, a, **options)
        fn(y, g, b)
        assert torch.equal(x, y)
        assert {k: v.tolist() for k, v in a.items()} == \
            {k: v.tolist() for k, v in b.items()}


@pytest.mark.parametrize("update, options, error, message", [
    (print, {}, ValueError, "update must be one of sgd_update_, adagrad_update_"),
    (optim.sgd_update_, {}, TypeError, "options must give lr for sgd_update_"),
    (optim.adam_update_, {"momentum": 0.9}, TypeError,
     "options must be among ['lr', 'betas'"),
    (optim.adam_update_, {"lr": -1.0}, ValueError, "lr must be"),
])
def test_prepare_update_checks_its_options_once(update, options, error, message):
    with pytest.raises(error, match=re.escape(message)):
        optim.prepare_update(update, options)
