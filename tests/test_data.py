"""Tests of mbgd.data: samplers, allocations, the batch iterator."""

import itertools
import math
import re

import pytest
import torch

from mbgd.data import (
    EpochSampler,
    ReplacementSampler,
    StratifiedSampler,
    TensorBatches,
    neyman_allocation,
    proportional_allocation,
    stratum_weights,
)

CPU = "cpu"


# ---------------------------------------------------------------- EpochSampler

@pytest.mark.parametrize("n,b,drop_last", [(10, 3, False), (10, 3, True),
                                           (12, 4, False), (7, 7, True),
                                           (5, 1, False)])
def test_epoch_sampler_covers_each_index_once(n, b, drop_last):
    s = EpochSampler(n, b, drop_last=drop_last, seed=1, device=CPU)
    batches = list(s)
    assert len(batches) == len(s) == (n // b if drop_last else math.ceil(n / b))
    assert [len(x) for x in batches] == list(s.batch_sizes)
    flat = torch.cat(batches)
    if drop_last:
        assert flat.numel() == n - n % b and flat.unique().numel() == flat.numel()
    else:
        assert sorted(flat.tolist()) == list(range(n))


def test_epoch_sampler_deterministic_and_epochs_differ():
    a = EpochSampler(50, 8, seed=3, device=CPU)
    b = EpochSampler(50, 8, seed=3, device=CPU)
    ea1, ea2 = torch.cat(list(a)), torch.cat(list(a))
    eb1, eb2 = torch.cat(list(b)), torch.cat(list(b))
    assert torch.equal(ea1, eb1) and torch.equal(ea2, eb2)
    assert not torch.equal(ea1, ea2)
    c = EpochSampler(50, 8, seed=4, device=CPU)
    assert not torch.equal(torch.cat(list(c)), ea1)


def test_epoch_sampler_no_shuffle_keeps_order():
    s = EpochSampler(5, 2, shuffle=False, device=CPU)
    assert [x.tolist() for x in s] == [[0, 1], [2, 3], [4]]


def test_epoch_sampler_batches_are_uniform_subsets():
    # P(i in the first batch) = b / N for every i: 4000 epochs, 5-sigma band.
    n, b, reps = 6, 2, 4000
    s = EpochSampler(n, b, seed=0, device=CPU)
    counts = torch.zeros(n)
    for _ in range(reps):
        counts[s.epoch()[0]] += 1
    p = b / n
    sd = math.sqrt(reps * p * (1 - p))
    assert ((counts - reps * p).abs() < 5 * sd).all(), counts


def test_seed_generator_is_threaded():
    g = torch.Generator().manual_seed(0)
    s1 = EpochSampler(20, 5, seed=g, device=CPU)
    first = torch.cat(list(s1))
    s2 = EpochSampler(20, 5, seed=g, device=CPU)  # continues the same generator
    assert not torch.equal(torch.cat(list(s2)), first)


# ---------------------------------------------------------- ReplacementSampler

def test_replacement_sampler_shapes_range_and_uniformity():
    n, b = 5, 4
    s = ReplacementSampler(n, b, num_batches=2500, seed=0, device=CPU)
    batches = list(s)
    assert len(batches) == 2500 and all(x.shape == (b,) for x in batches)
    flat = torch.cat(batches)
    assert flat.min() >= 0 and flat.max() < n
    # 10000 uniform draws: each count ~ Binomial(10000, 1/5), 5-sigma band
    counts = torch.bincount(flat, minlength=n).double()
    sd = math.sqrt(flat.numel() * 0.2 * 0.8)
    assert ((counts - flat.numel() / n).abs() < 5 * sd).all()
    # with replacement: repeated indices inside a batch do occur
    assert any(x.unique().numel() < b for x in batches)


def test_replacement_sampler_default_length_and_batch_larger_than_n():
    assert len(ReplacementSampler(10, 3, device=CPU)) == 4
    assert ReplacementSampler(2, 5, seed=0, device=CPU).epoch()[0].shape == (5,)


# ----------------------------------------------------------------- allocation

def test_stratum_weights():
    assert torch.allclose(stratum_weights([1, 3]), torch.tensor([0.25, 0.75],
                                                                 dtype=torch.float64))


@pytest.mark.parametrize("sizes,b,expected", [
    ([50, 30, 20], 10, [5, 3, 2]),       # exact
    ([10, 10, 10], 10, [4, 3, 3]),       # tie: lower index first
    ([97, 2, 1], 10, [8, 1, 1]),         # floor of 1 each
    ([97, 2, 1], 2, [2, 0, 0]),          # b < K: no floor
    ([3, 3], 6, [3, 3]),                 # b = N
])
def test_proportional_allocation_values(sizes, b, expected):
    assert proportional_allocation(sizes, b).tolist() == expected


@pytest.mark.parametrize("sizes,stds,b,expected", [
    ([100, 100], [1.0, 3.0], 8, [2, 6]),            # exact n_k = b N_k s_k / sum
    ([50, 30, 20], [1.0, 2.0, 4.0], 10, [3, 3, 4]),  # 2.63, 3.16, 4.21
    ([50, 30, 2], [1.0, 1.0, 100.0], 10, [5, 3, 2]),  # stratum 3 capped at N_3 = 2
    ([10, 10, 10], [1.0, 0.0, 0.0], 6, [4, 1, 1]),    # sigma = 0 still gets one
    ([5, 5, 5], [1.0, 0.0, 0.0], 12, [5, 4, 3]),      # full positive, rest shared
    ([20, 10], [0.0, 0.0], 6, [4, 2]),                # all zero: proportional
])
def test_neyman_allocation_values(sizes, stds, b, expected):
    assert neyman_allocation(sizes, stds, b).tolist() == expected


def test_allocations_invariants_random():
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        k = int(torch.randint(1, 6, (1,), generator=g))
        sizes = torch.randint(1, 30, (k,), generator=g)
        b = int(torch.randint(1, int(sizes.sum()) + 1, (1,), generator=g))
        stds = torch.rand(k, generator=g) * (torch.rand(k, generator=g) > 0.3)
        for n in (proportional_allocation(sizes, b),
                  neyman_allocation(sizes, stds, b)):
            assert n.dtype == torch.int64 and int(n.sum()) == b
            assert (n <= sizes).all() and (n >= (1 if b >= k else 0)).all()


def test_neyman_rounding_is_near_the_real_optimum():
    # Without caps or floors, each n_k is the real target rounded up or down.
    sizes, stds = torch.tensor([400, 300, 200, 100]), torch.tensor([1.0, 2, 3, 4])
    b = 37
    target = b * sizes * stds / (sizes * stds).sum()
    n = neyman_allocation(sizes, stds, b)
    assert ((n - target).abs() < 1).all()


def test_neyman_minimises_variance_among_integer_allocations_small_case():
    # Brute force over every integer split of b: the Neyman split is optimal here.
    sizes, stds, b = [40, 30, 30], [1.0, 5.0, 2.0], 9
    w = torch.tensor(sizes, dtype=torch.float64) / sum(sizes)

    def var(n):
        return float(((w * torch.tensor(stds)) ** 2 / torch.tensor(n)).sum())

    best = min((n for n in itertools.product(range(1, b), repeat=3) if sum(n) == b),
               key=var)
    assert neyman_allocation(sizes, stds, b).tolist() == list(best)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: proportional_allocation([3, 0], 2), ValueError, "sizes must be"),
    (lambda: proportional_allocation([3.0, 2.0], 2), ValueError, "sizes must be"),
    (lambda: proportional_allocation([3, 2], 6), ValueError, "b must be an int"),
    (lambda: proportional_allocation([3, 2], 0), ValueError, "b must be an int"),
    (lambda: neyman_allocation([3, 2], [1.0], 2), ValueError, "stds must have shape"),
    (lambda: neyman_allocation([3, 2], [1.0, -1.0], 2), ValueError, "stds must be"),
    (lambda: neyman_allocation([3, 2], [1.0, float("nan")], 2), ValueError, "stds"),
    # not numbers at all: a TypeError naming the argument, not torch's
    (lambda: stratum_weights("abc"), TypeError,
     re.escape("sizes must be a non-empty 1-D list of ints >= 1; got 'abc'")),
    (lambda: proportional_allocation(None, 2), TypeError,
     re.escape("sizes must be a non-empty 1-D list of ints >= 1; got None")),
    (lambda: neyman_allocation([3, 2], "ab", 2), TypeError,
     re.escape("stds must be a 1-D list of real numbers >= 0; got 'ab'")),
    (lambda: neyman_allocation([3, 2], None, 2), TypeError,
     re.escape("stds must be a 1-D list of real numbers >= 0; got None")),
    (lambda: neyman_allocation([3, 2], [True, False], 2), TypeError,
     re.escape("stds must be a 1-D list of real numbers >= 0; got [True, False]")),
])
def test_allocation_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# ----------------------------------------------------------- StratifiedSampler

STRATA = torch.tensor([2, 0, 0, 5, 2, 0, 5, 5, 0, 2, 0, 0])  # sizes 6, 3, 3


def test_stratified_sampler_counts_and_order():
    s = StratifiedSampler(STRATA, 6, seed=0, device=CPU)
    assert s.labels.tolist() == [0, 2, 5] and s.sizes.tolist() == [6, 3, 3]
    assert s.allocation.tolist() == [3, 2, 1] and len(s) == 2
    for batch in itertools.chain(s, s):
        labels = STRATA[batch]
        assert labels.tolist() == [0, 0, 0, 2, 2, 5]
        assert batch.unique().numel() == 6  # no repeats inside a stratum


def test_stratified_sampler_inclusion_probabilities():
    # P(i in batch) = n_k / N_k; 3000 batches, 5-sigma band.
    reps = 3000
    s = StratifiedSampler(STRATA, 6, num_batches=reps, seed=1, device=CPU)
    counts = torch.bincount(torch.cat(list(s)), minlength=12).double()
    n_k = {0: 3, 2: 2, 5: 1}
    N_k = {0: 6, 2: 3, 5: 3}
    p = torch.tensor([n_k[int(k)] / N_k[int(k)] for k in STRATA], dtype=torch.float64)
    sd = (reps * p * (1 - p)).sqrt()
    assert ((counts - reps * p).abs() < 5 * sd).all()


def test_stratified_estimate_is_unbiased_exactly():
    # Average the estimator over every possible batch (all within-stratum subsets):
    # it equals the population mean, for an allocation that is not proportional.
    values = torch.arange(12, dtype=torch.float64) ** 2
    s = StratifiedSampler(STRATA, 5, allocation=[1, 2, 2], device=CPU)
    members = [torch.nonzero(STRATA == k).flatten() for k in (0, 2, 5)]
    subsets = [list(itertools.combinations(m.tolist(), n))
               for m, n in zip(members, (1, 2, 2))]
    estimates = [s.estimate(values[list(itertools.chain(*pick))])
                 for pick in itertools.product(*subsets)]
    assert torch.allclose(torch.stack(estimates).mean(), values.mean(), rtol=1e-13)
    # the same weights as W_k / n_k, and sum of example weights is 1
    assert torch.allclose(s.example_weights, torch.tensor(
        [0.5, 0.125, 0.125, 0.125, 0.125], dtype=torch.float64))


def test_stratified_neyman_and_explicit_allocations():
    s = StratifiedSampler(STRATA, 6, allocation="neyman", stds=[0.0, 1.0, 5.0],
                          seed=0, device=CPU)
    assert s.allocation.tolist() == [1, 2, 3]
    assert StratifiedSampler(STRATA, 4, allocation=torch.tensor([1, 1, 2]),
                             device=CPU).allocation.tolist() == [1, 1, 2]


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(strata=[0, 1], batch_size=2), TypeError, "strata must be"),
    (dict(strata=torch.tensor([0.0, 1.0]), batch_size=2), ValueError,
     "strata must be"),
    (dict(strata=STRATA, batch_size=2), ValueError, "batch_size must be an int"),
    (dict(strata=STRATA, batch_size=13), ValueError, "batch_size must be an int"),
    (dict(strata=STRATA, batch_size=6, allocation="neyman"), ValueError, "stds must"),
    (dict(strata=STRATA, batch_size=6, stds=[1.0, 1, 1]), ValueError, "stds must be"),
    (dict(strata=STRATA, batch_size=6, allocation="equal"), ValueError, "allocation"),
    (dict(strata=STRATA, batch_size=6, allocation=[1, 4, 1]), ValueError, "N_k"),
    (dict(strata=STRATA, batch_size=6, allocation=[2, 2, 1]), ValueError, "summing"),
    (dict(strata=STRATA, batch_size=6, num_batches=0), ValueError, "num_batches"),
    (dict(strata=STRATA, batch_size=6, allocation=None), TypeError,
     re.escape("allocation must be 'proportional', 'neyman' or 3 ints with 1 <= n_k "
               "<= N_k = [6, 3, 3] summing to batch_size=6; got None")),
    (dict(strata=STRATA, batch_size=6, allocation=["a", "b", "c"]), TypeError,
     r"allocation must be .*; got \['a', 'b', 'c'\]"),
    (dict(strata=STRATA, batch_size=6, allocation=[True, True, True]), TypeError,
     r"allocation must be .*; got \[True, True, True\]"),
])
def test_stratified_errors(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        StratifiedSampler(**kwargs, device=CPU)


def test_stratified_estimate_checks_shape():
    s = StratifiedSampler(STRATA, 6, device=CPU)
    with pytest.raises(ValueError, match="first dimension 6"):
        s.estimate(torch.zeros(5))
    # integer values used to be cast with the weights to int: an estimate of 0
    with pytest.raises(TypeError, match=re.escape(
            "values must be a floating torch.Tensor (the weights are fractions); "
            "got dtype torch.int64")):
        s.estimate(torch.ones(6, dtype=torch.int64))


# --------------------------------------------------------------- TensorBatches

def _data(n=23, d=3):
    X = torch.arange(n * d, dtype=torch.float64).reshape(n, d)
    y = torch.arange(n)
    return X, y


def test_tensor_batches_match_the_sampler_permutation():
    X, y = _data()
    it = TensorBatches(X, y, batch_size=5, seed=7, device=CPU)
    ref = EpochSampler(23, 5, seed=7, device=CPU)
    for _ in range(3):  # several epochs
        got = list(it)
        want = list(ref)
        assert len(got) == len(want) == len(it) == 5
        for (xb, yb), idx in zip(got, want):
            assert torch.equal(yb, idx) and torch.equal(xb, X[idx])


def test_tensor_batches_deterministic_epochs_differ_and_drop_last():
    X, y = _data()
    a = TensorBatches(X, y, batch_size=5, seed=1, drop_last=True, device=CPU)
    b = TensorBatches(X, y, batch_size=5, seed=1, drop_last=True, device=CPU)
    e1 = torch.cat([yb for _, yb in a])
    assert torch.equal(e1, torch.cat([yb for _, yb in b]))
    assert not torch.equal(e1, torch.cat([yb for _, yb in a]))
    assert len(a) == 4 and e1.numel() == 20 and e1.unique().numel() == 20


def test_tensor_batches_yields_views_of_one_gathered_copy():
    X, y = _data()
    batches = list(TensorBatches(X, y, batch_size=5, seed=0, device=CPU))
    base = batches[0][0].untyped_storage().data_ptr()
    assert all(xb.untyped_storage().data_ptr() == base for xb, _ in batches)
    assert base != X.untyped_storage().data_ptr()  # a shuffled copy, X untouched
    unshuffled = next(iter(TensorBatches(X, batch_size=5, shuffle=False, device=CPU)))
    assert unshuffled[0].data_ptr() == X.data_ptr()  # a view of X itself


def test_tensor_batches_many_tensors_and_custom_sampler():
    X, y = _data(12)
    z = torch.randn(12, 2, 2, generator=torch.Generator().manual_seed(0))
    it = TensorBatches(X, y, z, sampler=ReplacementSampler(12, 4, seed=0, device=CPU))
    ref = ReplacementSampler(12, 4, seed=0, device=CPU)
    for (xb, yb, zb), idx in zip(it, ref):
        assert torch.equal(yb, idx) and torch.equal(xb, X[idx])
        assert torch.equal(zb, z[idx])
    strat = StratifiedSampler(STRATA, 6, seed=0, device=CPU)
    (xb, yb), = itertools.islice(TensorBatches(X, y, sampler=strat), 1)
    assert STRATA[yb].tolist() == [0, 0, 0, 2, 2, 5]


def test_tensor_batches_device_argument():
    X, y = _data()
    it = TensorBatches(X, y, batch_size=4, seed=0, device=torch.device("cpu"))
    assert it.device.type == "cpu"
    assert all(t.device.type == "cpu" for t in next(iter(it)))


@pytest.mark.parametrize("args,kwargs,exc,msg", [
    ((), dict(batch_size=2), ValueError, "at least one tensor"),
    (([1, 2],), dict(batch_size=2), TypeError, r"tensors\[0\] must be a torch.Tensor"),
    ((torch.zeros(3), torch.zeros(4)), dict(batch_size=2), ValueError, "same first"),
    ((torch.tensor(1.0),), dict(batch_size=1), ValueError, "first .example. dim"),
    ((torch.zeros(3),), dict(batch_size=4), ValueError, "batch_size must be an int"),
    ((torch.zeros(3),), dict(batch_size=0), ValueError, "batch_size must be an int"),
    ((torch.zeros(3),), dict(batch_size=2.0), TypeError, "batch_size must be an int"),
    ((torch.zeros(3),), dict(), ValueError, "batch_size must be an int"),
    ((torch.zeros(3),), dict(sampler=object()), TypeError, "sampler must be"),
    ((torch.zeros(3),), dict(batch_size=2, sampler=EpochSampler(3, 2, device=CPU)),
     ValueError, "batch_size must be None"),
    ((torch.zeros(3),), dict(sampler=EpochSampler(4, 2, device=CPU)), ValueError,
     "N = 3"),
    ((torch.zeros(3),), dict(batch_size=2, seed=-1), ValueError, "seed must be"),
    ((torch.zeros(3),), dict(batch_size=2, shuffle=1), TypeError, "shuffle must be"),
    # with a sampler these used to be ignored without a word
    ((torch.zeros(3),), dict(sampler=EpochSampler(3, 2, device=CPU), shuffle=False),
     ValueError, "shuffle must be True when a sampler is given .the sampler sets "
     "it.; got False"),
    ((torch.zeros(3),), dict(sampler=EpochSampler(3, 2, device=CPU), drop_last=True),
     ValueError, "drop_last must be False when a sampler is given"),
    ((torch.zeros(3),), dict(sampler=EpochSampler(3, 2, device=CPU), seed=0),
     ValueError, "seed must be None when a sampler is given .the sampler sets it.; "
     "got 0"),
])
def test_tensor_batches_errors(args, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        TensorBatches(*args, **kwargs)
